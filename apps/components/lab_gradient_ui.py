"""The Lab's claims about the gradient itself: its cost, the landscape it descends, and
activations without a slope. (Filled in by issue 16.)"""
from __future__ import annotations

import streamlit as st


def cost() -> None:
    st.info("Not built yet.")


def landscape() -> None:
    st.info("Not built yet.")


def step_activation() -> None:
    st.info("Not built yet.")
