"""Parts of sentences, for a student network to learn its teachers' verdicts on.

SST's published best results come from its phrase labels: every part of every sentence
was rated, so that a network learns what "not bad" and "at all" do before it meets
them inside a long sentence. The SST-2 we have holds whole sentences only. Spans cut
at random from the training sentences, rated by an ensemble of trained networks,
stand in for those phrase labels (as in Tang et al. 2019, "Distilling task-specific
knowledge from BERT into simple neural networks"). Seeded: the same spans everywhere.
"""
from __future__ import annotations

import random
from typing import Iterable

from data.sentiment.text import tokenize


def spans(texts: Iterable[str], per_text: int = 3, min_tokens: int = 4, seed: int = 0) -> list[str]:
    """`per_text` random runs of consecutive tokens of each text of `min_tokens` tokens or more,
    2 tokens to one fewer than the whole; each span once, in the order drawn."""
    if per_text < 0 or min_tokens < 3:
        raise ValueError("per_text must be 0 or more and min_tokens 3 or more")
    rng = random.Random(seed)
    out: dict[str, None] = {}
    for text in texts:
        tokens = tokenize(text)
        n = len(tokens)
        if n < min_tokens:
            continue
        for _ in range(per_text):
            length = rng.randint(2, n - 1)
            start = rng.randint(0, n - length)
            out.setdefault(" ".join(tokens[start:start + length]))
    return list(out)
