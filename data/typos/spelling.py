"""Data for the Typos app: English words with frequencies, real misspellings to
evaluate on, and the user's own lists (how people misspell: data/typo_noise.py).

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
from editdistpy import damerau_osa

from data.core.errors import DataError, DatasetMissing
from data.core.uploads import decode_text

MAX_WORD_CHARS = 40      # a longer 'word' is no word anyone mistyped (a 1,000,000-letter one hung training)
MAX_LIST_BYTES = 20 * 1024**2
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
# Abbreviations of titles and the like that pass through correct_text untouched ("Mr.", "Dr.",
# "Jr."): not words the model corrects to, nor ones it corrects
ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "jr", "sr", "st", "mt", "ft", "vs", "etc", "inc", "ltd", "co",
                 "corp", "dept", "govt", "prof", "rev", "gen", "sen", "rep", "gov", "sgt", "capt", "lt",
                 "col", "esq", "approx", "no", "nos", "vol", "pp", "jan", "feb", "mar", "apr", "jun", "jul",
                 "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun"}
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
def english_counts() -> dict[str, int]:
    """symspellpy's 82,765 words (MIT) with their Google Books counts, as listed: junk and all.
    The vocabulary is these, cleaned; the context model scores with them as they are."""
    text = _package_file("symspellpy", "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    return {word: int(count) for word, count in (line.split() for line in text.splitlines())}


@lru_cache(maxsize=1)
def _clean_english() -> tuple[list[tuple[str, int]], Counter]:
    """symspellpy's 82,765 words (MIT), less junk: (word, count) by count, and how many were dropped why."""
    known, kept, dropped = _known_words(), [], Counter()
    for word, count in english_counts().items():
        if why := _junk_reason(word, known):
            dropped[why] += 1
        else:
            kept.append((word, count))
    counts = dict(kept)
    kept += [(w, counts[like]) for w, like in EVERYDAY_MISSING.items() if w not in counts]
    # the crawl has "neighbourhood", "theatre" and "travelled" but not their American spellings:
    # each gets its British twin's count, where the reference list vouches for it
    for word, count in list(counts.items()):
        if len(word) > 4:
            for a, b in BRITISH:
                twin = re.sub(a, b, word)
                if twin != word and twin in known and twin not in counts:
                    counts[twin] = count
                    kept.append((twin, count))
    kept.sort(key=lambda wc: -wc[1])
    return kept, dropped


@lru_cache(maxsize=4096)
def _latin(c: str) -> bool:
    # combining accents count too, so "naïve" passes whether or not it is NFC
    return (c.isalpha() and unicodedata.name(c, "").startswith("LATIN")) or unicodedata.category(c) == "Mn"


def decode_list(data: bytes | str, what: str) -> str:
    if len(data) > MAX_LIST_BYTES:
        raise DataError(f"The {what} is {len(data) / 1024**2:,.0f} MB; the limit is {MAX_LIST_BYTES // 1024**2} MB.")
    binary = DataError(f"The {what} holds binary data, not text.")
    if isinstance(data, bytes):
        data = decode_text(data, f"a {what} (text)")       # UTF-8 or -16, or a spreadsheet's cp1252
    if "\x00" in data or sum(ord(c) < 32 and c not in "\t\r\n" for c in data[:10_000]) > 2:
        raise binary
    text = unicodedata.normalize("NFC", data)
    if not text.strip():
        raise DataError(f"The {what} is empty.")
    return text


# what str.splitlines() ends a line at: a word list of 3 million words parted by "\r" had passed a
# count of "\n" and went on to gigabytes of index
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _line_count(text: str) -> int:
    """The lines of a text as _lines splits them, counted without making them."""
    return sum(text.count(c) for c in LINE_BREAKS) - text.count("\r\n") + 1


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, stripped line) of the lines that are neither blank nor # comments."""
    return [(i, s) for i, s in enumerate((s.strip() for s in text.splitlines()), 1) if s and not s.startswith("#")]


def _fields(fields: list[str], columns: int = 1) -> list[str]:
    """A line's fields as spreadsheets write them: quotes taken off, empty ones past the `columns`
    expected left out ("hello," from a one-column sheet)."""
    fields = [f.strip().strip('"').strip() for f in fields]
    while len(fields) > columns and not fields[-1]:
        fields.pop()
    return fields


