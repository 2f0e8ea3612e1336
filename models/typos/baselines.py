"""Classic spelling correctors, as baselines for the typo-correcting network.

Every corrector takes its vocabulary as word counts, so a comparison can give all of
them the same one; the network is then judged against the classic methods rather than
against a different dictionary. Each has `name`, `correct(word)` and `correct_many(words)`.

    python -m models.typos.baselines [--n 2000] [--seed 0]

prints accuracy and speed of each corrector on typo->correction pairs sampled from
codespell's dictionary, and the edit-distance oracle for the same pairs.

symspellpy, pyspellchecker and codespell are imported only where used, so the module
imports without them.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterable, Sequence

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORD = re.compile(r"[a-z]+")


# ---- vocabularies ------------------------------------------------------------------

def _package_file(package: str, *parts: str) -> Path | None:
    # find_spec rather than import: locating a data file should not pay for, or fail on,
    # importing the package itself.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.exists() else None


def _read_counts(path: Path) -> dict[str, int]:
    """'word count' lines; lines that are blank, comments (';;;') or malformed are skipped."""
    counts: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) != 2 or line.startswith(";") or not fields[1].isdigit():
            continue
        counts[fields[0]] = counts.get(fields[0], 0) + int(fields[1])
    return counts


def symspell_counts() -> dict[str, int]:
    """symspellpy's 82,765-word English frequency dictionary (Google Books n-gram counts)."""
    path = _package_file("symspellpy", "frequency_dictionary_en_82_765.txt")
    if path is None:
        raise FileNotFoundError("symspellpy is not installed: no frequency_dictionary_en_82_765.txt")
    return _read_counts(path)


def textblob_counts() -> dict[str, int] | None:
    """textblob's en-spelling.txt (counts from Norvig's own big.txt corpus), or None without textblob."""
    path = _package_file("textblob", "en", "en-spelling.txt")
    return _read_counts(path) if path else None


# ---- correctors --------------------------------------------------------------------

class Corrector:
    name = "corrector"

    def correct(self, word: str) -> str:
        raise NotImplementedError

    def correct_many(self, words: Iterable[str]) -> list[str]:
        return [self.correct(w) for w in words]


def edits1(word: str) -> set[str]:
    """All strings one delete, adjacent transpose, replace or insert (over a-z) away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [left + right[1:] for left, right in splits if right]
    transposes = [left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1]
    replaces = [left + c + right[1:] for left, right in splits if right for c in LETTERS]
    inserts = [left + c + right for left, right in splits for c in LETTERS]
    return set(deletes + transposes + replaces + inserts)


def edits2(word: str):
    """All strings two edits away: a generator, as in Norvig's essay, since the set is large."""
    return (e2 for e1 in edits1(word) for e2 in edits1(e1))


class Norvig(Corrector):
    """Peter Norvig's corrector ("How to Write a Spelling Corrector"), from its description.

    P(c) is the word's count over the total; the candidates are the word itself if
    known, else the known words one edit away, else two edits away, else the word; the
    most probable candidate wins. The error model is just that ordering: any known word
    at distance 1 beats every word at distance 2, however rare it is.
    """

    name = "Norvig"

    def __init__(self, counts: dict[str, int]):
        self.counts = {w: c for w, c in counts.items() if c > 0}
        self.total = sum(self.counts.values())

    def probability(self, word: str) -> float:
        return self.counts.get(word, 0) / self.total

    def known(self, words: Iterable[str]) -> set[str]:
        return {w for w in words if w in self.counts}

    def candidates(self, word: str) -> set[str]:
        return self.known([word]) or self.known(edits1(word)) or self.known(edits2(word)) or {word}

    def correct(self, word: str) -> str:
        # sorted() first: max() over a bare set breaks ties by hash order, which changes
        # from run to run; this keeps equal-count ties on the alphabetically first word.
        return max(sorted(self.candidates(word)), key=self.probability)


class SymSpellBaseline(Corrector):
    """symspellpy's SymSpell over the given counts, top suggestion of a CLOSEST lookup.

    CLOSEST is what symspellpy's single-word lookup example uses; its first suggestion is
    the most frequent word at the smallest distance, the same word TOP would return.
    symspellpy measures distance as optimal string alignment, and caps it at max_edit_distance.
    """

    name = "symspellpy"

    def __init__(self, counts: dict[str, int], max_edit_distance: int = 2):
        from symspellpy import SymSpell, Verbosity

        self._verbosity = Verbosity.CLOSEST
        self.max_edit_distance = max_edit_distance
        self._sym = SymSpell(max_dictionary_edit_distance=max_edit_distance)
        for word, count in counts.items():
            self._sym.create_dictionary_entry(word, count)

    def correct(self, word: str) -> str:
        hits = self._sym.lookup(word, self._verbosity, max_edit_distance=self.max_edit_distance)
        return hits[0].term if hits else word


