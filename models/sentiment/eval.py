"""The sentiment model beside its peers, in the same run: VADER (rules and a lexicon,
nothing trained) and TF-IDF + logistic regression (word n-grams, the classic one, and
word + character n-grams) trained on the model's own training sentences; on SST-2
test, the fixed rt-polarity test and the validation splits of the VADER study's
tweets and editorials (--final adds their test splits), and on your own labelled texts.

    python -m models.sentiment.eval [--weights runs/sentiment] [--data ../shared/datasets] [--final] [--json]
    python -m models.sentiment.eval --custom my_reviews.csv   # one more column: your texts

--custom takes a CSV or TSV with a text and a label column (negative/positive, 0/1, -1/0/1 or 1-5
stars; neutral rows are left out): is the model better than VADER on what you write about? Without
the datasets it still compares the model and VADER on your texts (the TF-IDF peers need the model's
training sentences).

Neither test set was trained or tuned on: the rt-polarity test sentences are in
no SST-2 split, and rt-polarity sentences that SST-2 dev or test hold were
removed from training. Also prints throughput in batches (sentences/s, median of
--repeats rounds), how far the model is from the 85% target, and the written sentences
(data/sentiment/phrasings.tsv) counted by kind for every model: where the network leads the
lexicon and where it trails.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
from tqdm import tqdm

from data.core.errors import DataError, DatasetMissing
from data.sentiment.datasets import LABELS, Texts, as_polarity, load_phrasings, read_labelled_file
from data.sentiment.text import MAX_CHARS
from models.core.checkpoint import CheckpointError
from models import load_predictor
from models.sentiment.vader import analyzer
from models.core.cli import THREADS, whole

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


PEERS = {"tfidf_logreg": "TF-IDF words + logistic regression", "tfidf_chars_logreg": "TF-IDF words+chars + log. reg.",
         "vader": "VADER (compound >= 0)"}
# the columns: every set is held out of training; SST-2 dev and the VADER validation splits chose
# the recipe, the VADER test splits are read once, at the end (--final)
SETS = {"dev": "SST-2 dev", "test": "SST-2 test", "rt_test": "RT test", "tweets_val": "tweets val", "editorials_val": "editorials val",
        "phrasings": "written"}
FINAL_SETS = {"tweets_test": "tweets test", "editorials_test": "editorials test"}
CUSTOM = {"custom": "your texts"}
NAMES = {**SETS, **FINAL_SETS, **CUSTOM}


class VaderPeer:
    """The rule-based analyser most people reach for first (vaderSentiment, MIT): positive when
    its compound score is 0 or more. Nothing to train."""

    def __init__(self):
        self.analyzer = analyzer()      # VADER 3.3.2's scores in time linear in the text (models/sentiment/vader.py)

    def predict(self, texts) -> list[int]:
        return [vader_positive(self.analyzer.polarity_scores(t)["compound"]) for t in texts]


def vader_positive(compound: float) -> int:
    """VADER's compound score read as two classes, as the peer reads it everywhere: 1 when it is 0 or more."""
    return int(compound >= 0)


def vader_verdict(text: str) -> tuple[str, float]:
    """VADER's label for one text, read as the peer reads it, and its compound score (-1..1)."""
    compound = analyzer().polarity_scores(text)["compound"]
    return LABELS[vader_positive(compound)], compound


def accuracy(pred_labels, targets, labels) -> float:
    return sum(labels[t] == p for p, t in zip(pred_labels, targets)) / max(len(targets), 1)


def versus_vader(found: Texts, ours: dict[str, str], max_chars: int = 2_000_000) -> dict:
    """A user's labelled texts (as_polarity): how often the model and VADER are right. `ours` is the
    model's label for each text, from the pass that scored them (a text it did not score is left out).
    The rows are taken in order until they hold `max_chars` characters (VADER reads about a million a
    second, fewer when they are emoji); "cut" says whether rows were left out."""
    scored = [(t, y) for t, y in zip(found.texts, found.targets) if t in ours]
    texts, targets, used = [], [], 0
    for t, y in scored:
        used += len(t)
        if used > max_chars and texts:
            break
        texts.append(t)
        targets.append(y)
    vader = [found.labels[i] for i in VaderPeer().predict(texts)]
    return {"n": len(texts), "cut": len(texts) < len(scored),
            "model": accuracy([ours[t] for t in texts], targets, found.labels),
            "vader": accuracy(vader, targets, found.labels)}