COUNT_HEADERS = {"count", "counts", "frequency", "freq", "n", "occurrences", "total"}
WORD_HEADERS = {"word", "words", "term", "token", "lemma", "vocabulary"}


def _word_list_header(fields: list[str]) -> bool:
    low = [f.lower() for f in fields]
    return len(low) <= 2 and (low[0] in WORD_HEADERS or (len(low) == 2 and low[1] in COUNT_HEADERS))


@dataclass
class Vocabulary:
    words: list[str]
    counts: list[int]
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    _p: dict = field(default_factory=dict, init=False, repr=False, compare=False)   # power -> probabilities
    skipped: list = field(default_factory=list, init=False, repr=False, compare=False)   # (where, why) of a user's list

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
        """A person's word list: a word a line, optionally followed by a tab, comma, semicolon or
        space and a whole-number count (1 if none), a header line or quotes as spreadsheets write
        them. Any Latin-script language. Lines that are no word of letters ("i'm", "A's", "4x4")
        are left out and listed in `skipped`, as the corrector leaves such tokens as they are; a
        list that is mostly such lines is refused."""
        text = decode_list(text, "word list")
        if _line_count(text) > MAX_LIST_LINES:
            raise DataError(f"The word list has more than {MAX_LIST_LINES:,} lines, the limit.")
        lines = _lines(text)
        found: dict[str, int] = {}
        skipped: list[tuple[str, str]] = []
        for n, line in lines:
            fields = _fields(re.split(r"\s*[\t,;]\s*|\s+", line))
            if n == lines[0][0] and _word_list_header(fields):
                continue
            if len(fields) > 2:
                raise DataError(f"Line {n} has {len(fields)} fields ('{line[:40]}'); expected a word, "
                                f"optionally followed by its count.")
            if len(fields) == 2 and not re.fullmatch(r"\d+", fields[1]):
                raise DataError(f"Line {n}: '{fields[1][:20]}' is not a count (a whole number)"
                                + (": is this a file of typos and their corrections? Those go in as pairs."
                                   if is_word_like(fields[1].lower()) else "."))
            word = fields[0].lower()
            if len(word) > MAX_WORD_CHARS:
                raise DataError(f"Line {n}: a word of {len(word):,} letters; a word is at most {MAX_WORD_CHARS}.")
            if not is_word_like(word):
                skipped.append((f"line {n}", f"'{fields[0][:40]}' is not a word of letters"))
                continue
            found[word] = found.get(word, 0) + (int(fields[1]) if len(fields) == 2 else 1)
        if len(skipped) > len(lines) // 2:
            raise DataError(f"{len(skipped):,} of the word list's {len(lines):,} lines are no word of letters "
                            f"(Latin script, accents allowed), e.g. {skipped[0][0]}: {skipped[0][1]}.")
        found = {w: c for w, c in found.items() if c > 0}
        if len(found) < 2:
            raise DataError(f"The word list needs at least 2 different words; found {len(found)}.")
        vocab = cls(list(found), list(found.values()))
        vocab.skipped = skipped
        return vocab

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


def hard_pairs(vocab: Vocabulary | None = None, sample: int | None = None, seed: int = 0) -> list[tuple[str, str]]:
    """codespell's pairs (as codespell_pairs) whose typo is three or more edits (optimal
    string alignment) from its correction: "bisnes" for business, "skitsofrinic" for
    schizophrenic. Where poor spellers' errors are; no two-edit search reaches them.
    EVALUATION ONLY, like codespell_pairs."""
    found = [(t, c) for t, c in codespell_pairs(vocab) if damerau_osa.distance(t, c, 2) < 0]
    if sample is not None and sample < len(found):
        found = random.Random(seed).sample(found, sample)
    return found


# ---- a user's pairs ---------------------------------------------------------------