class PySpellCheckerBaseline(Corrector):
    """pyspellchecker's SpellChecker: its own English list by default, else the given counts.

    pyspellchecker is Norvig's algorithm too, but it edits over every letter its
    vocabulary contains (apostrophes included) and lowercases what it looks up.
    """

    name = "pyspellchecker"

    def __init__(self, counts: dict[str, int] | None = None, distance: int = 2):
        from spellchecker import SpellChecker

        if counts is None:
            self.vocabulary = "pyspellchecker en"
            self._spell = SpellChecker(language="en", distance=distance)
        else:
            # language=None starts it empty; load_json keeps the counts, where
            # load_words would give every word a count of one.
            self.vocabulary = "given counts"
            self._spell = SpellChecker(language=None, distance=distance)
            self._spell.word_frequency.load_json(dict(counts))

    def correct(self, word: str) -> str:
        return self._spell.correction(word) or word     # None when nothing is within reach


class IspellPipe(Corrector):
    """A spell checker driven through the ispell pipe protocol (`-a`), as editors and mail clients
    drive GNU Aspell and Hunspell: one word a line in, one answer a word out ('*' known, '& word n
    offset: first, second, ...' with suggestions, '#' none). Its own dictionary, as a user has it;
    the top suggestion is its correction. Every line starts with '^', which makes the checker read
    the rest as text: a word can never be taken for one of the protocol's commands."""

    def __init__(self, name: str, command: list[str]):
        if shutil.which(command[0]) is None:
            raise FileNotFoundError(f"{command[0]} is not installed (Debian: apt-get install aspell aspell-en "
                                    "hunspell hunspell-en-us)")
        self.name, self.command = name, command

    def correct(self, word: str) -> str:
        return self.correct_many([word])[0]

    def correct_many(self, words: Iterable[str]) -> list[str]:
        words = list(words)
        asked = [w for w in words if WORD.fullmatch(w)]                # a-z only reaches the checker
        out = subprocess.run(self.command, input="".join(f"^{w}\n" for w in asked), capture_output=True,
                             text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{self.command[0]} failed: {out.stderr.strip()[:300]}")
        # after the banner, each line sent gets its answer lines and then an empty line
        blocks, current = [], []
        for line in out.stdout.splitlines()[1:]:
            if line:
                current.append(line)
            else:
                blocks.append(current)
                current = []
        answers = dict(zip(asked, blocks))
        return [self._top(w, answers.get(w, [])) for w in words]

    @staticmethod
    def _top(word: str, answer: list[str]) -> str:
        for line in answer:
            if line.startswith("&") and ":" in line:
                return line.split(":", 1)[1].split(",")[0].strip().lower() or word
        return word


def aspell() -> IspellPipe:
    return IspellPipe("GNU Aspell (its en dictionary, sug-mode normal)",
                      ["aspell", "-a", "--lang=en", "--sug-mode=normal"])


def hunspell() -> IspellPipe:
    return IspellPipe("Hunspell (its en_US dictionary)", ["hunspell", "-a", "-d", "en_US"])


# ---- evaluation --------------------------------------------------------------------

def evaluate(corrector: Corrector, pairs: Sequence[tuple[str, str]], max_misses: int = 50) -> dict:
    """Accuracy and speed of `corrector` on (typo, expected) pairs; only correct_many is timed."""
    pairs = list(pairs)
    if not pairs:
        raise ValueError("evaluate() needs at least one (typo, expected) pair")
    typos = [typo for typo, _ in pairs]
    start, cpu = time.perf_counter(), _cpu_seconds()
    got = corrector.correct_many(typos)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    misses = [(typo, expected, g) for (typo, expected), g in zip(pairs, got) if g != expected]
    n = len(pairs)
    return {
        "accuracy": (n - len(misses)) / n,
        "n": n,
        "seconds": seconds,
        "words_per_s": n / seconds if seconds > 0 else float("inf"),
        # words per second of CPU time (all threads): what a busy shared machine does not distort
        "words_per_cpu_s": n / cpu if cpu > 0 else float("inf"),
        "misses": misses[:max_misses],
    }


def _cpu_seconds() -> float:
    # this process's CPU time and its finished children's: Aspell and Hunspell work in a subprocess
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def damerau_levenshtein(a: str, b: str) -> int:
    """Unrestricted Damerau-Levenshtein distance (Lowrance-Wagner).

    Unrestricted rather than optimal string alignment because that is the distance
    Norvig's edits2 covers: a second edit may land inside a transposed pair
    ('ca' -> 'ac' -> 'abc' is 2, where OSA counts 3).
    """
    inf = len(a) + len(b)
    # d is offset by one row and column so that index 0 can hold the sentinel `inf`.
    d = [[inf] * (len(b) + 2) for _ in range(len(a) + 2)]
    for i in range(len(a) + 1):
        d[i + 1][1] = i
    for j in range(len(b) + 1):
        d[1][j + 1] = j
    last_row: dict[str, int] = {}       # last row of a in which each character was seen
    for i in range(1, len(a) + 1):
        last_match_col = 0
        for j in range(1, len(b) + 1):
            k, l = last_row.get(b[j - 1], 0), last_match_col
            cost = 0 if a[i - 1] == b[j - 1] else 1
            if cost == 0:
                last_match_col = j
            d[i + 1][j + 1] = min(
                d[i][j] + cost,                                 # match or replace
                d[i + 1][j] + 1,                                # insert
                d[i][j + 1] + 1,                                # delete
                d[k][l] + (i - k - 1) + 1 + (j - l - 1),        # transpose, edits between
            )
        last_row[a[i - 1]] = i
    return d[len(a) + 1][len(b) + 1]


def oracle_coverage(pairs: Sequence[tuple[str, str]], distances: Iterable[int] = (1, 2, 3)) -> dict[int, float]:
    """Share of pairs whose correction is within each distance of the typo.

    The ceiling for a corrector that only looks that far, however good its ranking.
    """
    dist = [damerau_levenshtein(typo, expected) for typo, expected in pairs]
    return {k: sum(d <= k for d in dist) / len(dist) for k in distances}


def codespell_pairs(vocabulary: Iterable[str] | dict, n: int = 2000, seed: int = 0) -> list[tuple[str, str]]:
    """A fixed random sample of real-world typos (data.typos.spelling.codespell_pairs): the
    correction in `vocabulary` and the typo not in it (a known typo could never be
    corrected by a dictionary method, and would measure the dictionary, not the corrector)."""
    from data.typos.spelling import codespell_pairs as real_misspellings
    vocab = vocabulary if isinstance(vocabulary, (set, dict)) else set(vocabulary)
    return real_misspellings(vocab, sample=n, seed=seed)


# ---- Norvig's published examples ---------------------------------------------------

# From "How to Write a Spelling Corrector"; 'quintessential' is his example of a word
# returned as is (unknown to his corpus, it has no known word within two edits).
NORVIG_EXAMPLES = {
    "speling": "spelling",
    "korrectud": "corrected",
    "bycycle": "bicycle",
    "inconvient": "inconvenient",
    "arrainged": "arranged",
    "peotry": "poetry",
    "peotryy": "poetry",
    "word": "word",
    "quintessential": "quintessential",
}


def reproduce_norvig(counts: dict[str, int] | None = None) -> dict:
    """Our Norvig on his documented examples, since his test sets are not available offline.

    The vocabulary is textblob's en-spelling.txt when textblob is installed (counts from
    Norvig's big.txt, so closest to his), else symspellpy's 82k dictionary.
    """
    source = "given counts"
    if counts is None:
        counts = textblob_counts()
        source = "textblob en-spelling.txt"
        if counts is None:
            counts, source = symspell_counts(), "symspellpy frequency_dictionary_en_82_765.txt"
    model = Norvig(counts)
    got = {typo: model.correct(typo) for typo in NORVIG_EXAMPLES}
    failures = {t: (NORVIG_EXAMPLES[t], g) for t, g in got.items() if g != NORVIG_EXAMPLES[t]}
    return {
        "vocabulary": source,
        "words": len(model.counts),
        "corrections": got,
        "failures": failures,
        "passed": len(NORVIG_EXAMPLES) - len(failures),
        "total": len(NORVIG_EXAMPLES),
        "ok": not failures,
    }


# ---- measurement -------------------------------------------------------------------

def measure(n: int = 2000, seed: int = 0) -> dict:
    """All three correctors on one vocabulary (symspellpy's), plus pyspellchecker's own."""
    counts = symspell_counts()
    pairs = codespell_pairs(counts, n=n, seed=seed)
    rows = []
    for label, make in [
        ("Norvig", lambda: Norvig(counts)),
        ("symspellpy (CLOSEST, d<=2)", lambda: SymSpellBaseline(counts)),
        ("pyspellchecker (d<=2)", lambda: PySpellCheckerBaseline(counts)),
        ("pyspellchecker, own dictionary", lambda: PySpellCheckerBaseline()),
    ]:
        start = time.perf_counter()
        corrector = make()
        build = time.perf_counter() - start
        rows.append({"corrector": label, "build_s": build, **evaluate(corrector, pairs)})
    return {"n": len(pairs), "seed": seed, "oracle": oracle_coverage(pairs), "rows": rows}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    print("Norvig's examples:", reproduce_norvig())
    result = measure(args.n, args.seed)
    print(f"\n{result['n']} codespell pairs, random.Random({result['seed']}), symspellpy 82k vocabulary")
    print(f"{'corrector':34} {'accuracy':>8} {'words/s':>9} {'build s':>8}")
    for row in result["rows"]:
        print(f"{row['corrector']:34} {row['accuracy']:8.4f} {row['words_per_s']:9.1f} {row['build_s']:8.2f}")
    oracle = ", ".join(f"<={k}: {v:.4f}" for k, v in result["oracle"].items())
    print(f"oracle (correction within Damerau-Levenshtein distance) {oracle}")


if __name__ == "__main__":
    main()
