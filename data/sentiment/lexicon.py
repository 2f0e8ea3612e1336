"""Short labelled sentences made from VADER's lexicon, beyond movie reviews.

SST-2 and rt-polarity are film criticism only: there "lasts forever" is a
complaint and nobody buys anything. These sentences put the lexicon's clearly
positive and negative words (|valence| >= 1.5 of 4) and emoji into the
products, restaurants, shops, hotels and apps people also write about, with
negations that flip them, so that the network learns that "I love this phone"
or "rude staff, never again" mean the same anywhere. Generated, seeded, and
used for training only: every figure is measured on SST-2 and rt-polarity.
"""
from __future__ import annotations

import random

from data.sentiment.text import lexicon

THINGS = ["phone", "battery", "screen", "laptop", "app", "update", "food", "pizza", "pasta", "coffee", "service",
          "staff", "waiter", "hotel", "room", "delivery", "product", "order", "price", "seller", "store", "car",
          "book", "game", "song", "show", "headphones", "shoes", "restaurant", "flight", "support team", "course"]
OPENERS = ["", "", "honestly ", "wow , ", "overall ", "well , ", "i have to say "]
POSITIVE_TAILS = ["would buy again", "highly recommend", "five stars", "will be back", "worth every penny",
                  "exceeded my expectations", "works perfectly", "arrived early"]
NEGATIVE_TAILS = ["never again", "waste of money", "one star", "returned it", "stopped working after a week",
                  "do not buy", "asked for a refund", "arrived broken"]
TEMPLATES = ["the {thing} is {word}", "{word} {thing}", "this {thing} is so {word}", "what a {word} {thing}",
             "the {thing} was {word} , {tail}", "i found the {thing} {word}", "{word} ! {tail}",
             "{tail} . the {thing} is {word}"]
# the clause after "but" decides: the word's polarity wins over the other one
CONTRAST = ["i expected the {thing} to be {other} , but it is {word}", "{other} at first , but now the {thing} is {word}",
            "the {thing} looks {other} but it is {word}", "i thought i would find it {other} , but it was {word}"]
NEGATED = ["the {thing} is not {word}", "not {word} at all", "the {thing} was n't {word}", "never {word}"]


def _words(min_valence: float = 1.5, common=None) -> tuple[list[str], list[str], list[str], list[str]]:
    lex = lexicon()
    words = [w for w in lex if w.isalpha() and len(w) > 2 and (common is None or w in common)]
    emoji = [w for w in lex if len(w) == 1 and not w.isascii()]
    pos = [w for w in words if lex[w] * 4 >= min_valence]
    neg = [w for w in words if lex[w] * 4 <= -min_valence]
    return pos, neg, [e for e in emoji if lex[e] * 4 >= 1.0], [e for e in emoji if lex[e] * 4 <= -1.0]


def sentences(n: int = 3000, seed: int = 0, common=None) -> tuple[list[str], list[int]]:
    """n sentences and their targets (0 negative, 1 positive), balanced; `common`: the
    words to draw from (e.g. the most frequent English words), else the whole lexicon."""
    rng = random.Random(seed)
    pos, neg, pos_emoji, neg_emoji = _words(common=common)
    texts, targets = [], []
    for i in range(n):
        positive = i % 2 == 0
        word = rng.choice(pos if positive else neg)
        negate, contrast = rng.random() < 0.2, rng.random() < 0.15
        template = rng.choice(NEGATED if negate else CONTRAST if contrast else TEMPLATES)
        tail = rng.choice(POSITIVE_TAILS if positive else NEGATIVE_TAILS)
        other = rng.choice(neg if positive else pos)
        text = rng.choice(OPENERS) + template.format(thing=rng.choice(THINGS), word=word, tail=tail, other=other)
        if not negate and rng.random() < 0.25:
            text += " " + rng.choice(pos_emoji if positive else neg_emoji) * rng.randint(1, 3)
        texts.append(text)
        targets.append(int(positive) ^ int(negate))
    return texts, targets
