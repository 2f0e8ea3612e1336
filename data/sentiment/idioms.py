"""Sentences whose polarity is in a phrase, not in any one word.

Reviews say "no complaints", "went above and beyond" or "I expected a lot more": no word there is
positive or negative on its own (VADER's lexicon scores "complaints" negative), and film criticism,
which the model mostly reads, rarely says them. These banks of everyday review phrases, negated
negatives, hedges and plain facts about products ("the battery easily lasts two days") are put into the
same products, restaurants and shops as data.sentiment.lexicon's sentences, alone, after a
contrast, or with a verdict tail. Generated, seeded, training only; off in the shipped recipe
(models.sentiment.task's idiom_sentences is 0: README, "Idioms, tried and left off").

Written after data/sentiment/phrasings.tsv's round 2 and kept apart from it: none of round 2's
phrases is here, so round 2 measures whether the network learnt the habit rather than the phrases.
Round 1's failures are here in other words ("can't recommend it enough" for "I can't say enough
good things"), which is how that file says a failure gets fixed.
"""
from __future__ import annotations

import random

POSITIVE = [
    "went above and beyond", "went the extra mile", "hands down the best {thing} i have had",
    "blew me away", "more than makes up for it", "no complaints", "no complaints so far",
    "never had a single problem", "not a single issue", "zero issues", "no issues whatsoever",
    "can't fault it", "can't recommend it enough", "i keep coming back", "made my day",
    "i would go back in a heartbeat", "a keeper", "best money i ever spent", "second to none",
    "spot on", "hard to beat", "you can't go wrong with it",
    "i was pleasantly surprised", "even better than the photos", "can't wait to go back",
    "came through for me", "saved the day", "the real deal", "would not change a thing",
    "a must have", "ticks every box", "i'm impressed", "worth it",
    "i'd buy it again in a heartbeat", "never lets me down",
    "they fixed it right away", "they sorted it out on the first call", "the staff could not have been more helpful",
    "i keep recommending it to friends", "it does everything i need", "i use it every single day",
    "nothing went wrong", "all good", "exactly what i needed",
]
NEGATIVE = [
    "i will never come back", "i won't be back", "i expected better", "i expected more from them",
    "pretty meh overall", "i'd give it zero stars", "save your money", "avoid at all costs",
    "not worth it", "not worth the price", "overpriced", "it came apart in my hands",
    "daylight robbery", "missed the mark", "left a lot to be desired", "not up to par",
    "overhyped", "mediocre at best", "i want a refund", "stay away", "what a mess",
    "it died after a month", "nothing works", "i gave up on it", "i regret buying it",
    "it broke on day one", "they lost my order", "no answer after a week", "it never showed up",
    "it took forever", "it keeps crashing", "left a bad taste in my mouth",
    "not as described", "cheaply made", "could be better", "just average", "so-so", "bland",
    "i wouldn't go back", "never going back", "i had to call five times", "it doesn't even turn on",
    "i'm done with this company",
]
# facts about things that are good or bad news without a judging word: "lasts" is praise for a battery
ASPECT_POSITIVE = ["the battery easily lasts two days", "it arrived a day early", "the kitchen was spotless",
                   "the mattress was comfy", "it charges in half an hour", "the food came out hot and fast",
                   "the portions were huge", "it still works after five years", "my money was back within two days",
                   "it was ready to use out of the box", "it fits perfectly", "the staff remembered our names"]
ASPECT_NEGATIVE = ["the battery is flat by lunch", "it arrived two weeks late", "the room smelled of smoke",
                   "the sheets were stained", "it takes all night to charge", "the food came out cold",
                   "the portions were tiny", "it stopped charging after a month", "the refund never came",
                   "setup took three hours", "it doesn't fit", "forty minutes for a coffee"]
THINGS = ["phone", "battery", "laptop", "app", "food", "pizza", "coffee", "service", "staff", "hotel",
          "room", "delivery", "order", "seller", "store", "car", "headphones", "restaurant", "support team"]
OPENERS = ["", "", "", "honestly , ", "well , ", "overall , ", "to be honest , ", "i have to say , "]
TEMPLATES = ["{phrase}", "{phrase} .", "the {thing} ? {phrase}", "{phrase} , {fact}", "{fact} , {phrase}",
             "the {thing} : {phrase}", "{phrase} !", "{fact} . {phrase}"]
# the clause after "but" decides
CONTRAST = ["{other} , but {phrase}", "{other_fact} , but {phrase}", "the {thing} is {other_word} but {phrase}"]
OTHER_WORD = {True: ["slow", "pricey", "noisy", "ugly", "small", "late"],
              False: ["pretty", "cheap", "fast", "friendly", "nice", "cute"]}


def sentences(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """n sentences and their targets (0 negative, 1 positive), balanced."""
    rng = random.Random(seed)
    texts, targets = [], []
    for i in range(n):
        positive = i % 2 == 0
        phrases, facts = (POSITIVE, ASPECT_POSITIVE) if positive else (NEGATIVE, ASPECT_NEGATIVE)
        others, other_facts = (NEGATIVE, ASPECT_NEGATIVE) if positive else (POSITIVE, ASPECT_POSITIVE)
        template = rng.choice(CONTRAST if rng.random() < 0.2 else TEMPLATES)
        thing = rng.choice(THINGS)
        phrase = rng.choice(phrases + facts).format(thing=thing)
        text = rng.choice(OPENERS) + template.format(
            phrase=phrase, fact=rng.choice(facts), thing=thing, other=rng.choice(others).format(thing=thing),
            other_fact=rng.choice(other_facts), other_word=rng.choice(OTHER_WORD[positive]))
        texts.append(text)
        targets.append(int(positive))
    return texts, targets
