"""Class names a person chose (folder names, a CSV's label column, labels typed in an app), checked
before anything trains on them: a model is saved with its labels in its card, and a card's labels
are checked when it is loaded (models/core/cards.py), so a name the card refuses, or two names a
person cannot tell apart, would give a model that trains and then never loads or reads wrongly."""
from __future__ import annotations

import unicodedata

from data.core.errors import DataError

MAX_LABELS, MAX_LABEL_CHARS = 10_000, 200     # what a model card may hold
MAX_CLASSES = 1_000                            # of one's own data at once


def check_labels(labels: list[str], what: str = "class") -> None:
    """A DataError naming the first problem: too many classes, a name too long or holding a control
    character, or two names that differ only in case or in how an accent is encoded."""
    if len(labels) > MAX_CLASSES:
        raise DataError(f"There are {len(labels):,} classes; at most {MAX_CLASSES:,} can be trained at once.")
    seen: dict[str, str] = {}
    for label in labels:
        shown = label if len(label) <= 40 else label[:40] + "…"
        if len(label) > MAX_LABEL_CHARS:
            raise DataError(f"The {what} name '{shown}' is {len(label):,} characters long; at most "
                            f"{MAX_LABEL_CHARS} are kept in a model.")
        if any(unicodedata.category(c) in ("Cc", "Cf") for c in label):
            raise DataError(f"The {what} name {shown!r} holds a control or invisible character: rename it.")
        key = unicodedata.normalize("NFC", label).casefold()
        if key in seen:
            other = seen[key]
            raise DataError(f"The {what} names {other!r} and {label!r} differ only in case or in how an accent is "
                            "written: they would be two classes that look the same. Rename or merge them.")
        seen[key] = label
