"""Text files people upload (CSV, TSV): their bytes as text, whatever editor saved them."""
from __future__ import annotations

import csv
import io
import re

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


def csv_rows(text: str, delimiter: str, max_rows: int, too_many: str, keep=None, numbered: bool = False) -> list:
    """The rows of a CSV text that `keep` accepts (default: those with a non-blank cell), read as
    they come, and a DataError as soon as there are more than max_rows + 1 (a header and max_rows):
    `too_many` finishes its sentence ("at most 200,000 are taken."). A file of 20 million blank
    lines was a list of 20 million empty rows (1.2 GB) before anything counted them, so lines that
    are not kept count too, up to ten times max_rows. numbered: (line number, cells) pairs."""
    keep = keep or (lambda cells: any(c.strip() for c in cells))
    max_lines = 10 * max_rows + 1000
    rows: list = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
