"""What the words around a typo say: English word-pair counts, and the real-word
errors people make ("I red the book", "a peace of cake", "form the start").

The counts are symspellpy's (MIT): 242,342 word pairs and 82,765 words from the
Google Books n-grams, read from the installed package. Pairs below 6.4 million
occurrences were cut from that list, so a missing pair is rare, not impossible.
"""
from __future__ import annotations

import gzip
import hashlib
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from data.core.errors import DatasetMissing
from data.core.root import find
from data.typos.spelling import _package_file, english_counts

# Sets of words people write for one another: homophones and near-homophones that a
# dictionary look-up never flags. An apostrophe'd form is scored as the two words it
# stands for (CONTRACTIONS).
CONFUSIONS = [
    "their there they're", "your you're", "its it's", "whose who's", "to too", "then than",
    "affect effect", "lose loose", "peace piece", "red read", "form from", "of off", "were where",
    "weather whether", "accept except", "quiet quite", "advice advise", "breath breathe", "brake break",
    "principal principle", "complement compliment", "desert dessert", "hear here", "new knew",
    "right write", "whole hole", "week weak", "buy by", "passed past", "plain plane", "sea see",
    "tail tale", "threw through", "waist waste", "wait weight", "which witch", "wood would", "meet meat",
    "flour flower", "hour our", "lead led", "made maid", "pair pear", "role roll", "sight site",
    "steal steel", "board bored", "for four", "lessen lesson", "morning mourning", "allowed aloud",
    "bare bear", "blew blue", "course coarse", "dear deer", "great grate", "heard herd", "knight night",
    "knot not", "mail male", "one won", "poor pour", "pray prey", "rain reign", "rode road", "sale sail",
    "scene seen", "sole soul", "some sum", "stair stare", "stationary stationery", "tide tied",
    "vain vein", "wander wonder", "way weigh", "later latter", "chose choose", "dose does",
    "thorough through", "cite sight", "personal personnel", "loose lose", "ensure insure",
    "cloths clothes", "moral morale", "device devise", "bread bred", "died dyed",
]
CONTRACTIONS = {"they're": ("they", "are"), "you're": ("you", "are"), "it's": ("it", "is"),
                "who's": ("who", "is")}


def confusion_sets() -> dict[str, tuple[str, ...]]:
    """word -> the words it is confused with (single words only)."""
    out: dict[str, set[str]] = {}
    for line in CONFUSIONS:
        words = line.split()
        for w in words:
            out.setdefault(w, set()).update(x for x in words if x != w)
    return {w: tuple(sorted(o)) for w, o in out.items() if o}


@dataclass
class NGramCounts:
    unigrams: dict[str, int]
    bigrams: dict[tuple[str, str], int]
    min_bigram: int
    total: int


@lru_cache(maxsize=1)
def load_counts() -> NGramCounts:
    """symspellpy's word and word-pair counts (about 1.5 s, then cached)."""
    unigrams = english_counts()
    pairs = _package_file("symspellpy", "frequency_bigramdictionary_en_243_342.txt")
    bigrams = {}
    for line in pairs.read_text(encoding="utf-8").splitlines():
        a, b, c = line.split()
        bigrams[a, b] = int(c)
    return NGramCounts(unigrams, bigrams, min(bigrams.values()), sum(unigrams.values()))


# ---- sentences with known errors, for evaluation -------------------------------------

EDITORIALS = Path("sentiment", "vader", "nyt_editorials.tsv.gz")
TOKEN = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def editorial_sentences(root=None) -> list[str]:
    """5,190 sentences of New York Times opinion pieces (the VADER study's, MIT): real,
    carefully edited English, so that nearly every word in them is right."""
    path = find(root, *EDITORIALS.parts)
    if not path.exists():
        raise DatasetMissing(f"The editorial sentences are missing: expected {path}.", what="The editorial sentences",
                             where=path, dataset="vader")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f][1:]
    return [text for _, text in rows if text.strip()]


def split_of(sentence: str) -> str:
    """'dev' or 'test', fixed by a hash of the sentence: tune on dev, report test."""
    return "dev" if hashlib.sha1(sentence.encode()).digest()[0] % 2 == 0 else "test"


@dataclass
class Injected:
    text: str                       # the sentence with its errors
    truth: list[tuple[str, str]]    # (word as written, word meant) for every word token, in order
    kinds: list[str]                # per token: "ok", "real-word" or "misspelling"


def inject_errors(sentence: str, misspellings: dict[str, list[str]], rng: random.Random,
                  rate: float = 0.12) -> Injected:
    """The sentence with some of its words replaced by a real-word confusion (their ->
    there) or a real misspelling of the word (from `misspellings`: word -> typos people
    made), each word with probability `rate` where one applies; case is kept."""
    confusions = confusion_sets()
    out, truth, kinds, last = [], [], [], 0
    for m in TOKEN.finditer(sentence):
        word = m.group(0)
        low = word.lower()
        written, kind = word, "ok"
        if rng.random() < rate:
            options = []
            if low in confusions:
                options.append(("real-word", rng.choice(confusions[low])))
            if low in misspellings:
                options.append(("misspelling", rng.choice(misspellings[low])))
            if options:
                kind, new = rng.choice(options)
                written = new.capitalize() if word[:1].isupper() else new
        out.append(sentence[last:m.start()] + written)
        last = m.end()
        truth.append((written, word))
        kinds.append(kind)
    return Injected("".join(out) + sentence[last:], truth, kinds)