PAIR_SEPARATOR = re.compile(r"\s*(?:->|→|\t|,|;)\s*")
MAX_PAIR_LINE = 4 * MAX_WORD_CHARS + 40     # two quoted words, a separator and some spaces, with room to spare
# a header's column names, by what they hold ("incorrect" before "correct": it holds it); a plain
# "word" is the other column's partner: "word,correction" and "misspelling,word" both read
TYPO_HEADERS = ("incorrect", "typo", "missp", "wrong", "error", "input", "source", "mistake")
FIX_HEADERS = ("correct", "right", "intended", "meant", "target", "fix", "output", "suggest", "proper")
INDEX_HEADERS = {"", "id", "index", "unnamed: 0", "#"}
HEADER_ORDERS = {("typo", "fix"): False, ("typo", "word"): False, ("word", "fix"): False,
                 ("fix", "typo"): True, ("word", "typo"): True, ("fix", "word"): True}


def _header_role(name: str) -> str | None:
    name = name.lower()
    for role, marks in (("typo", TYPO_HEADERS), ("fix", FIX_HEADERS), ("word", ("word",))):
        if any(m in name for m in marks):
            return role
    return None


def _pairs_header(fields: list[str]) -> tuple[bool, int, bool]:
    """What a first line says, if it is a header: (is a header, leading index columns to drop,
    the correction comes first). "correct,misspelled" is read the other way round; a pandas
    index (",typo,correction") is dropped."""
    drop = 1 if len(fields) == 3 and fields[0].lower() in INDEX_HEADERS else 0
    roles = tuple(_header_role(f) for f in fields[drop:])
    if roles not in HEADER_ORDERS:
        return False, 0, False
    return True, drop, HEADER_ORDERS[roles]


def read_pairs_csv(data: bytes | str, max_rows: int = 100_000) -> list[tuple[str, str]]:
    """A person's own (typo, correction) pairs: one `typo,correction` a line (a tab, a semicolon,
    '->' or '→' also separates), with or without a header line; a header's names say which column
    is which, and an index column before them (as pandas writes) is dropped."""
    text = decode_list(data, "pairs file")
    if _line_count(text) > 2 * max_rows + 1_000:       # blank and # lines allowed between them
        raise DataError(f"The pairs file has {_line_count(text):,} lines; at most {max_rows:,} pairs are read.")
    lines = _lines(text)
    out = []
    drop, swap = 0, False
    for n, line in lines:
        # checked before the split: from every space of a long run of them the separator's \s* scans to
        # the run's end, so one line of a million spaces would take hours
        if len(line) > MAX_PAIR_LINE:
            raise DataError(f"Line {n} is {len(line):,} characters long; a line holds one typo and its "
                            f"correction, each at most {MAX_WORD_CHARS} letters.")
        fields = [f.lower() for f in _fields(PAIR_SEPARATOR.split(line), 2)]
        if n == lines[0][0]:
            header, drop, swap = _pairs_header(fields)
            if header:
                continue
        fields = fields[drop:]
        if len(fields) != 2:
            raise DataError(f"Line {n} has {len(fields)} column{'s' * (len(fields) > 1)} ('{line[:40]}'); "
                            f"expected two: typo,correction.")
        if not all(fields):
            raise DataError(f"Line {n} has an empty {'typo' if not fields[0] else 'correction'}.")
        if max(map(len, fields)) > MAX_WORD_CHARS:
            raise DataError(f"Line {n}: a word of {max(map(len, fields)):,} letters; a word is at most "
                            f"{MAX_WORD_CHARS}.")
        if re.fullmatch(r"\d+", fields[1]) and not re.fullmatch(r"\d+", fields[0]):
            raise DataError(f"Line {n}: the correction '{fields[1][:20]}' is a number: is this a word list with "
                            "counts? Those go in as a word list.")
        if len(out) == max_rows:
            raise DataError(f"More than {max_rows:,} pairs; the limit is {max_rows:,}.")
        out.append((fields[1], fields[0]) if swap else (fields[0], fields[1]))
    if not out:
        raise DataError("The pairs file holds a header but no pairs.")
    return out


def list_kind(text: str) -> str:
    """"pairs" or "words": what a file a person gives holds, by its lines rather than its name (a
    word list with counts saved as .csv had been read as pairs: word -> count). Pairs are lines of
    two words; a word list's lines are a word and perhaps a count."""
    lines = _lines(text[:200_000])[:200]
    two_words = sum(len(f) == 2 and not re.fullmatch(r"\d+", f[1])
                    for f in (_fields(PAIR_SEPARATOR.split(line), 2) for _, line in lines if len(line) <= MAX_PAIR_LINE))
    return "pairs" if two_words > len(lines) // 2 else "words"


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
