"""Digits: MNIST, a drawing or photo turned into an MNIST-like image, and the augmentation."""
