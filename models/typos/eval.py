"""The Typos model beside the classic correctors, on real human misspellings.

    python -m models.typos.eval [--weights runs/typos] [--sample 2000] [--hard-sample 1000] [--json]

Every corrector gets the same pairs, on two splits: a fixed sample of codespell's
list of common misspellings whose correction is in the model's vocabulary, and
the hard split, those of its misspellings three or more edits from the word
(where poor spellers' errors are). These pairs are for evaluation only: nothing is trained or
tuned on them. Prints accuracy and throughput side by side, and the oracle (how
often the intended word is among the model's candidates at all).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch
from tqdm import tqdm

from data.typos import spelling
from data.typos.features import char_row, pair_ops
from data.core.errors import DataError
from models import load_predictor
from models.core.checkpoint import CheckpointError, record_evaluation, shipped_path
from models.typos.baselines import Norvig, PySpellCheckerBaseline, SymSpellBaseline, aspell, evaluate, hunspell
from models.core.cli import SEED, THREADS, whole


class Ours:
    name = "TypoNet (ours)"

    def __init__(self, predictor):
        self.predictor = predictor

    def correct_many(self, words):
        return [r["label"] for r in self.predictor.predict(list(words))]


PEERS = ("Norvig", "symspellpy", "pyspellchecker", "GNU Aspell", "Hunspell")
# the two Python correctors that search two edits and no further, at 20-40 words/s: on the hard
# split they cannot be right by construction, and would add minutes to every run
TWO_EDIT_ONLY = ("Norvig", "pyspellchecker")
SPLITS = {"common": "common misspellings (codespell)",
          "hard": "misspellings 3+ edits away (codespell)"}


def _makers():
    # Aspell and Hunspell use their own dictionaries, as a user has them; the others get the model's
    return {"Norvig": Norvig, "symspellpy": SymSpellBaseline, "pyspellchecker": PySpellCheckerBaseline,
            "GNU Aspell": lambda counts: aspell(), "Hunspell": lambda counts: hunspell()}


def _ours(pred, pairs) -> dict:
    runs = []
    for _ in range(3):                       # the median of three runs, each from cold caches
        pred.index.lookup.cache_clear()
        pair_ops.cache_clear()
        char_row.cache_clear()
        runs.append(evaluate(Ours(pred), pairs))
    return sorted(runs, key=lambda r: r["words_per_s"])[1]


def compare(weights=None, sample: int = 2000, seed: int = 0, baselines=PEERS,
            norvig_sample: int | None = None, hard_sample: int | None = 1000, progress: bool = False) -> dict:
    """Every corrector on both splits, in one run. Returns {"splits": {name: split result}}
    and, at the top level, the common split's figures (as before the hard split existed)."""
    pred = load_predictor("typos", weights)
    counts = pred.index.counts
    vocab = spelling.load_vocabulary()
    sets = {"common": spelling.codespell_pairs(vocab, sample=sample, seed=seed),
            "hard": spelling.hard_pairs(vocab, sample=hard_sample, seed=seed) if hard_sample else []}
    # a pair counts when its correction is a word the model knows and its typo is not
    sets = {split: [(t, c) for t, c in pairs if c in counts and t not in counts] for split, pairs in sets.items()}
    jobs = [(split, name) for split in sets if sets[split]
            for name in (Ours.name, *baselines) if not (split == "hard" and name in TWO_EDIT_ONLY)]
    bar = tqdm(jobs, desc="typos eval", unit="corrector", file=sys.stderr, disable=not progress)
    out, missing = {}, {}
    for split, name in bar:
        bar.set_postfix_str(f"{split}: {name}")
        pairs = sets[split]
        res = out.setdefault(split, {"pairs": len(pairs), "rows": {}, "skipped": list(TWO_EDIT_ONLY)
                                     if split == "hard" else []})
        if name == Ours.name:
            t0 = time.perf_counter()
            oracle = sum(c in pred.index.lookup(t).words for t, c in pairs) / max(len(pairs), 1)
            res["rows"]["oracle (intended word among the candidates)"] = {
                "accuracy": oracle, "n": len(pairs), "seconds": time.perf_counter() - t0}
            res["rows"][name] = _ours(pred, pairs)
            continue
        subset = pairs[:norvig_sample] if (name == "Norvig" and norvig_sample) else pairs
        try:
            corrector = _makers()[name](counts)
        except FileNotFoundError as e:           # a Debian package not installed here
            missing[name] = f"{name}: {e}"
            continue
        res["rows"][name] = evaluate(corrector, subset)
    for res in out.values():
        peers = [v["accuracy"] for k, v in res["rows"].items() if k in baselines]
        res["best_classic"] = max(peers, default=float("nan"))
        res["margin_points"] = 100 * (res["rows"][Ours.name]["accuracy"] - res["best_classic"])
    common = out["common"]
    return {**common, "splits": out, "missing": list(missing.values())}


