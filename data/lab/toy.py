"""Two-feature classification data for the Backprop Lab: four toy patterns and a
user's own CSV. Small enough that a network trains on it in a second, and 2-D
so that the app can draw what the network decided everywhere in the plane.

    points = make("moons", n=400, noise=0.1, seed=0)
    train, val = points.standardised().split(0.25)
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace

import torch
from torch.utils.data import TensorDataset

from data.core.errors import DataError
from data.core.uploads import csv_rows, decode_text, delimiter

DATASETS = ["xor", "moons", "circles", "spirals"]
MIN_ROWS, MAX_CLASSES = 10, 10
# the Lab's networks compute in 32-bit floats (the largest is about 3.4e38) and its normalisation
# experiment multiplies a feature by 100: a larger value would become infinite and the run's
# loss NaN, which the trainer can only blame on the learning rate
MAX_VALUE = 1e30


@dataclass
class Points:
    x: torch.Tensor                 # N×2 float32
    y: torch.Tensor                 # N int64 class indices into `classes`
    classes: list[str]
    name: str
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    mean: torch.Tensor | None = None    # set by standardised(): x = (raw - mean) / std
    std: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.y)

    @property
    def key(self) -> str:
        """A short fingerprint of the points themselves, for caching what was computed on them: the
        name and size alone are the same for XOR at noise 0.1 and at 0.5, and for two CSVs with one header."""
        h = hashlib.sha1(self.x.contiguous().numpy().tobytes())
        h.update(self.y.contiguous().numpy().tobytes())
        h.update("\0".join(self.classes).encode())
        return h.hexdigest()[:16]

    def standardised(self) -> "Points":
        """A copy with zero-mean, unit-variance features; `mean` and `std` say how."""
        mean, std = self.x.mean(0), self.x.std(0)
        std = torch.where(std > 0, std, torch.ones_like(std))   # a constant feature stays put
        return replace(self, x=(self.x - mean) / std, mean=mean, std=std,
                       name=f"{self.name} (standardised)")

    def split(self, val_fraction: float = 0.25, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
        """Train and validation sets, stratified so both see every class in proportion."""
        g = torch.Generator().manual_seed(seed)
        train_idx, val_idx = [], []
        for c in range(len(self.classes)):
            idx = (self.y == c).nonzero().flatten()
            idx = idx[torch.randperm(len(idx), generator=g)]
            k = round(len(idx) * val_fraction)
            val_idx.append(idx[:k])
            train_idx.append(idx[k:])
        # shuffled again so that the classes are interleaved, not in blocks
        tr, va = torch.cat(train_idx), torch.cat(val_idx)
        tr, va = tr[torch.randperm(len(tr), generator=g)], va[torch.randperm(len(va), generator=g)]
        return TensorDataset(self.x[tr], self.y[tr]), TensorDataset(self.x[va], self.y[va])


# ---- the toy patterns ---------------------------------------------------
# Each returns clean points around unit scale and their classes; `make` adds
# the noise, so `noise` means the same thing (a Gaussian std) for all four.

def _sizes(n: int, parts: int) -> list[int]:
    return [n // parts + (i < n % parts) for i in range(parts)]


def _xor(n, g):
    centres = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    sizes = _sizes(n, 4)
    x = torch.cat([centres[i].expand(k, 2) for i, k in enumerate(sizes)])
    # class 1 where the signs differ: x XOR y, the pattern no single line separates
    y = torch.cat([torch.full((k,), int(i >= 2)) for i, k in enumerate(sizes)])
    return x, y, ["same sign", "opposite sign"]


def _moons(n, g):
    a, b = _sizes(n, 2)
    t0, t1 = torch.rand(a, generator=g) * math.pi, torch.rand(b, generator=g) * math.pi
    upper = torch.stack([torch.cos(t0), torch.sin(t0)], 1)
    lower = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], 1)
    x = torch.cat([upper, lower]) - torch.tensor([0.5, 0.25])    # centred on the origin
    return x, torch.cat([torch.zeros(a), torch.ones(b)]).long(), ["upper moon", "lower moon"]


def _circles(n, g):
    a, b = _sizes(n, 2)
    t = torch.rand(n, generator=g) * 2 * math.pi
    r = torch.cat([torch.ones(a), torch.full((b,), 0.5)])
    x = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
    return x, torch.cat([torch.zeros(a), torch.ones(b)]).long(), ["outer ring", "inner ring"]


def _spirals(n, g):
    sizes = _sizes(n, 2)
    xs, ys = [], []
    for c, k in enumerate(sizes):
        r = 0.1 + 0.9 * torch.rand(k, generator=g)           # radius 0.1 .. 1
        t = r * 3.5 * math.pi + c * math.pi                    # 1.75 turns, the arms half a turn apart
        xs.append(torch.stack([r * torch.cos(t), r * torch.sin(t)], 1))
        ys.append(torch.full((k,), c))
    return torch.cat(xs), torch.cat(ys).long(), ["arm A", "arm B"]


_PATTERNS = {"xor": _xor, "moons": _moons, "circles": _circles, "spirals": _spirals}


def make(name: str, n: int = 400, noise: float = 0.1, seed: int = 0) -> Points:
    if name not in _PATTERNS:
        raise ValueError(f"unknown toy dataset {name!r}: use one of {DATASETS}")
    if n < 4:
        raise ValueError("n must be at least 4")
    g = torch.Generator().manual_seed(seed)
    x, y, classes = _PATTERNS[name](n, g)
    x = x + noise * torch.randn(x.shape, generator=g)
    order = torch.randperm(n, generator=g)
    return Points(x[order].float(), y[order].long(), classes, name)


# ---- a user's CSV ----------------------------------------------------------

def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def _rows(text: str, max_rows: int) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row."""
    if not text.strip():
        return []
    rows = csv_rows(text, delimiter(text), max_rows, f"the Lab takes at most {max_rows:,}. Use a sample of your data.",
                    numbered=True)
    return [(line, [c.strip() for c in cells]) for line, cells in rows]


