"""The Lab's claims about what backprop trains on: dropout's masks, no labels at all, and
how much data. (Filled in by issue 16.)"""
from __future__ import annotations

import streamlit as st


def dropout() -> None:
    st.info("Not built yet.")


def autoencoder() -> None:
    st.info("Not built yet.")


def data_size() -> None:
    st.info("Not built yet.")
