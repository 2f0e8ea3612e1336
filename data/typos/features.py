"""What the Typos network reads for one typed word: its candidate corrections
and, for each (typo, candidate) pair, the characters of both, the edit
operations that turn one into the other, and how common the candidate is.

Candidates come from two searches: a classic edit-distance index (the symmetric
delete algorithm of symspellpy, up to two edits) and a phonetic key index (words
that sound like the typo, however many edits away: data/typos/sounds.py).
Choosing among them is the network's job.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from editdistpy import damerau_osa, levenshtein

from data.typos.deletes import DeleteTable, deletes
from data.typos.sounds import SoundIndex, sound_key

MAX_LEN = 20          # characters kept per word
MAX_CANDIDATES = 16   # candidates from the edit search scored per typed word
SOUND_CANDIDATES = 10 # and at most this many more that sound or are spelt alike (sounds.py)
OP_BUCKETS = 4096     # hashed edit-operation vocabulary
N_NUMERIC = 10
ALPHABET = "abcdefghijklmnopqrstuvwxyz'-àáâãäåæçèéêëìíîïñòóôõöøœùúûüýÿß"
CHAR_INDEX = {c: i + 2 for i, c in enumerate(ALPHABET)}   # 0 pad, 1 unknown
N_CHARS = len(ALPHABET) + 2


def encode_chars(word: str) -> list[int]:
    return [CHAR_INDEX.get(c, 1) for c in word[:MAX_LEN]]


@lru_cache(maxsize=200_000)
def char_row(word: str) -> tuple[int, ...]:
    """A word's characters padded to MAX_LEN: cached, as the same candidates recur in every batch."""
    ids = encode_chars(word)
    return tuple(ids + [0] * (MAX_LEN - len(ids)))


def edit_ops(typo: str, cand: str) -> list[str]:
    """The operations of an optimal Damerau–Levenshtein alignment, each with a
    letter of context: what the network learns a channel model from (which
    slips people make: 'd' typed as its neighbour 's', a dropped 'e', …)."""
    # a common prefix and suffix are always matched: align only the middle (fast)
    n, m = len(typo), len(cand)
    p = 0
    while p < n and p < m and typo[p] == cand[p]:
        p += 1
    q = 0
    while q < n - p and q < m - p and typo[n - 1 - q] == cand[m - 1 - q]:
        q += 1
    a, b = typo[p:n - q], cand[p:m - q]
    n, m = len(a), len(b)
    if n + m == 1 or n == m == 1:
        # a single slip (most candidates): its operation without the alignment table
        prev = cand[p - 1] if p > 0 else "^"
        if m == 0:
            return [f"extra:{a}", f"extractx:{prev}{a}"]
        if n == 0:
            nxt = cand[p + 1] if p + 1 < len(cand) else "$"
            return [f"drop:{b}", f"dropctx:{prev}{b}{nxt}"]
        return [f"sub:{b}>{a}", f"subctx:{prev}{b}>{a}"]
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, d[i - 2][j - 2] + 1)
            d[i][j] = best
    full_b = cand
    ops, i, j = [], n, m
    while i > 0 or j > 0:
        jj = j + p                                   # position in the whole candidate
        prev = full_b[jj - 2] if jj > 1 else "^"
        if i > 0 and j > 0 and a[i - 1] == b[j - 1] and d[i][j] == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
            continue
        if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1] and d[i][j] == d[i - 2][j - 2] + 1:
            ops.append(f"swap:{b[j - 2]}{b[j - 1]}")
            i, j = i - 2, j - 2
        elif i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + 1:
            ops.append(f"sub:{b[j - 1]}>{a[i - 1]}")
            ops.append(f"subctx:{prev}{b[j - 1]}>{a[i - 1]}")
            i, j = i - 1, j - 1
        elif j > 0 and d[i][j] == d[i][j - 1] + 1:
            # the candidate's letter is missing from what was typed
            nxt = full_b[jj] if jj < len(full_b) else "$"
            ops.append(f"drop:{b[j - 1]}")
            ops.append(f"dropctx:{prev}{b[j - 1]}{nxt}")
            j -= 1
        else:
            # an extra letter was typed
            ii = i + p
            before = typo[ii - 2] if ii > 1 else "^"
            ops.append(f"extra:{a[i - 1]}")
            ops.append(f"extractx:{before}{a[i - 1]}")
            i -= 1
    return ops or ["same"]


def far_ops(typo: str, cand: str) -> list[str]:
    """For a candidate three or more edits away, found by its sound: which letters the
    typo lacks and which it adds, without an alignment (the alignment in Python was the
    slowest part of correcting such words, and says little when half the letters differ)."""
    a, b = set(typo), set(cand)
    return [f"far:{max(-3, min(3, len(cand) - len(typo)))}", *(f"lacks:{c}" for c in sorted(b - a)),
            *(f"adds:{c}" for c in sorted(a - b))]


@lru_cache(maxsize=500_000)
def pair_ops(typo: str, cand: str, far: bool = False) -> tuple[int, ...]:
    return tuple(op_ids(far_ops(typo, cand) if far else edit_ops(typo, cand)))


def op_ids(ops: list[str]) -> list[int]:
    return [_op_id(op) for op in ops]


@lru_cache(maxsize=100_000)
def _op_id(op: str) -> int:
    # a stable hash (Python's hash() is salted per process)
    h = 2166136261
    for ch in op.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h % (OP_BUCKETS - 1) + 1


@dataclass
class Candidates:
    words: list[str]
    distances: list[int]
    sources: list[str]        # per word: "edits" (the edit search's), "sound" or "consonants" (sounds.py keys)


