"""Labelled sentences for the sentiment task: SST-2, Rotten Tomatoes sentence
polarity, human-rated tweets and newspaper editorials from the VADER study, and a
user's own CSV or TSV.

SST-2 was cut from the same reviews as rt-polarity: about 73% of its test
sentences are also rt-polarity lines. `rt_split` therefore drops every
rt-polarity sentence that SST-2's dev or test set holds (compared lowercased
with everything but letters and digits removed) before any of it is trained on,
and keeps a fixed, seeded 10% of what is left as its own test set.
"""
from __future__ import annotations

import csv
import gzip
import io
import hashlib
import html
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from data.core.download import DATASETS, sentence_start
from data.core.errors import DataError, DatasetMissing
from data.core.labels import check_labels
from data.core.uploads import csv_rows, decode_text, delimiter, read_file
from data.core.root import find

SST_FILES = {"train": "stsa.binary.train.gz", "dev": "stsa.binary.dev.gz", "test": "stsa.binary.test.gz"}
RT_FILES = {"negative": "rt-polarity.neg.gz", "positive": "rt-polarity.pos.gz"}
LABELS = ["negative", "positive"]
MAX_ROWS = 200_000
MAX_FILE_BYTES = 64 * 2**20     # a labelled file to train or compare on is read no further than this
# the columns that hold texts and labels, best first: a header's exact name, else one that holds it
# ("reviewText", "review_body", "star_rating", "airline_sentiment"); a rating is a sentiment's label
# before a category is
TEXT_NAMES = ("text", "sentence", "review", "tweet", "content", "body", "comment", "message", "document")
LABEL_NAMES = ("label", "sentiment", "polarity", "rating", "stars", "score", "overall", "class", "target",
               "category", "y")


@dataclass
class Texts:
    texts: list[str]
    targets: list[int]
    labels: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (row, why), for the report

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> dict[str, int]:
        return {lab: self.targets.count(i) for i, lab in enumerate(self.labels)}

    # what the command line's report expects of a custom data set
    @property
    def items(self) -> list[str]:
        return self.texts

    @property
    def classes(self) -> list[str]:
        return self.labels


def key(sentence: str) -> str:
    """What two copies of a sentence share: lowercase letters and digits."""
    return re.sub(r"[\W_]+", "", sentence.lower())


def sentence_keys(snippet: str) -> set[str]:
    """Keys of a snippet and of each of its sentences: an rt-polarity line of two
    sentences holds two SST-2 sentences, each of which may be in a test set."""
    return {key(snippet)} | {key(p) for p in re.split(r"(?<=[.!?])\s+", snippet)}


FILES = {"sst2": SST_FILES, "rt-polarity": RT_FILES}


def _missing(name: str, path: Path, files: str = "") -> DatasetMissing:
    title = DATASETS[name].title
    return DatasetMissing(f"{sentence_start(title)} {'are' if name == 'vader' else 'is'} missing: expected "
                          f"{files + ' in ' if files else ''}{path}.", what=title, where=path, dataset=name)


def _folder(root, name: str) -> Path:
    folder = find(root, "sentiment", name)
    if not folder.is_dir():
        raise _missing(name, folder, ", ".join(FILES.get(name, VADER_FILES).values()))
    return folder


def load_sst2(split: str, root=None) -> Texts:
    path = _folder(root, "sst2") / SST_FILES[split]
    if not path.exists():
        raise _missing("sst2", path)
    texts, targets = [], []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            label, _, text = line.strip().partition(" ")
            if text and label in ("0", "1"):
                texts.append(text)
                targets.append(int(label))
    return Texts(texts, targets, list(LABELS))


def load_rt(root=None) -> Texts:
    folder = _folder(root, "rt-polarity")
    texts, targets = [], []
    for target, (_, name) in enumerate(RT_FILES.items()):
        if not (folder / name).exists():
            raise _missing("rt-polarity", folder / name)
        with gzip.open(folder / name, "rt", encoding="latin-1") as f:
            for line in f:
                if line.strip():
                    texts.append(line.strip())
                    targets.append(target)
    return Texts(texts, targets, list(LABELS))


