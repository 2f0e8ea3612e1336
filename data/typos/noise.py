"""How people misspell: a noise model of 18 error types (keyboard slips, doubled and
undoubled letters, vowel and sound-alike swaps, whole words written as they sound,
swallowed syllables, ...) that turns the vocabulary's words into (typo, word)
training pairs for TypoNet."""
from __future__ import annotations

import random
import re

import numpy as np

from data.typos.phonetic import drop_syllable, respell
from data.typos.spelling import Vocabulary


ROWS, STAGGER = ["qwertyuiop", "asdfghjkl", "zxcvbnm"], [0, 0.25, 0.75]      # how far each row is shifted
_KEY = {k: (r, c + STAGGER[r]) for r, row in enumerate(ROWS) for c, k in enumerate(row)}
NEIGHBOURS = {k: "".join(o for o, (r2, c2) in _KEY.items() if o != k and abs(r2 - r) <= 1 and abs(c2 - c) <= 1)
              for k, (r, c) in _KEY.items()}
VOWELS = "aeiou"
VOWEL_SWAPS = {"a": "eoi", "e": "iao", "i": "eay", "o": "aue", "u": "oai"}   # likeliest first
# the letter people leave out of knife, wrong, gnome, psalm, which, ghost, guess, lamb,
# autumn, castle, listen, debt, science, judge, watch, could, walk, rhythm
SILENT = re.compile(r"^k(?=n)|^w(?=r)|^g(?=n)|^p(?=s)|(?<=\b[wg])h|(?<=\bg)u(?=[aeiy])|(?<=m)[bn](?=s?$)|"
                    r"(?<=s)t(?=l|en(s|ed|ing|er)?$)|b(?=t)|(?<=s)c(?=[eiy])|d(?=ge)|t(?=ch)|(?<=ou)l(?=d)|"
                    r"(?<=a)l(?=[kmf])|(?<=r)h")
# Errors of spelling rather than typing: (where, what it becomes there; None: not this time).
# The rarer direction of each (f -> ph, i -> y) is made rarer still.
SOUND_ALIKE = {
    "vowel": (r"(?<=.)[aeiou]|[aeiou](?=.)", lambda s, r: r.choices(VOWEL_SWAPS[s], (6, 3, 1))[0]),  # seperate
    "ph_f": (r"ph|f(?!f)", lambda s, r: "f" if s == "ph" else "ph" if r.random() < 0.3 else None),
    "able_ible": (r"(?<=..)[ai](?=bl[eyi])", lambda s, r: "ia"[s == "i"]),                        # possable
    "ance_ence": (r"(?<=..)[ae](?=n(ce|cy|t)(s|ly)?$)", lambda s, r: "ea"[s == "e"]),            # independant
    "ie_ei": (r"ie|ei", lambda s, r: s[::-1]),                                                   # recieve
    # soft c is written s, hard c k ("ck" just k), and k or a soft s is written c
    "c_k_s": (r"(?<!s)c[eiy]|ck|c(?![hkeiy])|(?<![cs])k(?=[aoulr])|s(?=[eiy])",       # concensus, musik
              lambda s, r: {"ck": "k", "c": "k", "k": "c", "s": "c"}.get(s) or "s" + s[1]),
    "silent": (SILENT, lambda s, r: ""),
    "tion_sion": (r"[ts](?=ion)", lambda s, r: "st"[s == "s"]),
    "y_i": (r"(?<=.)[yi]", lambda s, r: "i" if s == "y" else "y" if r.random() < 0.2 else None),  # sistem
}
ERROR_TYPES = ("keyboard_sub", "keyboard_insert", "delete", "double", "undouble", "transpose", "misdouble",
               *SOUND_ALIKE, "phonetic", "syllable")
# rough shares among the errors that can apply to a word: the spelling ones apply to
# few words, but where they can, people make them often. "phonetic" (the whole word
# written by ear, data/typos/phonetic.py) is what poor spellers do most.
WEIGHTS = dict(zip(ERROR_TYPES, (0.22, 0.08, 0.14, 0.05, 0.20, 0.10, 0.08,
                                 0.12, 0.10, 0.15, 0.15, 0.15, 0.06, 0.10, 0.12, 0.05, 0.15, 0.05)))
N_EDITS = (0.70, 0.22, 0.08)


