"""The Backprop Lab's maths: a step by hand (hand.py), the experiments on 2-D data
(experiments.py) and backprop through time (rnn.py), all trained by the common trainer."""
