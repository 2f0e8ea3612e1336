"""Speech commands: KeywordNet (net.py), the task, predictor and scan (task.py), and its
evaluations: leave one speaker out (loso.py) and teaching your own words (teach_eval.py)."""