class NoiseModel:
    """Makes the mistakes people make. weights: error type -> relative weight (WEIGHTS
    by default); a type left out is never made."""

    def __init__(self, seed: int = 0, weights: dict[str, float] | None = None):
        self.rng = random.Random(seed)
        self.weights = dict(WEIGHTS if weights is None else weights)
        unknown = set(self.weights) - set(ERROR_TYPES)
        if unknown:
            raise ValueError(f"unknown error types {sorted(unknown)}; known: {ERROR_TYPES}")

    def _pos(self, candidates: list, n: int, start=lambda c: c, anywhere: bool = False):
        # spelling errors rarely hit the first letter, more often the last, most often the
        # middle; a finger slips on any key alike ("sesert" for "desert"): anywhere=True
        if not candidates:
            return None
        if anywhere:
            return self.rng.choice(candidates)
        w = [0.3 if start(c) == 0 else 0.7 if start(c) == n - 1 else 1.0 for c in candidates]
        return self.rng.choices(candidates, w)[0]

    def apply(self, kind: str, word: str) -> str | None:
        """One error of the given type in a lower-case word, or None where it cannot apply."""
        r, n = self.rng, len(word)
        if kind in SOUND_ALIKE:
            pattern, change = SOUND_ALIKE[kind]
            span = self._pos([m.span() for m in re.finditer(pattern, word)], n, lambda s: s[0])
            new = None if span is None else change(word[span[0]:span[1]], r)
            return None if new is None else word[:span[0]] + new + word[span[1]:]
        if kind == "phonetic":
            return respell(word, r)
        if kind == "syllable":
            return drop_syllable(word, r)
        if kind == "keyboard_sub":
            i = self._pos([i for i in range(n) if word[i] in NEIGHBOURS], n, anywhere=True)
            return None if i is None else word[:i] + r.choice(NEIGHBOURS[word[i]]) + word[i + 1:]
        if kind == "keyboard_insert":
            i = self._pos([i for i in range(n) if word[i] in NEIGHBOURS], n, anywhere=True)
            j = None if i is None else i + r.randint(0, 1)          # just before or just after the key
            return None if i is None else word[:j] + r.choice(NEIGHBOURS[word[i]]) + word[j:]
        if kind == "delete":
            i = self._pos(list(range(n)), n) if n > 2 else None      # "do" -> "d" is past guessing
            return None if i is None else word[:i] + word[i + 1:]
        if kind == "double":
            i = self._pos([i for i in range(n) if word[i] != word[i - 1:i] and word[i] != word[i + 1:i + 2]], n)
            return None if i is None else word[:i] + word[i] + word[i:]
        if kind == "undouble":
            i = self._pos([i for i in range(1, n) if word[i] == word[i - 1]], n)
            return None if i is None else word[:i] + word[i + 1:]
        if kind == "transpose":
            i = self._pos([i for i in range(n - 1) if word[i] != word[i + 1]], n)
            return None if i is None else word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if kind == "misdouble":                                       # the doubling moves: "ocassion"
            doubles = [i for i in range(1, n) if word[i] == word[i - 1] and word[i] not in VOWELS]
            singles = [i for i in range(1, n - 1)
                       if word[i] not in VOWELS + "y" and word[i - 1] != word[i] != word[i + 1]]
            if not doubles or not singles:
                return None
            d, s = r.choice(doubles), r.choice(singles)
            return "".join(c * 2 if i == s else "" if i == d else c for i, c in enumerate(word))
        raise ValueError(f"unknown error type {kind!r}; known: {ERROR_TYPES}")

    def _one(self, word: str) -> tuple[str, str] | None:
        """One error, of a type drawn by weight among those that apply to word."""
        kinds = [k for k in ERROR_TYPES if self.weights.get(k, 0) > 0]
        while kinds:
            kind = self.rng.choices(kinds, [self.weights[k] for k in kinds])[0]
            new = self.apply(kind, word)
            if new and new != word:
                return new, kind
            kinds.remove(kind)
        return None

    def corrupt(self, word: str, max_edits: int = 3) -> tuple[str, list[str]]:
        """A misspelling of word and the error types applied in turn: one error usually,
        sometimes two or three (fewer in short words, which would become unrecognisable)."""
        if not word or not word.isalpha():
            raise ValueError(f"can only misspell a word of letters, not {word!r}")
        word = word.lower()
        most = max(1, min(max_edits, len(N_EDITS), len(word) // 3))
        for _ in range(20):
            k = self.rng.choices(range(1, most + 1), N_EDITS[:most])[0]
            out, kinds = word, []
            for _ in range(k):
                step = self._one(out)
                if step is None:
                    break
                out, kind = step
                kinds.append(kind)
            if kinds and out != word:
                return out, kinds
        raise ValueError(f"no error of the enabled types applies to {word!r}")


    def by_ear(self, word: str) -> tuple[str, list[str]]:
        """A poor speller's spelling: the word written as it sounds (most rules that apply,
        applied), sometimes a slip on top; often three or more edits from the word."""
        for _ in range(20):
            out = respell(word.lower(), self.rng, p=0.8)
            if out:
                kinds = ["phonetic"]
                if self.rng.random() < 0.3 and (step := self._one(out)):
                    out, kind = step
                    kinds.append(kind)
                return out, kinds
        return self.corrupt(word)


def pairs(vocab: Vocabulary, n: int, seed: int = 0, identity: float = 0.05, max_edits: int = 3,
          weights: dict[str, float] | None = None, by_ear: float = 0.3) -> list[tuple[str, str]]:
    """n (typo, word) training pairs. A typo that is itself a word is skipped (telling
    'form' from 'from' needs the words around it: models/typos/context.py); a share of
    `identity` pairs are (word, word), so that the model learns to leave correct words
    alone, and a share `by_ear` are poor spellers' phonetic spellings."""
    rng, noise, out = np.random.default_rng(seed), NoiseModel(seed, weights), []
    for _ in range(100):                          # rounds; each fills most of what is missing
        if len(out) >= n:
            return out
        for w in vocab.sample(n - len(out) + 64, rng):
            if rng.random() < identity:
                out.append((w, w))
            else:
                try:
                    typo = (noise.by_ear(w) if rng.random() < by_ear else noise.corrupt(w, max_edits))[0]
                except ValueError:
                    continue                      # a word no enabled error type applies to
                if typo not in vocab:
                    out.append((typo, w))
            if len(out) == n:
                return out
    raise ValueError(f"could not make {n} pairs: nearly every misspelling is itself a word in the vocabulary")
