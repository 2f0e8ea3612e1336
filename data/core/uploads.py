"""Text files people upload (CSV, TSV): their bytes as text, whatever editor saved them."""
from __future__ import annotations

import csv
import io
import re

from data.core.errors import DataError


def decode_text(data: bytes | str, what: str) -> str:
    """Text as editors and spreadsheets save it: UTF-16 with its byte-order mark (Excel's "Unicode
    Text", PowerShell's `>`) or without one; UTF-8, with or without a mark, where a stray byte of
    another encoding becomes U+FFFD rather than turning the whole file into Windows' cp1252
    ("cafÃ©"); else cp1252 as spreadsheets export it, else Latin-1, which reads any bytes. NUL
    bytes left after that mean a binary file: a DataError saying what to upload instead."""
    text = data if isinstance(data, str) else _decoded(data)
    if "\x00" in text:
        raise DataError(f"This is not a text file (it holds binary data, NUL bytes): upload {what}.")
    return text.lstrip("\ufeff")


def _decoded(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    head = data[:4096]
    if len(head) >= 4 and head[1::2].count(0) > 0.4 * len(head) / 2 > head[0::2].count(0):
        return data.decode("utf-16-le", errors="replace")      # ASCII letters each followed by a NUL
    if len(head) >= 4 and head[0::2].count(0) > 0.4 * len(head) / 2 > head[1::2].count(0):
        return data.decode("utf-16-be", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # mostly UTF-8 (a mark, or more well-formed multi-byte letters than bad bytes): keep it UTF-8
    loose = data.decode("utf-8-sig", errors="replace")
    bad = loose.count("\ufffd") - data.decode("utf-8-sig", errors="ignore").count("\ufffd")
    if data.startswith(b"\xef\xbb\xbf") or sum(ord(c) > 127 for c in loose) - bad > bad:
        return loose
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def unreadable(path, e: OSError) -> DataError:
    """A path that cannot be opened, as every command names it ("cannot read x: No such file or directory")."""
    return DataError(f"cannot read {path}: {e.strerror or e}")


def read_file(path, max_bytes: int, what: str) -> bytes:
    """A file's bytes, read no further than `max_bytes` (+1, to know it is longer): a size from
    stat() is no bound for a pipe or /dev/zero, which say 0. A DataError for a missing, unreadable
    or larger file, naming `what` should be given instead."""
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise unreadable(path, e) from e
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


def delimiter(text: str) -> str:
    """The separator of a CSV or TSV, from its first non-blank line (the header, where there is one):
    whichever of tab, semicolon and comma it holds most, a tab or semicolon on a tie, a comma when it
    holds none. The first line, because values hold commas ("great food, rude staff") and a header
    does not: counted over the file's start, a TSV of reviews was read as a CSV."""
    found = re.search(r"\S[^\r\n]*", text)
    first = found.group(0) if found else ""
    best = max("\t;,", key=first.count)            # max keeps the first of equals: tab, then semicolon
    return best if first.count(best) else ","


def csv_rows(text: str, delimiter: str, max_rows: int, too_many: str, keep=None, numbered: bool = False,
             quoting: int = csv.QUOTE_MINIMAL) -> list:
    """The rows of a CSV text that `keep` accepts (default: those with a non-blank cell), read as
    they come, and a DataError as soon as there are more than max_rows + 1 (a header and max_rows):
    `too_many` finishes its sentence ("at most 200,000 are taken."). A file of 20 million blank
    lines was a list of 20 million empty rows (1.2 GB) before anything counted them, so lines that
    are not kept count too, up to ten times max_rows. numbered: (line number, cells) pairs."""
    keep = keep or (lambda cells: any(c.strip() for c in cells))
    max_lines = 10 * max_rows + 1000
    rows: list = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    last = 0                                 # the line the last row read ended on
    try:
        for cells in reader:
            if keep(cells):
                rows.append((reader.line_num, cells) if numbered else cells)
                if len(rows) > max_rows + 1:
                    raise DataError(f"The file has more than {max_rows:,} rows; {too_many}")
            elif reader.line_num > max_lines:
                raise DataError(f"The file has more than {max_lines:,} lines, most of them blank; {too_many}")
            last = reader.line_num
    except csv.Error as e:
        if "field larger than field limit" in str(e):
            raise DataError(f"The row that starts on line {last + 1:,} holds a value of over "
                            f"{csv.field_size_limit():,} characters: a quote (\") left open runs on, across lines, "
                            "to the next quote, and a file without line breaks is one row.") from None
        raise DataError(f"Could not read the file as CSV (the row that starts on line {last + 1:,}): {e}.") from None
    return rows
