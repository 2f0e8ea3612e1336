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
