"""The words around a typo choose among its candidates, and catch real-word errors.

A word-pair (bigram) language model scores a word w between its neighbours l and r:

    context(w) = log c(l, w) + log c(w, r) - log c(w)        (log P(l, w, r) + const)

with symspellpy's Google Books counts; a pair missing from that list (it keeps pairs
seen 6.4 million times or more) is estimated as if the two words were independent,
and never above the list's cut.

- For a misspelled word, TypoNet's probabilities and the context combine:
  score(c) = log P_net(c | typo) + LAMBDA * context(c).
- For a known word with easily confused partners (data/typos/context.py: "peace",
  "piece"), a partner replaces it only when the context prefers it by more than
  THRESHOLD (a likelihood ratio), so that correct words are almost never changed.

LAMBDA and THRESHOLD were chosen on the dev half of the sentence evaluation
(python -m models.typos.sentences) and are reported on its test half.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from data.typos.context import CONTRACTIONS, NGramCounts, confusion_sets, load_counts
from data.typos.spelling import ABBREVIATIONS

LAMBDA = 1.0
THRESHOLD = 4.0           # log likelihood ratio (about 55 : 1) a partner needs to replace a known word


class ContextScorer:
    def __init__(self, counts: NGramCounts | None = None):
        self.counts = counts or load_counts()
        self.confusions = confusion_sets()
        self._floor = math.log(self.counts.min_bigram)

    def _unigram(self, w: str) -> float:
        return math.log(self.counts.unigrams.get(w, 0) + 1e4)

    def _pair(self, a: str, b: str) -> float:
        c = self.counts.bigrams.get((a, b))
        if c:
            return math.log(c)
        # as if independent: c(a) c(b) / N, but below the list's cut (it would be there otherwise)
        guess = self._unigram(a) + self._unigram(b) - math.log(self.counts.total)
        return min(guess, self._floor - 0.7)

    @lru_cache(maxsize=100_000)
    def context(self, left: str | None, w: str, right: str | None) -> float:
        first, last = CONTRACTIONS.get(w, (w, w))
        score = -self._unigram(first) if left and right else 0.0
        if left:
            score += self._pair(left, first)
        if right:
            score += self._pair(last, right)
        return score

    def rerank(self, top: list[tuple[str, float]], left: str | None, right: str | None) -> list[dict]:
        """A misspelled word's candidates (word, P_net) rescored with the context,
        best first: each with its network and context scores, for display."""
        if not (left or right):
            return [{"word": w, "p": p, "context": 0.0, "score": math.log(max(p, 1e-9))} for w, p in top]
        out = [{"word": w, "p": p, "context": self.context(left, w, right)} for w, p in top]
        base = max(o["context"] for o in out)
        for o in out:
            o["context"] -= base                     # relative to the best: 0 for the context's favourite
            o["score"] = math.log(max(o["p"], 1e-9)) + LAMBDA * o["context"]
        return sorted(out, key=lambda o: -o["score"])

    def real_word(self, w: str, left: str | None, right: str | None) -> tuple[str, float] | None:
        """(partner, log ratio) when a known word's easily confused partner fits the
        context far better than the word itself; None otherwise."""
        partners = self.confusions.get(w)
        if not partners or not (left or right):
            return None
        own = self.context(left, w, right)
        best = max(partners, key=lambda p: self.context(left, p, right))
        gain = self.context(left, best, right) - own
        return (best, gain) if gain > THRESHOLD else None


@lru_cache(maxsize=1)
def scorer() -> ContextScorer:
    return ContextScorer()


@dataclass
class Slot:
    """One word of a text, as correct_text sees it."""
    index: int              # its piece in the text
    lead: str
    core: str
    trail: str
    word: str               # core, lower-case
    left: str | None = None    # the neighbouring words (corrected), None across a sentence end
    right: str | None = None


def neighbours(slots: list[Slot], words: list[str]) -> None:
    """Fill each slot's left and right word from `words` (the current best reading of
    every slot), leaving them empty where punctuation or another token comes between."""
    for i, s in enumerate(slots):
        prev = slots[i - 1] if i else None
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        # word pairs are counted between words with only a space between: any punctuation breaks them
        joined_left = prev and prev.index == s.index - 2 and not prev.trail and not s.lead
        joined_right = nxt and nxt.index == s.index + 2 and not s.trail and not nxt.lead
        s.left = words[i - 1] if joined_left else None
        s.right = words[i + 1] if joined_right else None


def looks_like_name(slots: list[Slot], j: int) -> bool:
    """Capitalised, and not the first word of a sentence: "Dinkins", "Cuomo"."""
    s = slots[j]
    if not s.core[:1].isupper() or j == 0:
        return False
    prev = slots[j - 1]
    ended = set(prev.trail) & set(".!?") and prev.word not in ABBREVIATIONS     # "Mr. Cuomo" goes on
    return not ended and not (set(s.lead) & set("\"'(“‘"))


SOURCES = {"edits": "edits: one or two letters changed", "sound": "sound: sounds alike (Metaphone)",
           "consonants": "spelling: the same consonants", "context": "context: the words around it"}


def why(change: dict) -> str:
    """A sentence on why correct_text chose a change's correction (plain text)."""
    orig, fixed = change["original"], change["correction"]
    if change["source"] == "context":
        gain = -change["candidates"][-1]["context"] if change.get("candidates") else THRESHOLD
        return (f"“{orig}” is a word, but “{fixed}” fits between its neighbours about "
                f"{math.exp(min(gain, 30)):,.0f} times better")
    if change.get("by_context"):
        first = change["alternatives"][0]
        return (f"the network alone preferred “{first[0]}” ({first[1]:.0%}); the words around it chose "
                f"“{fixed}” ({change['score']:.0%})")
    return f"the network's choice among the candidates, {change['score']:.0%}"
