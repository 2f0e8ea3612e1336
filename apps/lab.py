"""The Backprop Lab: backpropagation itself, step by step, with every number shown."""
import streamlit as st

from apps.components.common import page_setup
from apps.components.lab_claims_ui import claims
from apps.components.lab_experiments_ui import experiments
from apps.components.lab_hand_ui import hand_step

page_setup("Backprop Lab", ":material/science:")
st.title(":material/science: Backprop Lab")
st.caption("What the four apps rely on: forward pass, error, backward pass, weight update, and the "
           "experiments that show why learning rates, initialisation and gradient flow matter. "
           "Every control is kept in the page's address: copy it to share a set-up.")

HAND, EXPERIMENTS, CLAIMS = "One training step by hand", "Experiments", "Claims put to the test"
section = st.segmented_control("Section", [HAND, EXPERIMENTS, CLAIMS], default=HAND, key="section",
                               bind="query-params", required=True, label_visibility="collapsed")
if section == HAND:
    hand_step()
elif section == EXPERIMENTS:
    experiments()
else:
    claims()