def rt_split(rt: Texts, held_out: list[Texts], test_fraction: float = 0.1, seed: int = 0) -> tuple[Texts, Texts, int]:
    """(train, test, dropped): rt-polarity without any line that is or holds a sentence
    of `held_out` (SST-2 dev and test), duplicates removed, then a fixed seeded share
    of what is left as its test set (`without` takes its sentences out of SST-2 train)."""
    banned = {key(t) for h in held_out for t in h.texts}
    seen, keep = set(), []
    for text, y in zip(rt.texts, rt.targets):
        k = key(text)
        if k in seen or sentence_keys(text) & banned:
            continue
        seen.add(k)
        keep.append((text, y))
    dropped = len(rt) - len(keep)
    random.Random(seed).shuffle(keep)
    n_test = int(len(keep) * test_fraction)
    as_texts = lambda rows: Texts([r[0] for r in rows], [r[1] for r in rows], list(LABELS))  # noqa: E731
    return as_texts(keep[n_test:]), as_texts(keep[:n_test]), dropped


def without(texts: Texts, test: Texts) -> Texts:
    """`texts` less every sentence that is, or is part of, a line of `test`."""
    banned = set().union(*(sentence_keys(t) for t in test.texts)) if test.texts else set()
    rows = [(t, y) for t, y in zip(texts.texts, texts.targets) if key(t) not in banned]
    return Texts([t for t, _ in rows], [y for _, y in rows], list(texts.labels))


def merge(a: Texts, b: Texts) -> Texts:
    """a then b, without b's sentences that a already has."""
    have = {key(t) for t in a.texts}
    rows = [(t, y) for t, y in zip(b.texts, b.targets) if key(t) not in have]
    return Texts(a.texts + [t for t, _ in rows], a.targets + [y for _, y in rows], list(a.labels))


# ---- beyond film: the VADER study's human-rated tweets and editorials -----------------
VADER_FILES = {"tweets": "tweets.tsv.gz", "editorials": "nyt_editorials.tsv.gz"}
VADER_CUT = 0.5          # mean rating (-4..4) above which a text is positive, below minus which negative
VADER_SHARES = {"train": 0.7, "val": 0.15, "test": 0.15}


