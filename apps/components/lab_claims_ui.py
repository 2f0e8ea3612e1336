"""The Backprop Lab, section 3: claims people make about backprop, each put to a test.

Each claim is a question, real training through the common trainer where training
is involved, a plot the user reads the answer from and a sentence or two of plain
language. Controls are bound to the URL's query parameters, as in the experiments."""
from __future__ import annotations

import streamlit as st

from apps.components import lab_data_ui, lab_gradient_ui

Q = "query-params"
# Bound widgets keep their option's text in the URL, so options are plain words.
COST, LANDSCAPE, STEP = "Cost of the gradient", "Loss landscape", "Non-differentiable steps"
DROPOUT, AUTOENCODER, DATA_SIZE = "Dropout's gradients", "Without labels", "Plenty of data"
CLAIMS = {
    COST: ("“Backprop is fast and memory-efficient.”", lab_gradient_ui.cost),
    LANDSCAPE: ("“It can get stuck in local minima; the landscape is non-convex.”", lab_gradient_ui.landscape),
    STEP: ("“It won't work if the activation is not differentiable.”", lab_gradient_ui.step_activation),
    DROPOUT: ("“It computes derivatives for dropped neurons too.”", lab_data_ui.dropout),
    AUTOENCODER: ("“Backprop also trains unsupervised models.”", lab_data_ui.autoencoder),
    DATA_SIZE: ("“Feed it plenty of data.”", lab_data_ui.data_size),
}


def claims() -> None:
    claim = st.segmented_control("Claim", list(CLAIMS), default=COST, key="claim", bind=Q, required=True)
    quote, show = CLAIMS[claim]
    st.markdown(f"#### {quote}")
    show()