INDEX_NAMES = {"", "id", "index", "idx", "row", "#", "no", "unnamed: 0"}


def _index_column(name: str | None, values: list[str]) -> bool:
    """Whether a column numbers the rows: named so, or 0, 1, 2, ... (or 1, 2, 3, ...) from top to bottom."""
    if name is not None and name.strip().lower() in INDEX_NAMES:
        return True
    numbers = [_number(v) for v in values]
    return len(numbers) > 2 and all(v is not None for v in numbers) and \
        numbers == [numbers[0] + i for i in range(len(numbers))] and numbers[0] in (0, 1)


def read_csv(data: bytes | str, max_rows: int = 20000) -> Points:
    """A user's CSV -> Points: two numeric feature columns and a label column (text
    or numbers). A first row without numbers in the feature columns is a header.
    With more than three columns, the first two numeric columns are the features
    and the last column is the label."""
    rows = _rows(decode_text(data, "a CSV file"), max_rows)
    if not rows:
        raise DataError("The file is empty.")
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise DataError(f"Malformed CSV: row {line} has {len(cells)} values but the first row has "
                            f"{width}. Every row needs the same number of columns.")
    # columns empty from top to bottom (a spreadsheet's "x1,x2,label," export) are no columns
    kept = [j for j in range(width) if any(cells[j] for _, cells in rows)]
    if len(kept) < width:
        rows = [(line, [cells[j] for j in kept]) for line, cells in rows]
        width = len(kept)
    if width < 3:
        raise DataError(f"Need at least 3 columns (two numeric features and a label); found {width}.")

    header = all(_number(c) is None for c in rows[0][1][:-1])
    names = rows[0][1] if header else [f"column {i + 1}" for i in range(width)]
    body = rows[1:] if header else rows
    if len(body) > max_rows:
        raise DataError(f"The file has {len(body):,} rows; the Lab takes at most {max_rows:,}. "
                        "Use a sample of your data.")

    if width == 3:
        cols = [0, 1]
    else:
        # a feature column is one whose values are mostly numbers; stray text in it is reported below
        numeric = [j for j in range(width - 1)
                   if sum(_number(cells[j]) is not None for _, cells in body) > len(body) / 2]
        if len(numeric) < 2:
            raise DataError(f"Need two numeric feature columns; found {len(numeric)} among the first "
                            f"{width - 1} columns.")
        # a row number or id (pandas' to_csv index, an "id" column) is no feature: it had been taken
        # as the first of the two, and the second feature left out
        features = [j for j in numeric if not _index_column(names[j] if header else None, [c[j] for _, c in body])]
        cols = (features if len(features) >= 2 else numeric)[:2]

    def label_of(j: int) -> str:
        return f"'{names[j]}'" if header else names[j]

    x = []
    for line, cells in body:
        row = []
        for j in cols:
            v = _number(cells[j])
            if v is None:
                what = "is empty" if not cells[j] else f"holds {cells[j]!r}, which is not a number"
                raise DataError(f"Row {line}, column {label_of(j)} {what}. Feature columns must be numeric.")
            if not math.isfinite(v):
                raise DataError(f"Row {line}, column {label_of(j)} is {cells[j]!r}: NaN and infinite values "
                                "are not allowed. Remove or fill in those rows.")
            if abs(v) > MAX_VALUE:
                raise DataError(f"Row {line}, column {label_of(j)} is {cells[j]!r}: the Lab's networks compute "
                                f"in 32-bit floats, so a feature is at most ±{MAX_VALUE:g}. Rescale that column "
                                "(divide it by a power of ten).")
            row.append(v)
        if not cells[-1]:
            raise DataError(f"Row {line} has no label (column {label_of(width - 1)} is empty).")
        x.append(row)

    # broken values first, then what is wrong with the data set as a whole
    if len(body) < MIN_ROWS:
        raise DataError(f"Need at least {MIN_ROWS} rows of data to train on; found {len(body)}.")
    labels = [cells[-1] for _, cells in body]
    classes, y = _classes(labels)
    if len(classes) < 2:
        raise DataError(f"Only one class ({classes[0]!r}) in the label column {label_of(width - 1)}: "
                        "a classifier needs at least two.")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"The label column {label_of(width - 1)} has {len(classes)} different values; the "
                        f"Lab takes at most {MAX_CLASSES} classes. Is it a number to predict rather than "
                        "a class?")
    name = f"CSV: features {label_of(cols[0])} and {label_of(cols[1])}, label {label_of(width - 1)}"
    if width > 3:
        name += f" (of {width} columns; the others are ignored)"
    exact = torch.tensor(x, dtype=torch.float64)
    x32 = exact.float()
    for k, j in enumerate(cols):
        # 32-bit floats hold about 7 significant digits: 1e12 + i for small i is one value to them
        if (exact[:, k] != exact[0, k]).any() and (x32[:, k] == x32[0, k]).all():
            spread = float(exact[:, k].max() - exact[:, k].min())
            raise DataError(f"Column {label_of(j)} varies only in digits that 32-bit floats do not hold (values "
                            f"around {float(exact[0, k]):g}, {spread:g} apart at most), so the network would "
                            "see one value. Subtract a typical value from that column first.")
    return Points(x32, torch.tensor(y, dtype=torch.int64), classes, name, features=[names[cols[0]], names[cols[1]]])


def _classes(labels: list[str]) -> tuple[list[str], list[int]]:
    """Class names in a natural order (numbers by value, text alphabetically) and each row's index."""
    values = [_number(s) for s in labels]
    if all(v is not None and math.isfinite(v) for v in values):
        # "1" and "1.0" are the same class; integers print without the ".0"
        keys = [int(v) if v == int(v) else v for v in values]
        order = sorted(set(keys))
        index = {k: i for i, k in enumerate(order)}
        return [str(k) for k in order], [index[k] for k in keys]
    order = sorted(set(labels))
    index = {k: i for i, k in enumerate(order)}
    return order, [index[k] for k in labels]