@lru_cache(maxsize=200_000)
def cached_key(word: str) -> str:
    return sound_key(word)


def key_distance(typo: str, cand: str) -> int:
    """Edits between the two words' phonetic keys, at most 3: 0 means they sound alike."""
    d = levenshtein.distance(cached_key(typo), cached_key(cand), 3)
    return 3 if d < 0 else d


class CandidateIndex:
    """Known words within two edits of what was typed (plus the word itself when
    it is known), the closest and most common first; then, unless a common word is
    a single slip away, up to SOUND_CANDIDATES more that sound or are spelt like it
    (SoundIndex), however far in letters.

    The symmetric delete algorithm (as symspellpy): a word and a typo within n
    edits share a string made by deleting at most n characters from each, so the
    index maps every such deletion of a word's first PREFIX letters to the word.
    A lookup gathers the words under the typo's own deletions and keeps those
    whose true (optimal string alignment) distance is within reach. Same
    candidates as symspellpy's lookup, three times faster: its per-lookup
    Python overhead was most of the corrector's time."""

    PREFIX = 7
    COMMON = 1_000_000      # count of about the 20,000th commonest English word

    def __init__(self, counts: dict[str, int], max_distance: int = 2):
        self.counts = counts
        self.total = float(sum(counts.values())) or 1.0
        self.max_distance = max_distance
        self.table = DeleteTable(list(counts), lambda w: deletes(w[:self.PREFIX], max_distance))
        self.sounds = SoundIndex(counts)
        self.lookup = lru_cache(maxsize=200_000)(self._lookup)

    def _lookup(self, word: str) -> Candidates:
        # short words have hundreds of neighbours two edits away, and people's slips in
        # them are single edits: one edit is enough there, and far faster
        reach = 1 if len(word) <= 4 else self.max_distance
        pool = self.table.pool(deletes(word[:self.PREFIX], reach))
        n, distance, counts = len(word), damerau_osa.distance, self.counts
        found = [(k, -counts[w], w) for w in pool
                 if abs(len(w) - n) <= reach and (k := distance(word, w, reach)) >= 0]
        found.sort()
        best = found[:MAX_CANDIDATES]
        words, dists = [w for _, _, w in best], [k for k, _, _ in best]
        if any(k == 1 and counts[w] >= self.COMMON for k, w in zip(dists, words)):
            # a common word one slip away: what was typed is hardly a phonetic spelling. Skipping
            # the sound search then (65% of ordinary errors) keeps the search fast; always
            # searching would find the word 0.4 points more often on the hard split
            return Candidates(words, dists, ["edits"] * len(words))
        sound = self.sounds.lookup(word, SOUND_CANDIDATES, exclude=set(words))
        return Candidates(words + sound.words, dists + sound.distances,
                          ["edits"] * len(words) + sound.keys)

    def log_freq(self, word: str) -> float:
        return math.log((self.counts.get(word, 0) + 1) / self.total)


def pair_features(typo: str, cand: str, dist: int, index: CandidateIndex, n_cands: int,
                  source: str = "edits") -> list[float]:
    lf = index.log_freq(cand)
    return [(lf + 20.0) / 10.0, min(dist, 6) / 2.0, float(dist == 0), (len(cand) - len(typo)) / 4.0,
            float(cand[:1] == typo[:1]), float(cand[-1:] == typo[-1:]), math.log(n_cands + 1) / 3.0,
            float(source == "sound") - float(source == "consonants"), key_distance(typo, cand) / 3.0, dist / max(len(typo), 1)]


@dataclass
class Batch:
    typo: torch.Tensor      # B×L   characters of what was typed
    cand: torch.Tensor      # B×K×L characters of each candidate
    ops: torch.Tensor       # B×K×E hashed edit operations (0 = padding)
    numeric: torch.Tensor   # B×K×N frequency, distance, …
    mask: torch.Tensor      # B×K   True where a candidate exists


def _pad(rows: list[list[int]], length: int) -> list[int]:
    return rows + [0] * (length - len(rows))


def featurize(typos: list[str], cands: list[Candidates], index: CandidateIndex) -> tuple:
    """Plain nested lists for a batch of words: (typo ids, cand ids, op ids, numeric, mask)."""
    B = len(typos)
    K = max(1, max((len(c.words) for c in cands), default=1))
    t_ids = [char_row(t) for t in typos]
    c_ids, o_ids, num, mask = [], [], [], []
    max_ops = 1
    per_word_ops = []
    for t, c in zip(typos, cands):
        ops = [list(pair_ops(t, w, d > 2)) for w, d in zip(c.words, c.distances)]
        max_ops = max([max_ops, *map(len, ops)])
        per_word_ops.append(ops)
    for t, c, ops in zip(typos, cands, per_word_ops):
        n = len(c.words)
        c_ids.append([char_row(w) for w in c.words] + [(0,) * MAX_LEN] * (K - n))
        o_ids.append([_pad(o, max_ops) for o in ops] + [[0] * max_ops] * (K - n))
        num.append([pair_features(t, w, d, index, n, s) for w, d, s in zip(c.words, c.distances, c.sources)]
                   + [[0.0] * N_NUMERIC] * (K - n))
        mask.append([True] * n + [False] * (K - n))
    return t_ids, c_ids, o_ids, num, mask, B


def to_batch(parts: tuple) -> Batch:
    t_ids, c_ids, o_ids, num, mask, _ = parts
    # through numpy: torch.tensor on nested lists is several times slower
    return Batch(*(torch.from_numpy(np.array(a, dtype=t)) for a, t in
                   ((t_ids, np.int64), (c_ids, np.int64), (o_ids, np.int64), (num, np.float32), (mask, bool))))
