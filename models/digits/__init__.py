"""Digits: LeNet-5 (net.py) and the task that trains and serves it (task.py)."""