def candidate_report(weights=None, sample: int = 2000, hard_sample: int | None = None, seed: int = 0) -> dict:
    """How often each candidate search alone, and each mix, finds the intended word (the
    oracle), on both splits, and how long a lookup takes (from cold caches)."""
    pred = load_predictor("typos", weights)
    index, vocab = pred.index, spelling.load_vocabulary()
    out = {}
    for split, pairs in (("common", spelling.codespell_pairs(vocab, sample=sample, seed=seed)),
                         ("hard", spelling.hard_pairs(vocab, sample=hard_sample, seed=seed))):
        pairs = [(t, c) for t, c in pairs if c in index.counts and t not in index.counts]
        index.lookup.cache_clear()
        t0 = time.perf_counter()
        found = [index.lookup(t) for t, _ in pairs]
        micros = 1e6 * (time.perf_counter() - t0) / max(len(pairs), 1)
        mixes = {"edits (two-edit search)": {"edits"}, "edits + sound": {"edits", "sound"},
                 "edits + sound + consonants (all)": {"edits", "sound", "consonants"}}
        out[split] = {"pairs": len(pairs), "lookup_us": micros,
                      "mean_candidates": sum(len(f.words) for f in found) / max(len(found), 1),
                      "oracle": {name: sum(c in [w for w, s in zip(f.words, f.sources) if s in keep]
                                           for (_, c), f in zip(pairs, found)) / max(len(pairs), 1)
                                 for name, keep in mixes.items()}}
    return out


def table(result: dict) -> str:
    lines = []
    for split, res in result["splits"].items():
        lines += [f"{SPLITS[split]}: {res['pairs']:,} pairs",
                  f"{'corrector':<46} {'top-1':>7} {'words/s':>9} {'words/CPU-s':>12} {'n':>6}", "-" * 84]
        for name, r in res["rows"].items():
            wps = f"{r['words_per_s']:,.0f}" if "words_per_s" in r else "-"
            cps = f"{r['words_per_cpu_s']:,.0f}" if "words_per_cpu_s" in r else "-"
            lines.append(f"{name:<46} {r['accuracy']:>7.1%} {wps:>9} {cps:>12} {r['n']:>6}")
        lines.append(f"margin over the best classic corrector: {res['margin_points']:+.1f} points")
        if res["skipped"]:
            lines.append(f"not run here: {', '.join(res['skipped'])} (they search two edits, so none of these "
                         "is within their reach)")
        lines.append("")
    lines += [f"not measured: {m}" for m in result.get("missing", [])]
    lines.append("(GNU Aspell and Hunspell use their own English dictionaries, driven through their -a pipe "
                 "mode; the others get the model's vocabulary)")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.typos.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--sample", type=whole(1), default=2000, help="codespell pairs to sample")
    p.add_argument("--hard-sample", type=whole(0), default=1000,
                   help="pairs three or more edits away to sample (0: leave the hard split out)")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--threads", type=THREADS, default=1,
                   help="torch threads (default 1: for this small network a second thread costs more than "
                        "it gives; the candidate search is Python on one core either way)")
    p.add_argument("--record", action="store_true",
                   help="write the figures into the model's card (the apps show them)")
    p.add_argument("--candidates", action="store_true",
                   help="report only the candidate searches: how often each finds the intended word, and "
                        "how fast")
    args = p.parse_args(argv)
    try:
        return run(args)
    except (DataError, CheckpointError, ValueError) as e:     # a bad --weights: a message, not a traceback
        print(f"error: {e}", file=sys.stderr)
        return 2


def run(args) -> int:
    torch.set_num_threads(args.threads)
    if args.candidates:
        report = candidate_report(args.weights, args.sample, args.hard_sample or None, args.seed)
        if args.json:
            print(json.dumps(report, indent=2))
            return 0
        for split, r in report.items():
            print(f"{SPLITS[split]}: {r['pairs']:,} pairs; {r['lookup_us']:,.0f} µs a lookup, "
                  f"{r['mean_candidates']:.1f} candidates on average")
            for name, v in r["oracle"].items():
                print(f"  intended word found by {name:<34} {v:>6.1%}")
        return 0
    result = compare(args.weights, args.sample, args.seed, hard_sample=args.hard_sample or None, progress=True)
    if args.json:
        for res in result["splits"].values():
            for r in res["rows"].values():
                r.pop("misses", None)
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    if args.record:
        ours = result["rows"][Ours.name]
        summary = {"pairs": result["pairs"], "accuracy": ours["accuracy"], "words_per_s": ours["words_per_s"],
                   "words_per_cpu_s": ours["words_per_cpu_s"],
                   "best_classic": result["best_classic"], "margin_points": result["margin_points"]}
        if "hard" in result["splits"]:
            hard = result["splits"]["hard"]
            summary["hard"] = {"pairs": hard["pairs"], "accuracy": hard["rows"][Ours.name]["accuracy"],
                               "best_classic": hard["best_classic"],
                               "oracle": hard["rows"]["oracle (intended word among the candidates)"]["accuracy"]}
        headline = (f"{ours['accuracy']:.1%} top-1 on real misspellings (codespell), "
                    f"classic correctors {result['best_classic']:.1%}")
        record_evaluation(args.weights or shipped_path("typos"), "codespell", summary, headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
