"""The symmetric delete search's table, held compactly.

A word and a typo within n edits share a string made by deleting at most n
characters from each (symspell's insight), so an index maps every such deletion
of every vocabulary word to the word, and a lookup gathers the words under the
typo's own deletions. English's 82,000 words make 2 million (deletion, word)
pairs. A dict of lists held them in 103 MB and a user's list of 100,000 made-up
words added 450 MB more (every deletion a new str and a new list); here each
pair is a 32-bit word number and each distinct deletion a 64-bit hash and a
start: 19 MB for English, built in 2.7 s against 4.5, at about 40 µs more a
lookup (the corrector's whole lookup takes about 320).
"""
from __future__ import annotations

from itertools import chain
from typing import Callable, Iterable, Sequence

import numpy as np


def deletes(word: str, n: int) -> set[str]:
    """Every string made by deleting up to n characters of `word` (itself included)."""
    out, frontier = {word}, {word}
    for _ in range(n):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class DeleteTable:
    """strings -> the items they came from: `items[i]` is filed under every string of
    `strings_of(items[i])`; `pool(strings)` is the set of items filed under any of them.

    Strings are kept as Python's hash of them, which is salted per process: a table
    is built where it is used and never pickled (another process would find nothing).
    Two different strings with one 64-bit hash would put an item in a pool it does
    not belong to: about one chance in ten million for an index of a few million
    strings, and a pool only proposes: CandidateIndex keeps the words within reach
    by their true distance."""

    def __init__(self, items: Sequence[str], strings_of: Callable[[str], Iterable[str]], chunk: int = 20_000):
        self.items = np.array(list(items), dtype=object)
        hashes, owners = [np.zeros(0, np.int64)], [np.zeros(0, np.int32)]
        for start in range(0, len(self.items), chunk):   # in chunks: a list of every string at once is the dict again
            sets = [strings_of(w) for w in self.items[start:start + chunk].tolist()]
            sizes = np.fromiter(map(len, sets), np.int64, len(sets))
            hashes.append(np.fromiter(chain.from_iterable(map(hash, s) for s in sets), np.int64, int(sizes.sum())))
            owners.append(np.repeat(np.arange(start, start + len(sets), dtype=np.int32), sizes))
        hashes, owners = np.concatenate(hashes), np.concatenate(owners)
        order = np.argsort(hashes, kind="stable")
        hashes, self.owners = hashes[order], owners[order]
        first = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]]) if len(hashes) else np.zeros(0, np.int64)
        self.keys = hashes[first]                        # each distinct string's hash, sorted
        self.starts = np.r_[first, len(hashes)]          # its items are owners[starts[k]:starts[k + 1]]

    def __reduce__(self):
        raise TypeError("a DeleteTable holds this process's string hashes: build it again where it is needed")

    def __len__(self) -> int:
        return len(self.keys)

    def pool(self, strings: Iterable[str]) -> set[str]:
        if not len(self.keys):
            return set()
        wanted = np.fromiter(map(hash, strings), np.int64)
        at = np.minimum(self.keys.searchsorted(wanted), len(self.keys) - 1)
        at = at[self.keys[at] == wanted]
        if not len(at):
            return set()
        lo, size = self.starts[at], self.starts[at + 1] - self.starts[at]
        # the positions of every run lo[k] .. lo[k] + size[k] - 1, without a Python loop over the runs
        positions = np.arange(int(size.sum())) + np.repeat(lo - (np.cumsum(size) - size), size)
        return set(self.items[self.owners[positions]].tolist())