def by_kind(kinds: list[str], found: Texts, predicted: dict[str, list[str]]) -> dict:
    """How many of each kind of written sentence (contrast, negation, emoticon, ...) each model gets
    right: where the network leads the lexicon and where it does not."""
    out: dict = {}
    for i, kind in enumerate(kinds):
        row = out.setdefault(kind, {"n": 0, **{who: 0 for who in predicted}})
        row["n"] += 1
        for who, labels in predicted.items():
            row[who] += labels[i] == found.labels[found.targets[i]]
    return dict(sorted(out.items()))


def throughput(predictor, texts, repeats: int = 3) -> float:
    """Sentences/s, median of `repeats` rounds, each one predict() call on the whole list
    (the predictor sorts it by length and reads it in batches of 512), tokenizing included."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.predict(list(texts))
        rates.append(len(texts) / (time.perf_counter() - t0))
    return statistics.median(rates)


def load_custom(path, text_column: str | None = None, label_column: str | None = None) -> tuple[Texts, str]:
    """A user's labelled texts for the comparison, as negative / positive, and how the labels were read.
    Texts too long for the model (over MAX_CHARS) are skipped and reported, as empty rows are."""
    found = read_labelled_file(path, text_column=text_column, label_column=label_column)
    keep = [i for i, t in enumerate(found.texts) if len(t) <= MAX_CHARS]
    skipped = found.skipped + [(f"a text of {len(t):,} characters", f"over {MAX_CHARS:,}")
                               for t in found.texts if len(t) > MAX_CHARS]
    found = Texts([found.texts[i] for i in keep], [found.targets[i] for i in keep], found.labels, skipped)
    return as_polarity(found)


def compare(weights=None, root=None, repeats: int = 3, peers=tuple(PEERS), final: bool = False,
            progress: bool = False, custom: Texts | None = None) -> dict:
    from models.sentiment.task import TASK
    pred = load_predictor("sentiment", weights)
    if list(pred.labels) != LABELS:
        raise DataError(f"{weights or 'the shipped model'} says {', '.join(pred.labels)}: the comparison with "
                        "VADER and the sets here needs a model that says negative or positive.")
    notes = []
    try:
        parts = dict(TASK.texts(root))   # the peers train on what the model did
        parts["phrasings"], kinds = load_phrasings()
        sets = {**SETS, **(FINAL_SETS if final else {})}
    except DatasetMissing as e:
        if custom is None:
            raise
        # your texts can still be compared with VADER, which trains on nothing
        parts, sets, peers = {}, {}, tuple(p for p in peers if p == "vader")
        notes.append(f"{e.sentence} So only your texts are measured, beside VADER: the TF-IDF peers learn from "
                     "the model's training sentences.")
    if custom is not None:
        parts["custom"], sets = custom, {**sets, **CUSTOM}
    rows: dict = {"model": {}}
    written: dict[str, list[str]] = {}     # each model's labels for the written sentences, for by_kind
    for name in sets:
        data = parts[name]
        said = [r["label"] for r in pred.predict(data.texts)]
        rows["model"][name] = accuracy(said, data.targets, data.labels)
        if name == "phrasings":
            written["model"] = said
    texts = (parts.get("test") or parts["custom"]).texts
    rows["model"]["sentences_per_s"] = throughput(pred, texts, repeats)
    for peer_name in tqdm(peers, desc="peers", unit="peer", file=sys.stderr, disable=not progress):
        t0 = time.perf_counter()
        if peer_name == "vader":
            peer = VaderPeer()
        else:
            peer = tfidf_peer(parts["train"].texts, parts["train"].targets, chars=peer_name == "tfidf_chars_logreg")
        row = rows[peer_name] = {"fit_seconds": time.perf_counter() - t0}
        for name in sets:
            data = parts[name]
            said = [data.labels[i] for i in peer.predict(data.texts)]
            row[name] = accuracy(said, data.targets, data.labels)
            if name == "phrasings":
                written[peer_name] = said
        t0 = time.perf_counter()
        peer.predict(texts)
        row["sentences_per_s"] = len(texts) / (time.perf_counter() - t0)
    margins = {name: 100 * (rows["model"][name] - max(rows[p][name] for p in peers)) for name in sets}
    result = {"weights": weights or "shipped", "threads": torch.get_num_threads(),
              "train_sentences": len(parts["train"]) if "train" in parts else None,
              "sets": {name: len(parts[name]) for name in sets}, "rows": rows,
              "margins_over_best_peer_points": margins, "notes": notes}
    if written:
        result["written_by_kind"] = by_kind(kinds, parts["phrasings"], written)
    if "test" in parts:
        result.update(sst2_test=len(parts["test"]), rt_test=len(parts["rt_test"]),
                      to_target_points=100 * (TARGET - rows["model"]["test"]))
        if "tfidf_logreg" in rows:
            result["margin_over_peer_points"] = 100 * (rows["model"]["test"] - rows["tfidf_logreg"]["test"])
    return result


def table(r: dict) -> str:
    sets = list(r["sets"])
    head = f"{'model':<34}" + "".join(f" {NAMES[s]:>15}" for s in sets) + f" {'sentences/s':>12}"
    lines = [head, "-" * len(head)]
    names = {"model": "SentiNet (ours, shipped)" if r["weights"] == "shipped" else f"SentiNet ({r['weights']})",
             **PEERS}
    for key, row in r["rows"].items():
        lines.append(f"{names[key]:<34}" + "".join(f" {row[s]:>15.1%}" for s in sets)
                     + f" {row['sentences_per_s']:>12,.0f}")
    trained = f"; trained on {r['train_sentences']:,} sentences" if r["train_sentences"] else ""
    lines.append("n = " + ", ".join(f"{n:,} {NAMES[s]}" for s, n in r["sets"].items())
                 + f"{trained}; {r['threads']} threads")
    lines.append("margin over the best peer, points: " + ", ".join(
        f"{NAMES[s]} {m:+.1f}" for s, m in r["margins_over_best_peer_points"].items()))
    if "to_target_points" in r:
        lines.append("SST-2 test: " + ("target 85% reached" if r["to_target_points"] <= 0 else
                                       f"{r['to_target_points']:.1f} points short of the 85% target"))
    if r.get("written_by_kind"):
        who = list(r["rows"])
        short = {"model": "SentiNet", "tfidf_logreg": "TF-IDF", "tfidf_chars_logreg": "TF-IDF+chars", "vader": "VADER"}
        lines += ["", f"{'written sentences, right of n':<34} {'n':>4}" + "".join(f" {short[w]:>12}" for w in who)]
        lines += [f"{kind:<34} {row['n']:>4}" + "".join(f" {row[w]:>12}" for w in who)
                  for kind, row in r["written_by_kind"].items()]
    return "\n".join(lines + r["notes"])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.sentiment.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--data", help="data root (default: $BACKPROP_DATA)")
    p.add_argument("--threads", type=THREADS, default=2)
    p.add_argument("--repeats", type=whole(1, 100), default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--final", action="store_true",
                   help="also the VADER tweets' and editorials' test splits: read them once, at the end")
    p.add_argument("--custom", help="also your own labelled texts: a CSV or TSV with a text and a label column")
    p.add_argument("--text-column", help="the --custom file's column of texts, by its header's name (default: "
                                         "found by name: text, sentence, review, reviewText, ...)")
    p.add_argument("--label-column", help="its column of labels (default: found by name: label, sentiment, "
                                          "rating, stars, score, ...)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        custom = None
        if args.custom:
            custom, how = load_custom(args.custom, args.text_column, args.label_column)
            skipped = "; ".join(f"{where} ({why})" for where, why in custom.skipped[:3])
            print(f"your texts: {len(custom):,}, labels read as {how}" + (
                f"; {len(custom.skipped):,} skipped: {skipped}{', ...' if len(custom.skipped) > 3 else ''}"
                if custom.skipped else ""), file=sys.stderr)
        result = compare(args.weights, args.data, args.repeats, final=args.final, progress=True, custom=custom)
    except (DataError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
