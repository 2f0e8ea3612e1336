"""The sentiment model beside TF-IDF + logistic-regression peers (word n-grams, the
classic one, and word + character n-grams) trained on the same sentences in the same run, on SST-2 test and on the fixed rt-polarity test.

    python -m models.sentiment.eval [--weights runs/sentiment] [--data ../shared/datasets] [--json]

Neither test set was trained or tuned on: the rt-polarity test sentences are in
no SST-2 split, and rt-polarity sentences that SST-2 dev or test hold were
removed from training. Also prints throughput in batches (sentences/s, median of
--repeats rounds) and how far the model is from the 85% target.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from data.core.errors import DataError
from models.core.checkpoint import CheckpointError
from models import load_predictor

TARGET = 0.85


def tfidf_peer(train_texts, train_targets, chars: bool = False):
    """TF-IDF of word 1-2 grams (the classic peer), optionally with character 2-5 grams
    (a stronger one), and logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    features = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    if chars:
        features = make_union(features, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                                        sublinear_tf=True))
    return make_pipeline(features, LogisticRegression(C=4.0, max_iter=2000)).fit(train_texts, train_targets)


PEERS = {"tfidf_logreg": "TF-IDF words + logistic regression", "tfidf_chars_logreg": "TF-IDF words+chars + log. reg."}


def accuracy(pred_labels, targets, labels) -> float:
    return sum(labels[t] == p for p, t in zip(pred_labels, targets)) / max(len(targets), 1)


def throughput(predictor, texts, repeats: int = 3) -> float:
    """Sentences/s, median of `repeats` rounds, each one predict() call on the whole list
    (the predictor sorts it by length and reads it in batches of 512), tokenizing included."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.predict(list(texts))
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates)


def compare(weights=None, root=None, repeats: int = 3, peers=("tfidf_logreg", "tfidf_chars_logreg")) -> dict:
    from models.sentiment.task import TASK, official_texts
    pred = load_predictor("sentiment", weights)
    parts = official_texts(root, 0, TASK.lexicon_sentences)     # the peers train on what the model did
    rows: dict = {"model": {}}
    for name in ("test", "rt_test"):
        data = parts[name]
        rows["model"][name] = accuracy([r["label"] for r in pred.predict(data.texts)], data.targets, data.labels)
    texts = parts["test"].texts
    rows["model"]["sentences_per_s"] = throughput(pred, texts, repeats)
    for peer_name, chars in (("tfidf_logreg", False), ("tfidf_chars_logreg", True)):
        if peer_name not in peers:
            continue
        t0 = time.perf_counter()
        peer = tfidf_peer(parts["train"].texts, parts["train"].targets, chars)
        row = rows[peer_name] = {"fit_seconds": time.perf_counter() - t0}
        for name in ("test", "rt_test"):
            data = parts[name]
            row[name] = accuracy([data.labels[i] for i in peer.predict(data.texts)], data.targets, data.labels)
        t0 = time.perf_counter()
        peer.predict(texts)
        row["sentences_per_s"] = len(texts) / (time.perf_counter() - t0)
    return {"weights": weights or "shipped", "threads": torch.get_num_threads(), "train_sentences": len(parts["train"]),
            "sst2_test": len(parts["test"]), "rt_test": len(parts["rt_test"]), "rows": rows,
            "margin_over_peer_points": 100 * (rows["model"]["test"] - rows["tfidf_logreg"]["test"]),
            "margin_over_stronger_peer_points": 100 * (rows["model"]["test"] - rows.get("tfidf_chars_logreg", {}).get("test", float("nan"))),
            "to_target_points": 100 * (TARGET - rows["model"]["test"])}


def table(r: dict) -> str:
    lines = [f"{'model':<34} {'SST-2 test':>10} {'RT test':>8} {'sentences/s':>12}", "-" * 67]
    names = {"model": "SentiNet (ours, shipped)" if r["weights"] == "shipped" else f"SentiNet ({r['weights']})",
             **PEERS}
    for key, row in r["rows"].items():
        lines.append(f"{names[key]:<34} {row['test']:>10.1%} {row['rt_test']:>8.1%} {row['sentences_per_s']:>12,.0f}")
    lines.append(f"n = {r['sst2_test']} SST-2 test, {r['rt_test']} rt-polarity test; trained on {r['train_sentences']} "
                 f"sentences; {r['threads']} threads")
    lines.append(f"margin over the TF-IDF peer: {r['margin_over_peer_points']:+.1f} points (over the one with "
                 f"character n-grams: {r['margin_over_stronger_peer_points']:+.1f}); "
                 + ("target 85% reached" if r["to_target_points"] <= 0 else
                    f"{r['to_target_points']:.1f} points short of the 85% target"))
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.sentiment.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        result = compare(args.weights, args.data, args.repeats)
    except (DataError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
