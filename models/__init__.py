"""Networks, the common trainer, the predictor API and the shipped weights. Never imports Streamlit.

The public API:

    from models import load_predictor, get_task
    p = load_predictor("digits")         # the shipped model; load_predictor("digits", "runs/mine") for yours
    p.predict([image])                   # [{"label": "7", "score": 0.998, "top": [...]}]

models/core/ holds what every task shares (the one trainer, checkpoints, the predictor, the
registry); models/<task>/ holds a task's network (net.py), its task (task.py) and its evaluations.
"""
import os

# Before torch loads OpenMP: spinning worker threads make torch many times slower
# whenever another process holds a core, as on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from models.core.registry import TASK_MODULES, get_task, load_predictor  # noqa: E402  (after the variable)

__all__ = ["TASK_MODULES", "get_task", "load_predictor"]
