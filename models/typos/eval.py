"""The Typos model beside the classic correctors, on real human misspellings.

    python -m models.typos.eval [--weights runs/typos] [--sample 2000] [--json]

Every corrector gets the same vocabulary (the model's) and the same pairs: a
fixed sample of codespell's list of common misspellings whose correction is in
that vocabulary. These pairs are for evaluation only: nothing is trained or
tuned on them. Prints accuracy and throughput side by side, and the oracle (how
often the intended word is among the model's candidates at all).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from data.typos import spelling
from data.typos.features import char_row, pair_ops
from models.core.checkpoint import record_evaluation
from models import load_predictor
from models.core.checkpoint import shipped_path
from models.typos.baselines import Norvig, PySpellCheckerBaseline, SymSpellBaseline, aspell, evaluate, hunspell


class Ours:
    name = "TypoNet (ours)"

    def __init__(self, predictor):
        self.predictor = predictor

    def correct_many(self, words):
        return [r["label"] for r in self.predictor.predict(list(words))]


PEERS = ("Norvig", "symspellpy", "pyspellchecker", "GNU Aspell", "Hunspell")


def compare(weights=None, sample: int = 2000, seed: int = 0, baselines=PEERS,
            norvig_sample: int | None = None) -> dict:
    pred = load_predictor("typos", weights)
    counts = pred.index.counts
    vocab = spelling.load_vocabulary()
    pairs = [(t, c) for t, c in spelling.codespell_pairs(vocab, sample=sample, seed=seed)
             if c in counts and t not in counts]
    t0 = time.perf_counter()
    oracle = sum(c in pred.index.lookup(t).words for t, c in pairs) / max(len(pairs), 1)
    rows = {"oracle (intended word among the candidates)": {"accuracy": oracle, "n": len(pairs),
                                                            "seconds": time.perf_counter() - t0}}
    runs = []
    for _ in range(3):                       # the median of three runs, each from cold caches
        pred.index.lookup.cache_clear()
        pair_ops.cache_clear()
        char_row.cache_clear()
        runs.append(evaluate(Ours(pred), pairs))
    rows[Ours.name] = sorted(runs, key=lambda r: r["words_per_s"])[1]
    # Aspell and Hunspell use their own dictionaries, as a user has them; the others get the model's
    makers = {"Norvig": Norvig, "symspellpy": SymSpellBaseline, "pyspellchecker": PySpellCheckerBaseline,
              "GNU Aspell": lambda counts: aspell(), "Hunspell": lambda counts: hunspell()}
    missing = []
    for name in baselines:
        subset = pairs[:norvig_sample] if (name == "Norvig" and norvig_sample) else pairs
        try:
            corrector = makers[name](counts)
        except FileNotFoundError as e:           # a Debian package not installed here
            missing.append(f"{name}: {e}")
            continue
        rows[name] = evaluate(corrector, subset)
    best = max(v["accuracy"] for k, v in rows.items() if k in baselines)
    return {"pairs": len(pairs), "rows": rows, "best_classic": best, "missing": missing,
            "margin_points": 100 * (rows[Ours.name]["accuracy"] - best)}


def table(result: dict) -> str:
    lines = [f"{'corrector':<46} {'top-1':>7} {'words/s':>9} {'words/CPU-s':>12} {'n':>6}", "-" * 84]
    for name, r in result["rows"].items():
        wps = f"{r['words_per_s']:,.0f}" if "words_per_s" in r else "-"
        cps = f"{r['words_per_cpu_s']:,.0f}" if "words_per_cpu_s" in r else "-"
        lines.append(f"{name:<46} {r['accuracy']:>7.1%} {wps:>9} {cps:>12} {r['n']:>6}")
    lines.append(f"margin over the best classic corrector: {result['margin_points']:+.1f} points")
    lines += [f"not measured: {m}" for m in result.get("missing", [])]
    lines.append("(GNU Aspell and Hunspell use their own English dictionaries, driven through their -a pipe "
                 "mode; the others get the model's vocabulary)")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.typos.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--sample", type=int, default=2000, help="codespell pairs to sample")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: for this small network a second thread costs more than "
                        "it gives; the candidate search is Python on one core either way)")
    p.add_argument("--record", action="store_true",
                   help="write the figures into the model's card (the apps show them)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = compare(args.weights, args.sample, args.seed)
    if args.json:
        for r in result["rows"].values():
            r.pop("misses", None)
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    if args.record:
        ours = result["rows"][Ours.name]
        summary = {"pairs": result["pairs"], "accuracy": ours["accuracy"], "words_per_s": ours["words_per_s"],
                   "words_per_cpu_s": ours["words_per_cpu_s"],
                   "best_classic": result["best_classic"], "margin_points": result["margin_points"]}
        headline = (f"{ours['accuracy']:.1%} top-1 on real misspellings (codespell), "
                    f"classic correctors {result['best_classic']:.1%}")
        record_evaluation(args.weights or shipped_path("typos"), "codespell", summary, headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
