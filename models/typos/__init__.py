"""Typos: TypoNet (net.py), the task (task.py), the classic correctors it is compared with
(baselines.py) and the evaluation beside them (eval.py)."""