def _vader_rows(kind: str, root=None):
    """(mean rating, text) of every rated text of one VADER file."""
    path = _folder(root, "vader") / VADER_FILES[kind]
    if not path.exists():
        raise _missing("vader", path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        next(f, None)                                        # the header
        for line in f:
            score, _, text = line.rstrip("\n").partition("\t")
            try:
                value = float(score)
            except ValueError:
                continue
            if text.strip():
                yield value, html.unescape(text.strip())      # the tweets keep HTML entities: "&amp;"


def load_vader(kind: str, root=None, cut: float = VADER_CUT) -> Texts:
    """Tweets or New York Times editorial sentences, each rated by 20 people on -4..4
    (Hutto & Gilbert 2014; MIT). Mean above `cut`: positive; below -cut: negative; the
    neutral middle is left out (a binary model has no answer for it, and raters disagree there)."""
    rows = [(value, text) for value, text in _vader_rows(kind, root) if abs(value) > cut]
    return Texts([t for _, t in rows], [int(v > 0) for v, _ in rows], list(LABELS))


def vader_neutral(kind: str, root=None, cut: float = VADER_CUT) -> dict[str, list[str]]:
    """The neutral middle load_vader leaves out (mean rating within ±cut), split by the same hash
    as the labelled texts: real text from beyond film that a student may learn its teachers'
    verdict on, never its label (it has none)."""
    parts: dict[str, list[str]] = {name: [] for name in VADER_SHARES}
    for value, text in _vader_rows(kind, root):
        if abs(value) <= cut:
            parts[vader_share(text)].append(text)
    return parts


def vader_share(text: str) -> str:
    """train, val or test: where a text falls by a hash of it, the same on every machine."""
    u = int(hashlib.sha1(key(text).encode()).hexdigest()[:8], 16) / 16**8
    return "train" if u < VADER_SHARES["train"] else "val" if u < 1 - VADER_SHARES["test"] else "test"


def vader_split(texts: Texts) -> dict[str, Texts]:
    """A fixed train / val / test split (70/15/15) by a hash of each text, the same on
    every machine and for every seed: recipes are chosen on val, test is reported once."""
    parts: dict[str, tuple[list, list]] = {name: ([], []) for name in VADER_SHARES}
    for t, y in zip(texts.texts, texts.targets):
        name = vader_share(t)
        parts[name][0].append(t)
        parts[name][1].append(y)
    return {name: Texts(a, b, list(LABELS)) for name, (a, b) in parts.items()}


PHRASINGS = Path(__file__).with_name("phrasings.tsv")


def load_phrasings() -> tuple[Texts, list[str]]:
    """The fixed sentences written for the tests (contrast, negation and hedging, idioms
    and slang, product aspects, emphasis and emoji, support messages): never trained on.
    Returns the texts and each one's kind."""
    texts, targets, kinds = [], [], []
    for line in PHRASINGS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and not line.startswith("label\t"):
            label, kind, text = line.split("\t", 2)
            texts.append(text)
            targets.append(int(label))
            kinds.append(kind)
    return Texts(texts, targets, list(LABELS)), kinds


# ---- a user's CSV / TSV ---------------------------------------------------
def _csv_rows(data: bytes | str, what: str, max_rows: int, too_many: str, keep=None) -> list[list[str]]:
    """The rows of a CSV or TSV that `keep` accepts (data.core.uploads.csv_rows), split at the separator
    its header holds (uploads.delimiter). `what` names the file asked for, in the message a binary
    file gets. A TSV's quotes are literal when reading them as quotes ran rows together (a tweet
    that opens with '"' and has no closing one swallowed every row after it)."""
    text = decode_text(data, what).strip()
    if not text:
        raise DataError("The file is empty.")
    sep = delimiter(text)
    rows = csv_rows(text, sep, max_rows, too_many, keep)
    if sep == "\t" and any("\n" in c and "\t" in c for r in rows for c in r):
        rows = csv_rows(text, sep, max_rows, too_many, keep, quoting=csv.QUOTE_NONE)
    return rows


def header_row(data: bytes | str) -> list[str]:
    """A CSV's or TSV's first row, its columns' names, as read_labelled reads them."""
    text = decode_text(data, "a CSV or TSV of texts").strip()
    if not text:
        raise DataError("The file is empty.")
    try:
        return next(csv.reader(io.StringIO(text[:100_000], newline=""), delimiter=delimiter(text)))
    except (csv.Error, StopIteration):
        raise DataError("The file's first row cannot be read as a header of column names.") from None


def _pick(header: list[str], names: tuple[str, ...], besides: int | None = None) -> int | None:
    """The column whose name is the first of `names`, else the first that holds one of them
    (names of four letters or more: "y" is in too many words). Never `besides` (the other column
    chosen), nor a column of predictions ("predicted sentiment", as the app writes them)."""
    low = [h.strip().lower() for h in header]
    fit = [i for i, h in enumerate(low) if i != besides and "predict" not in h]
    for name in names:
        for i in fit:
            if low[i] == name:
                return i
    for name in names:
        for i in fit:
            if len(name) >= 4 and name in re.sub(r"[^a-z]", "", low[i]):
                return i
    return None


def guess_columns(header: list[str], text: int | None = None) -> tuple[int | None, int | None]:
    """(text column, label column) of a header, by their names (the text column's given, if it was
    chosen); None where none fits."""
    ti = _pick(header, TEXT_NAMES) if text is None else text
    return ti, _pick(header, LABEL_NAMES, besides=ti)


def _column(header: list[str], chosen: str | int | None, names: tuple[str, ...], besides: int | None = None):
    if isinstance(chosen, int):
        return chosen if 0 <= chosen < len(header) else None
    return _pick(header, (chosen.lower(),) if chosen else names, besides)


def _label_name(value: str) -> str:
    v = value.strip()
    try:
        f = float(v)
        return str(int(f)) if f.is_integer() else v
    except ValueError:
        return v.lower()


def read_labelled(data: bytes | str, text_column: str | int | None = None, label_column: str | int | None = None,
                  max_rows: int = MAX_ROWS) -> Texts:
    """A CSV or TSV with a header row, one text column and one label column (any number of classes;
    labels as words or numbers), named or numbered (from 0), else found by their names (TEXT_NAMES,
    LABEL_NAMES). Raises DataError naming the problem; rows without text or label are skipped and
    reported."""
    rows = _csv_rows(data, "a CSV or TSV of texts and labels", max_rows, f"at most {max_rows:,} are taken.")
    if len(rows) < 2:
        raise DataError("The file needs a header row and at least one row of data.")
    header, body = rows[0], rows[1:]
    ti = _column(header, text_column, TEXT_NAMES)
    li = _column(header, label_column, LABEL_NAMES, besides=ti)
    named = ", ".join(repr(h) for h in header[:10])
    if ti is None:
        raise DataError(f"No text column: the header has {named}. Name the column of texts "
                        f"{' or '.join(repr(n) for n in TEXT_NAMES[:4])} (or choose the column).")
    if li is None:
        raise DataError(f"No label column: the header has {named}. Name the column of labels "
                        f"{' or '.join(repr(n) for n in LABEL_NAMES[:6])} (or choose the column).")
    texts, raw, skipped = [], [], []
    for n, r in enumerate(body, start=2):
        if len(r) <= max(ti, li):
            skipped.append((f"row {n}", f"has {len(r)} values, the header {len(header)}"))
            continue
        t, lab = r[ti].strip(), r[li].strip()
        if not t or not lab:
            skipped.append((f"row {n}", "no text" if not t else "no label"))
            continue
        texts.append(t)
        raw.append(_label_name(lab))
    if not texts:
        raise DataError("No row has both a text and a label.")
    labels = sorted(set(raw), key=lambda s: (not s.lstrip("-").isdigit(), int(s) if s.lstrip("-").isdigit() else 0, s))
    if len(labels) < 2:
        raise DataError(f"Every row has the label {labels[0]!r}: a classifier needs at least two different labels.")
    if len(labels) > 50:
        raise DataError(f"The label column has {len(labels)} different values; at most 50 classes are taken "
                        "(is it really the label column?).")
    check_labels(labels, "label")      # a model keeps them in its card: as long and as distinct as it allows
    index = {lab: i for i, lab in enumerate(labels)}
    return Texts(texts, [index[lab] for lab in raw], labels, skipped)


def read_labelled_file(path, max_bytes: int | None = None, text_column: str | None = None,
                       label_column: str | None = None) -> Texts:
    """read_labelled on a file, read no further than `max_bytes` (MAX_FILE_BYTES): a larger one is refused."""
    max_bytes = max_bytes or MAX_FILE_BYTES
    what = f"a CSV or TSV of at most {max_bytes / 2**20:g} MB (a sample of it)"
    return read_labelled(read_file(path, max_bytes, what), text_column, label_column)


NEGATIVE_NAMES = {"negative", "neg", "bad", "no"}
POSITIVE_NAMES = {"positive", "pos", "good", "yes"}
NEUTRAL_NAMES = {"neutral", "neu", "mixed"}


def as_polarity(found: Texts) -> tuple[Texts, str]:
    """A user's labelled texts (read_labelled) as negative / positive, and how their labels were read:
    names (negative/positive, neg/pos, bad/good), 0/1, -1/1 or -1/0/1, 1/2 (the Amazon and Yelp
    polarity sets), 0/2/4 (Sentiment140), or 1-5 stars (1-2 negative, 4-5 positive, as those
    polarity sets are made). Neutral rows (a "neutral" label, 0 of
    -1/0/1, 3 stars) are left out: a two-class model has no answer for them. Anything else is a DataError."""
    names = set(found.labels)
    digits = all(x.lstrip("-").isdigit() for x in names)
    numbers = {int(x) for x in names} if digits else set()
    if digits and numbers <= {0, 1}:
        side, how = {"0": 0, "1": 1}, "0 negative, 1 positive"
    elif digits and numbers <= {-1, 0, 1}:
        side, how = {"-1": 0, "0": None, "1": 1}, "-1 negative, 1 positive (0 is neutral)"
    elif digits and numbers == {1, 2}:
        # stars would make both negative: two labels 1 and 2 are a polarity set's classes
        side, how = {"1": 0, "2": 1}, "1 negative, 2 positive (as in the Amazon and Yelp polarity sets)"
    elif digits and numbers <= {0, 2, 4} and numbers >= {0, 4}:
        side, how = {"0": 0, "2": None, "4": 1}, "0 negative, 4 positive (2 is neutral), as in Sentiment140"
    elif digits and numbers <= {1, 2, 3, 4, 5}:
        side, how = {"1": 0, "2": 0, "3": None, "4": 1, "5": 1}, "stars: 1-2 negative, 4-5 positive (3 is neutral)"
    elif names <= NEGATIVE_NAMES | POSITIVE_NAMES | NEUTRAL_NAMES:
        side = {x: 0 if x in NEGATIVE_NAMES else 1 if x in POSITIVE_NAMES else None for x in names}
        how = "their names"
    else:
        shown = ", ".join(repr(x) for x in found.labels[:8]) + (", ..." if len(found.labels) > 8 else "")
        raise DataError(f"The labels are {shown}: the sentiment model says negative or positive. Label the rows "
                        "negative/positive, neg/pos, 0/1, -1/0/1, 0/4 or 1-5 stars.")
    texts, targets = [], []
    for t, y in zip(found.texts, found.targets):
        if side[found.labels[y]] is not None:
            texts.append(t)
            targets.append(side[found.labels[y]])
    if len(set(targets)) < 2:
        raise DataError("After reading the labels as negative or positive, only one of the two is left: "
                        "the comparison needs rows of both.")
    left_out = len(found) - len(texts)
    note = how + (f"; {left_out:,} neutral row{'s' * (left_out != 1)} left out" if left_out else "")
    return Texts(texts, targets, list(LABELS), found.skipped), note


def read_texts(data: bytes | str, text_column: str | int | None = None, max_rows: int = MAX_ROWS,
               plain: bool = False) -> tuple[list[str], list[str], int]:
    """Texts to score from a CSV/TSV (or a plain list, one text a line): (header, rows, text column).
    plain (a .txt file): every non-blank line is one text, whatever commas or quotes it holds."""
    what = "a CSV or TSV with a column of texts, or a text file of one text a line"
    too_many = f"at most {max_rows:,} are scored at once."
    if plain:
        rows = []
        for line in io.StringIO(decode_text(data, what), newline=None):     # read as it comes: no list of blanks
            if line.strip():
                rows.append([line.rstrip("\n")])
                if len(rows) > max_rows:
                    raise DataError(f"The file has more than {max_rows:,} texts; {too_many}")
        if not rows:
            raise DataError("The file is empty.")
        return ["text"], rows, 0
    rows = _csv_rows(data, what, max_rows, too_many, keep=bool)
    header = rows[0]
    ti = _column(header, text_column, TEXT_NAMES)
    if ti is None:
        if len(header) == 1:
            return ["text"], [[r[0] if r else ""] for r in rows], 0      # one text a line, no header
        raise DataError(f"No text column: the header has {', '.join(repr(h) for h in header[:10])}. "
                        f"Name the column of texts {' or '.join(repr(n) for n in TEXT_NAMES[:4])}, or give a "
                        ".txt file of one text a line.")
    body = rows[1:]
    if not body:
        raise DataError("The file has a header but no rows.")
    return header, body, ti
