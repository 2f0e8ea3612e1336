"""Text files people upload (CSV, TSV): their bytes as text, whatever editor saved them."""
from __future__ import annotations

from data.core.errors import DataError


def decode_text(data: bytes | str, what: str) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows' cp1252 as spreadsheets export
    it, else Latin-1, which reads any bytes. NUL bytes mean a binary file: a DataError
    saying what to upload instead."""
    text = data
    if isinstance(data, bytes):
        for encoding in ("utf-8-sig", "cp1252", "latin-1"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if "\x00" in text:
        raise DataError(f"This is not a text file (it holds binary data, NUL bytes): upload {what}.")
    return text.lstrip("\ufeff")


def read_file(path, max_bytes: int, what: str) -> bytes:
    """A file's bytes, read no further than `max_bytes` (+1, to know it is longer): a size from
    stat() is no bound for a pipe or /dev/zero, which say 0. A DataError for a missing, unreadable
    or larger file, naming `what` should be given instead."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from e
    if len(data) > max_bytes:
        raise DataError(f"{path} is over {max_bytes:,} bytes: give {what}.")
    return data


def read_text_file(path, max_bytes: int, what: str) -> str:
    """read_file, as UTF-8 text (bytes it cannot read replaced, a byte-order mark dropped): a text
    named on the command line."""
    return read_file(path, max_bytes, what).decode("utf-8", errors="replace").lstrip("\ufeff")


def column_names(header: list[str], added: list[str]) -> tuple[list[str], list[str]]:
    """A user's header made fit to be a table's columns (a blank name becomes "column N", a repeated
    one "name (2)"), and the names of the columns a tool adds, moved aside from any the file already
    has ("sentiment" -> "sentiment (model)"): the user's own columns are never overwritten."""
    seen: set[str] = set()

    def fresh(name: str) -> str:
        out, n = name, 2
        while out in seen:
            out, n = f"{name} ({n})", n + 1
        seen.add(out)
        return out

    own = [fresh(h.strip() or f"column {i}") for i, h in enumerate(header, 1)]
    return own, [fresh(a if a not in seen else f"{a} (model)") for a in added]
