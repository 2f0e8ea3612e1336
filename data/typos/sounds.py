"""Candidates that sound like what was typed: a phonetic key index.

Poor spellers write what they hear: "fotograf", "nollij", "acomodashun". Those are
three or more edits from the word, out of reach of any edit-distance search, but
their Metaphone code (a key of the consonant sounds: "fotograf" and "photograph"
are both FTKRF) is the word's own or one edit from it. A second key, the word's
consonants, finds "bisnes" for business. The index maps every vocabulary word's
keys to the words; a lookup gathers the words whose key is within one edit of the
typo's (exactly equal for short keys, which hundreds of words share) and keeps the few closest in letters, the commoner first.

Measured on codespell's misspellings three or more edits away (none within the
reach of a two-edit search): Metaphone alone put the word among 6 candidates for
56% of them, both keys among 10 for 68%.

Metaphone (Lawrence Philips, 1990) through jellyfish (MIT, compiled): about 0.4 µs a word.
"""
from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass
from itertools import chain

import jellyfish
from editdistpy import damerau_osa, levenshtein

FAR = 99              # distance cap for the edit distances: any distance counts
MAX_POOL = 300        # words per key whose letters are compared, at most (common keys are shared by hundreds)
LENGTH_SLACK = 4      # letters longer or shorter than the typo, at most


def sound_key(word: str) -> str:
    return jellyfish.metaphone(word)


def sound_keys(word: str) -> set[str]:
    """A vocabulary word's keys: Metaphone's, and for a final "gh" that may sound as f
    (enough, tough, laugh; Metaphone hears it silent, as in though) that reading's too."""
    keys = {sound_key(word)}
    if word.endswith("gh"):
        keys.add(sound_key(word[:-2] + "f"))
    return keys


def consonant_key(word: str) -> str:
    """The first letter and the consonants after it, doubles written once: "bisnes" and
    "business" are both bsns. Catches what Metaphone's sounds miss (scrambled vowels,
    a letter swapped across a syllable)."""
    if not word:
        return ""
    squeezed = re.sub(r"(.)\1+", r"\1", word)
    return squeezed[0] + re.sub(r"[aeiouyhw]", "", squeezed[1:])


# each key, and the longest of its keys that must match exactly: a short key is shared by
# hundreds of words, and its neighbours by thousands. (3, 4) found the word for 68% of the hard
# split's typos at 230 µs a lookup; (2, 2) for 66% at twice the time, (4, 4) for 66% at half.
KEYS = {"sound": (sound_key, sound_keys, 3), "consonants": (consonant_key, lambda w: {consonant_key(w)}, 4)}


def key_deletes(key: str) -> set[str]:
    return {key} | {key[:i] + key[i + 1:] for i in range(len(key))}


@dataclass
class SoundMatch:
    words: list[str]
    distances: list[int]      # letter edits (optimal string alignment) from the typo
    keys: list[str]           # which key found each: "sound" or "consonants"


class _KeyIndex:
    """key -> words (commonest first); keys of up to `short` letters match exactly,
    longer ones within one edit (symmetric deletes of the keys)."""

    def __init__(self, counts: dict[str, int], key, keys, short: int):
        by_key: dict[str, list[str]] = {}
        for w in counts:                       # counts come commonest first: so do the lists
            for k in keys(w):
                by_key.setdefault(k, []).append(w)
        near: dict[str, list[str]] = {}
        for k in by_key:
            if len(k) > short:
                for d in key_deletes(k):
                    near.setdefault(d, []).append(k)
        self.key, self.short, self.by_key, self.near = key, short, by_key, near

    def pool(self, typo: str) -> list[str]:
        k = self.key(typo)
        keys = ({k} if k in self.by_key else set()) if len(k) <= self.short else \
            set(chain.from_iterable(self.near.get(d, ()) for d in key_deletes(k)))
        n = len(typo)
        return [w for k in keys for w in self.by_key[k][:MAX_POOL] if abs(len(w) - n) <= LENGTH_SLACK]


class SoundIndex:
    """word counts -> the words that sound like a typo (its Metaphone key) or share its
    consonants (consonant_key), the closest in letters first."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        self.bonus = {w: math.log(c + 1) / 60 for w, c in counts.items()}   # commoner words first on near-ties
        self.indexes = {name: _KeyIndex(counts, *how) for name, how in KEYS.items()}

    def lookup(self, typo: str, n: int = 10, exclude: frozenset[str] | set[str] = frozenset()) -> SoundMatch:
        """The n words found by either key that are closest to typo: Levenshtein distance
        over the longer length, less a little for common words. `exclude`: words already
        found by the edit search."""
        if not typo:
            return SoundMatch([], [], [])
        found: dict[str, str] = {}
        for name, index in self.indexes.items():
            for w in index.pool(typo):
                if w not in exclude:
                    found.setdefault(w, name)
        lev, n_typo, bonus = levenshtein.distance, len(typo), self.bonus
        reach = max(4, n_typo)                # further than that, the letters have nothing in common
        best = heapq.nsmallest(n, ((d / max(n_typo, len(w)) - bonus[w], w) for w in found
                                   if (d := lev(typo, w, reach)) >= 0))
        words = [w for _, w in best]
        return SoundMatch(words, [damerau_osa.distance(typo, w, FAR) for w in words], [found[w] for w in words])
