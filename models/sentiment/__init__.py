"""Sentiment: SentiNet (net.py), the task (task.py), RNN vs LSTM vs GRU through time (bptt.py)
and the evaluation beside the TF-IDF peers (eval.py)."""
