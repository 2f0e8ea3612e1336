"""Data for the Typos app: English words with frequencies, a model of how people
misspell them, real misspellings to evaluate on, and the user's own lists.

Every pair here is (typo, correction). Words are lower-case letters; text is cut
into tokens with split_token, and only is_word_like cores are ever corrected.
"""
from __future__ import annotations

import gzip
import json
import math
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from data.errors import DataError, DatasetMissing

MAX_LIST_LINES = 500_000

# The only two-letter words kept: the English list is a web crawl, where "pm",
# "cd", "st", "de" and "la" outnumber real words.
TWO_LETTER = set("ah am an as at aw ax be by do eh go ha he hi ho if in is it lo ma me mr ms my no of "
                 "oh ok on or ow ox oy pa so to uh um up us we ye yo".split())
# words with no vowel are abbreviations ("mph", "ltd", "pkg"), except these
NO_VOWEL = {"hmm", "shh", "psst", "brr", "nth", "tsk", "pfft", "crwth", "cwm"}
# Words people type every day that the reference list lacks (so the crawl's entry would be
# dropped as junk) or the crawl itself lacks; without them "ok" becomes "oak", "app" "ape"
# and "lol" "log". Missing ones get the count of a word about as common.
EVERYDAY = {"app", "apps", "wifi", "smartphone", "smartphones", "etc", "texting", "texted", "covid"}
EVERYDAY_MISSING = {"ok": "okay", "vs": "versus", "selfie": "podcast", "selfies": "podcast", "emoji": "podcast",
                    "emojis": "podcast", "hashtag": "podcast", "hashtags": "podcast", "ebook": "podcast",
                    "ebooks": "podcast", "bitcoin": "podcast", "lol": "podcast", "btw": "podcast",
                    "omg": "podcast", "idk": "podcast", "imo": "podcast", "thx": "podcast", "pls": "podcast",
                    "asap": "podcast", "diy": "podcast", "faq": "podcast", "faqs": "podcast"}
