"""Correcting whole sentences: real-word errors, misspellings, and the words that were right.

    python -m models.typos.sentences [--weights runs/typos] [--split test] [--n 1500] [--json]

Sentences of New York Times editorials (the data root's sentiment/vader folder), each
word replaced, now and then, by a real-word confusion ("their" -> "there", "piece" ->
"peace") or by a real misspelling of it from codespell's list. Every corrector gets the
same sentences; per corrector the command counts, separately, the real-word errors
fixed, the misspellings fixed, and the correct words it changed, so a change that
breaks correct words shows. The context model's two settings were chosen on the dev
half; report the test half.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time

from tqdm import tqdm

from data.core.errors import DataError
from data.typos import spelling
from data.typos.context import TOKEN, Injected, editorial_sentences, inject_errors, split_of
from models import load_predictor
from models.core.checkpoint import CheckpointError
from models.typos.baselines import aspell
from models.core.cli import SEED, whole


def error_sentences(split: str = "test", n: int = 1500, seed: int = 0, root=None) -> list[Injected]:
    sentences = [s for s in editorial_sentences(root) if split_of(s) == split]
    rng = random.Random(seed)
    sentences = rng.sample(sentences, min(n, len(sentences)))
    misspellings: dict[str, list[str]] = {}
    for typo, word in spelling.codespell_pairs(spelling.load_vocabulary()):
        misspellings.setdefault(word, []).append(typo)
    return [inject_errors(s, misspellings, rng) for s in sentences]


def score(cases: list[Injected], outputs: list[str]) -> dict:
    """Counts per kind of word: fixed (the word meant), and correct words changed."""
    tally = {"real-word": [0, 0], "misspelling": [0, 0], "ok": [0, 0]}   # kind -> [right, of]
    for case, text in zip(cases, outputs):
        got = [m.group(0).lower() for m in TOKEN.finditer(text)]
        if len(got) != len(case.truth):
            got = [None] * len(case.truth)             # a corrector that split or merged words: all wrong
        for (_, meant), kind, g in zip(case.truth, case.kinds, got):
            tally[kind][0] += g == meant.lower()
            tally[kind][1] += 1
    return {"real_word_fixed": tally["real-word"][0], "real_word_errors": tally["real-word"][1],
            "misspellings_fixed": tally["misspelling"][0], "misspellings": tally["misspelling"][1],
            "correct_changed": tally["ok"][1] - tally["ok"][0], "correct_words": tally["ok"][1]}


def aspell_texts(cases: list[Injected]) -> list[str]:
    """Aspell's top suggestion for every word it does not know (it has no context)."""
    checker = aspell()
    words = sorted({m.group(0).lower() for c in cases for m in TOKEN.finditer(c.text)})
    fixed = dict(zip(words, checker.correct_many(words)))
    return [TOKEN.sub(lambda m: fixed.get(m.group(0).lower(), m.group(0)), c.text) for c in cases]


def run(weights=None, split: str = "test", n: int = 1500, seed: int = 0, root=None,
        peers: bool = True, progress: bool = False) -> dict:
    cases = error_sentences(split, n, seed, root)
    pred = load_predictor("typos", weights)
    rows = {}
    jobs = [("TypoNet + context", True), ("TypoNet alone", False)] + [("GNU Aspell", None)] * peers
    for name, use_context in tqdm(jobs, desc="sentences", unit="corrector", file=sys.stderr, disable=not progress):
        t0 = time.perf_counter()
        if use_context is None:
            try:
                outputs = aspell_texts(cases)
            except FileNotFoundError as e:
                rows[name] = {"missing": str(e)}
                continue
        else:
            outputs = [pred.correct_text(c.text, use_context=use_context)["text"] for c in cases]
        rows[name] = {**score(cases, outputs), "seconds": time.perf_counter() - t0}
    return {"split": split, "sentences": len(cases), "rows": rows}


def table(result: dict) -> str:
    lines = [f"{result['sentences']:,} editorial sentences ({result['split']} half) with errors injected",
             f"{'corrector':<20} {'real-word fixed':>16} {'misspellings fixed':>19} {'correct words changed':>22}",
             "-" * 80]
    for name, r in result["rows"].items():
        if "missing" in r:
            lines.append(f"{name:<20} not measured: {r['missing']}")
            continue
        rw = f"{r['real_word_fixed']}/{r['real_word_errors']} {r['real_word_fixed'] / max(r['real_word_errors'], 1):.0%}"
        ms = f"{r['misspellings_fixed']}/{r['misspellings']} {r['misspellings_fixed'] / max(r['misspellings'], 1):.1%}"
        ok = f"{r['correct_changed']}/{r['correct_words']} {r['correct_changed'] / max(r['correct_words'], 1):.2%}"
        lines.append(f"{name:<20} {rw:>16} {ms:>19} {ok:>22}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.typos.sentences", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--split", choices=("dev", "test"), default="test")
    p.add_argument("--n", type=whole(0), default=1500, help="sentences (at most the half's 2,600 or so)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    try:
        result = run(args.weights, args.split, args.n, args.seed, args.data, progress=True)
    except (DataError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
