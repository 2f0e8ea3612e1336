"""VADER, the peer, with its scores unchanged and its time linear in the text's length.

vaderSentiment 3.3.2 lowercases the whole text again for every lexicon word it weighs (in
`_negation_check` and `_special_idioms_check`) and looks each score up from the start of the
list in `_but_check`: its time grows with the square of the number of words. A 20,000-character
text of emoji (each one three or four words once VADER names it) took over six minutes on this
machine, so one pasted text or one row of a CSV could hold the app. The subclass gives the first
two only the few words around the one they weigh, which is all they read, and does the third's
lookups through an index; `tests/test_vader.py` checks the compound scores equal the original's.
"""
from __future__ import annotations

import heapq
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


class LinearVader(SentimentIntensityAnalyzer):

    @staticmethod
    def _negation_check(valence, words_and_emoticons, start_i, i):
        # it reads words i-3 .. i-1, and only those its guards let exist (i > start_i)
        lo = max(0, i - 3)
        return SentimentIntensityAnalyzer._negation_check(valence, words_and_emoticons[lo:i + 1], start_i, i - lo)

    @staticmethod
    def _special_idioms_check(valence, words_and_emoticons, i):
        # it reads words i-3 .. i+2 (called for i > 2), and asks whether i+1 and i+2 exist
        lo = max(0, i - 3)
        return SentimentIntensityAnalyzer._special_idioms_check(valence, words_and_emoticons[lo:i + 3], i - lo)

    @staticmethod
    def _but_check(words_and_emoticons, sentiments):
        """The original's loop, step for step: it walks the list as it rewrites it, and each score
        rewrites the first position holding an equal value (list.index), scaled by 0.5 before
        'but' and 1.5 after. Here the first position of each value comes from a heap per value."""
        lower = [str(w).lower() for w in words_and_emoticons]
        if "but" not in lower:
            return sentiments
        bi = lower.index("but")
        where: dict[float, list[int]] = {}
        for pos, value in enumerate(sentiments):
            where.setdefault(value, []).append(pos)       # positions in order: already a heap

        def first(value):
            heap = where[value]
            while sentiments[heap[0]] != value:           # a position rewritten since it was pushed
                heapq.heappop(heap)
            return heap[0]

        for pos in range(len(sentiments)):
            sentiment = sentiments[pos]
            si = first(sentiment)
            if si != bi:
                new = sentiment * (0.5 if si < bi else 1.5)
                sentiments[si] = new
                heapq.heappush(where.setdefault(new, []), si)
        return sentiments


@lru_cache(maxsize=1)
def analyzer() -> LinearVader:
    """One analyser per process: it reads its lexicon files when made."""
    return LinearVader()
