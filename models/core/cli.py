"""What the commands share in reading their options: a whole number within bounds, refused by
argparse with the option's name ("argument --threads: 0 is below 1") rather than a traceback from
deep inside torch or random.sample."""
from __future__ import annotations

import argparse


def whole(low: int, high: int | None = None):
    """An argparse `type` for a whole number from low to high (no upper bound when None)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is " + (f"below {low}" if value < low else f"above {high:,}"))
        return value
    parse.__name__ = "whole number"
    return parse


THREADS = whole(1, 1024)
SEED = whole(0, 2**63 - 1)