ROMAN = re.compile(r"m{0,4}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
ROMAN_WORDS = {"i", "mix", "dix"}                   # the only real words among numerals in the list
# British spellings the (American) reference list lacks: colour, centre, realise,
# travelled, paediatric, catalogue, programme, defence, cheque
BRITISH = [("our", "or"), (r"re(?=[sd]?$)", "er"), (r"is(?=e|ing|ation)", "iz"), (r"ys(?=e|ing)", "yz"),
           ("ae", "e"), ("oe", "e"), (r"ll(?=ed|ing|er|ous)", "l"), ("ogue", "og"), (r"mme(?=s?$)", "m"),
           ("ence", "ense"), ("que", "k")]


def _package_file(package: str, *path: str) -> Path:
    try:
        return Path(str(resources.files(package).joinpath(*path)))
    except ModuleNotFoundError as e:
        raise DatasetMissing(f"The word data needs the '{package}' package; pip install it.") from e


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """pyspellchecker's English list (MIT), to vouch for words. Not also the system's
    /usr/share/dict/words: not every machine has one, and the vocabulary must be the same everywhere."""
    with gzip.open(_package_file("spellchecker", "resources", "en.json.gz"), "rt", encoding="utf-8") as f:
        return frozenset(json.load(f))


def _junk_reason(word: str, known: frozenset[str]) -> str | None:
    if not (word.isascii() and word.isalpha() and word.islower()):
        return "not plain a-z"
    if len(word) == 1:
        return None if word in "ai" else "single letter"
    if len(word) == 2:
        return None if word in TWO_LETTER else "two-letter abbreviation"
    if set(word).isdisjoint("aeiouy") and word not in NO_VOWEL:
        return "no vowel"
    if ROMAN.fullmatch(word) and word not in ROMAN_WORDS:
        return "roman numeral"
    if word in known or word in EVERYDAY or len(word) > 4 and any(re.sub(a, b, word) in known for a, b in BRITISH):
        return None
    return "in no dictionary"


@lru_cache(maxsize=1)
def _clean_english() -> tuple[list[tuple[str, int]], Counter]:
    """symspellpy's 82,765 words (MIT), less junk: (word, count) by count, and how many were dropped why."""
    known, kept, dropped = _known_words(), [], Counter()
    text = _package_file("symspellpy", "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    for word, count in (line.split() for line in text.splitlines()):
        if why := _junk_reason(word, known):
            dropped[why] += 1
        else:
            kept.append((word, int(count)))
    counts = dict(kept)
    kept += [(w, counts[like]) for w, like in EVERYDAY_MISSING.items() if w not in counts]
    kept.sort(key=lambda wc: -wc[1])
    return kept, dropped


@lru_cache(maxsize=4096)
def _latin(c: str) -> bool:
    # combining accents count too, so "naïve" passes whether or not it is NFC
    return (c.isalpha() and unicodedata.name(c, "").startswith("LATIN")) or unicodedata.category(c) == "Mn"


def _decode(data: bytes | str, what: str) -> str:
    binary = DataError(f"The {what} holds binary data, not text.")
    if isinstance(data, bytes):
        if b"\x00" in data[:10_000]:
            raise binary
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise DataError(f"The {what} is not UTF-8 text; if it is text, save it as UTF-8.") from e
    if "\x00" in data or sum(ord(c) < 32 and c not in "\t\r\n" for c in data[:10_000]) > 2:
        raise binary
    text = unicodedata.normalize("NFC", data)
    if not text.strip():
        raise DataError(f"The {what} is empty.")
    return text


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of the lines that are neither blank nor # comments."""
    return [(i, s) for i, s in enumerate((s.strip() for s in text.splitlines()), 1) if s and not s.startswith("#")]


@dataclass
class Vocabulary:
    words: list[str]
    counts: list[int]
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    _p: dict = field(default_factory=dict, init=False, repr=False, compare=False)   # power -> probabilities

    def __post_init__(self):
        if len(self.words) != len(self.counts):
            raise ValueError("words and counts differ in length")
        order = sorted(range(len(self.words)), key=lambda i: -self.counts[i])   # stable: ties keep order
        self.words = [self.words[i] for i in order]
        self.counts = [int(self.counts[i]) for i in order]
        self.index = {w: i for i, w in enumerate(self.words)}
        self._total = float(sum(self.counts)) or 1.0

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def __len__(self) -> int:
        return len(self.words)

    def log_prob(self, word: str) -> float:
        """Log relative frequency; an unknown word scores below the rarest known one."""
        i = self.index.get(word)
        count = self.counts[i] if i is not None else 0.5 * (self.counts[-1] if self.counts else 1)
        return math.log(count / self._total)

    def sample(self, n: int, rng: np.random.Generator | int | None = None, power: float = 0.5) -> list[str]:
        """n words drawn by count**power: 'the' is 10^6 times commoner than 'desert' in
        the corpus, which would leave a model trained on raw frequencies seeing nothing else."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if power not in self._p:
            p = np.asarray(self.counts, dtype=np.float64) ** power
            self._p[power] = p / p.sum()
        return [self.words[i] for i in rng.choice(len(self.words), size=n, p=self._p[power])]

    @classmethod
    def from_user_list(cls, text: bytes | str) -> Vocabulary:
        """A person's word list: a word a line, optionally followed by a tab, comma or
        space and a whole-number count (1 if none). Any Latin-script language."""
        text = _decode(text, "word list")
        if text.count("\n") >= MAX_LIST_LINES:
            raise DataError(f"The word list has more than {MAX_LIST_LINES:,} lines, the limit.")
        lines = _lines(text)
        found: dict[str, int] = {}
        for n, line in lines:
            fields = re.split(r"\s*[\t,]\s*|\s+", line)
            if n == lines[0][0] and len(fields) == 2 and fields[1].lower() in ("count", "frequency", "freq", "n"):
                continue                                       # a header line
            if len(fields) > 2:
                raise DataError(f"Line {n} has {len(fields)} fields ('{line[:40]}'); expected a word, "
                                f"optionally followed by its count.")
            word = fields[0].lower()
            if not is_word_like(word):
                raise DataError(f"Line {n}: '{fields[0][:40]}' is not a word of letters (Latin script, "
                                f"accents allowed).")
            if len(fields) == 2 and not re.fullmatch(r"\d+", fields[1]):
                raise DataError(f"Line {n}: the count '{fields[1][:20]}' is not a whole number.")
            found[word] = found.get(word, 0) + (int(fields[1]) if len(fields) == 2 else 1)
        found = {w: c for w, c in found.items() if c > 0}
        if len(found) < 2:
            raise DataError(f"The word list needs at least 2 different words; found {len(found)}.")
        return cls(list(found), list(found.values()))

    def merged(self, other: Vocabulary, weight: float = 0.5) -> Vocabulary:
        """This vocabulary plus `other`, whose counts are scaled so that together they
        weigh `weight` times this one's total (1.0: as much as all of English)."""
        scale = weight * self._total / max(sum(other.counts), 1)
        counts = dict(zip(self.words, self.counts))
        for w, c in zip(other.words, other.counts):
            counts[w] = counts.get(w, 0) + max(1, round(c * scale))
        return Vocabulary(list(counts), list(counts.values()))


def load_vocabulary(min_count: int = 0, max_words: int | None = None) -> Vocabulary:
    """English words by frequency in a web crawl (counts run from ~12,700 up), cleaned
    of abbreviations, numerals and crawl junk; the max_words commonest at most."""
    kept = [(w, c) for w, c in _clean_english()[0] if c >= min_count][:max_words]
    return Vocabulary([w for w, _ in kept], [c for _, c in kept])


# ---- how people misspell -------------------------------------------------------

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
               *SOUND_ALIKE)
# rough shares among the errors that can apply to a word: the spelling ones apply to
# few words, but where they can, people make them often
WEIGHTS = dict(zip(ERROR_TYPES, (0.22, 0.08, 0.14, 0.05, 0.20, 0.10, 0.08,
                                 0.12, 0.10, 0.15, 0.15, 0.15, 0.06, 0.10, 0.12, 0.05)))
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


def pairs(vocab: Vocabulary, n: int, seed: int = 0, identity: float = 0.05, max_edits: int = 3,
          weights: dict[str, float] | None = None) -> list[tuple[str, str]]:
    """n (typo, word) training pairs. A typo that is itself a word is skipped (telling
    'form' from 'from' needs context this model does not have); a share of `identity`
    pairs are (word, word), so that the model learns to leave correct words alone."""
    rng, noise, out = np.random.default_rng(seed), NoiseModel(seed, weights), []
    for _ in range(100):                          # rounds; each fills most of what is missing
        if len(out) >= n:
            return out
        for w in vocab.sample(n - len(out) + 64, rng):
            if rng.random() < identity:
                out.append((w, w))
            else:
                try:
                    typo = noise.corrupt(w, max_edits)[0]
                except ValueError:
                    continue                      # a word no enabled error type applies to
                if typo not in vocab:
                    out.append((typo, w))
            if len(out) == n:
                return out
    raise ValueError(f"could not make {n} pairs: nearly every misspelling is itself a word in the vocabulary")


# ---- real misspellings, for evaluation only --------------------------------------

@lru_cache(maxsize=1)
def _codespell_all() -> tuple[tuple[str, str], ...]:
    text = _package_file("codespell_lib", "data", "dictionary.txt").read_text(encoding="utf-8")
    # only lines "typo->fix" of plain words: "a, b," lists several candidates (or a note), no single answer
    return tuple(sorted({(t, c) for t, c in re.findall(r"^([a-z]+)->([a-z]+)$", text, re.M) if t != c}))


def codespell_pairs(vocab: Vocabulary | None = None, sample: int | None = None,
                    seed: int = 0) -> list[tuple[str, str]]:
    """(typo, correction) pairs of misspellings people really made: the codespell
    project's list (GPL-2.0; grown from Wikipedia's list of common misspellings), read
    from the installed package at run time, never copied into this project.

    EVALUATION ONLY: never train on these, or the score stops measuring how well the
    synthetic noise model stands in for real errors. With vocab, pairs whose correction
    is not in it, or whose typo is a real word, are left out; sample: that many, fixed by seed."""
    found = [(t, c) for t, c in _codespell_all() if vocab is None or (c in vocab and t not in vocab)]
    if sample is not None and sample < len(found):
        found = random.Random(seed).sample(found, sample)
    return found


# ---- a user's pairs ---------------------------------------------------------------

PAIR_SEPARATOR = re.compile(r"\s*(?:->|→|\t|,)\s*")
PAIR_HEADERS = {"typo", "typos", "misspelling", "misspelled", "wrong", "error", "input", "source",
                "correction", "corrected", "correct", "right", "target", "word", "fix", "output"}


def read_pairs_csv(data: bytes | str, max_rows: int = 100_000) -> list[tuple[str, str]]:
    """A person's own (typo, correction) pairs: one `typo,correction` a line (a tab,
    '->' or '→' also separates), with or without a header line."""
    lines = _lines(_decode(data, "pairs file"))
    out = []
    for n, line in lines:
        fields = [f.strip().strip('"').strip().lower() for f in PAIR_SEPARATOR.split(line)]
        if n == lines[0][0] and len(fields) == 2 and set(fields) <= PAIR_HEADERS:
            continue
        if len(fields) != 2:
            raise DataError(f"Line {n} has {len(fields)} column{'s' * (len(fields) > 1)} ('{line[:40]}'); "
                            f"expected two: typo,correction.")
        if not all(fields):
            raise DataError(f"Line {n} has an empty {'typo' if not fields[0] else 'correction'}.")
        if len(out) == max_rows:
            raise DataError(f"More than {max_rows:,} pairs; the limit is {max_rows:,}.")
        out.append((fields[0], fields[1]))
    if not out:
        raise DataError("The pairs file holds a header but no pairs.")
    return out


# ---- tokens in running text ---------------------------------------------------------

def _wordish(c: str) -> bool:
    return unicodedata.category(c)[0] in "LNM"          # letters, digits, accents


def split_token(token: str) -> tuple[str, str, str]:
    """(leading punctuation, core, trailing punctuation); the three join back to token.
    A token of punctuation or emoji only is all 'leading'."""
    start = next((i for i, c in enumerate(token) if _wordish(c)), len(token))
    end = next((i for i in range(len(token), start, -1) if _wordish(token[i - 1])), start)
    return token[:start], token[start:end], token[end:]


def restore_case(original: str, corrected: str) -> str:
    """corrected (lower-case) in original's case pattern: lower, Title or UPPER; any
    other mix ("iPhone") is left as corrected."""
    if original.isupper() and (len(original) > 1 or len(corrected) == 1):
        return corrected.upper()
    if original[:1].isupper() and (original[1:].islower() or len(original) == 1):
        return corrected[:1].upper() + corrected[1:]
    return corrected


def is_word_like(core: str) -> bool:
    """Whether a core is a word the model may correct: Latin letters only (accents
    allowed). Numbers, URLs, e-mail addresses, hyphenated or apostrophe'd tokens,
    other scripts and emoji all pass through untouched."""
    return bool(core) and core[0].isalpha() and all(_latin(c) for c in core)
