"""Networks, the common trainer, the predictor API and the shipped weights. Never imports Streamlit."""
import os

# Before torch loads OpenMP: spinning worker threads make torch many times slower
# whenever another process holds a core, as on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
