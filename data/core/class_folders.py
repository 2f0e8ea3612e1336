"""A user's own labelled data as a folder (or zip) of class sub-folders:

    my_data/
        cat/  a.png b.jpg ...
        dog/  c.png ...

Shared by every task: the image loader here, and later the audio one, only say
which file extensions they read and how to read one file.
"""
from __future__ import annotations

import io
import lzma
import os
import shutil
import tempfile
import zipfile
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from data.core.errors import DataError
from data.core.labels import check_labels

MAX_FILES = 50_000
MAX_UNZIPPED = 1024**3          # 1 GB unpacked
MAX_RATIO = 200                 # images and recordings pack 1-10 times; zip bombs a thousand and more
MAX_WRAPPERS = 3                # folders that only hold the class folders (a zip of "my_data/")
MAX_NAME_BYTES = 255            # a file or folder name, as file systems allow
MAX_DEPTH = 32                  # folders within folders in a zip (1,500 of them were a RecursionError)
METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass
class ClassFiles:
    classes: list[str]
    files: list[tuple[Path, int]]                       # (file, class index)
    ignored: list[str] = field(default_factory=list)    # files that are not of a readable type


def _is_hidden(p: Path) -> bool:
    return p.name.startswith((".", "__MACOSX")) or p.name == "Thumbs.db"


def _members(folder: Path) -> list[Path]:
    """The files under a class folder, hidden ones left out. Links are not followed: a link in a
    folder named on the command line could lead anywhere on the machine (a class folder linked to
    /usr read 5,000 of its files as examples)."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _is_hidden(Path(d)))
        found += [Path(top) / f for f in files if not _is_hidden(Path(f))]
    return sorted(found)


def scan(root: str | os.PathLike, extensions: set[str]) -> ClassFiles:
    top = root = Path(root)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is not a folder"
        raise DataError(f"{root} {what}: give a folder (or a .zip) with one folder of examples per class.")
    for _ in range(MAX_WRAPPERS + 1):
        subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not _is_hidden(p))
        loose = [p for p in root.iterdir() if p.is_file() and p.suffix.lower() in extensions]
        # a zip of one folder that holds the class folders: step inside it
        if not (len(subdirs) == 1 and not loose and any(p.is_dir() for p in subdirs[0].iterdir())):
            break
        root = subdirs[0]
    else:
        raise DataError(f"{top} holds folders within folders {MAX_WRAPPERS + 1} deep before any examples: give the "
                        "folder whose sub-folders are the classes.")
    if len(subdirs) < 2:
        found = f"found {len(subdirs)} ({', '.join(p.name for p in subdirs)})" if subdirs else "found none"
        raise DataError(f"Need at least two class folders, one per label, each holding examples; {found}.")
    check_labels([d.name for d in subdirs], "class folder")
    classes, files, ignored, empty = [], [], [], []
    for d in subdirs:
        members = _members(d)
        good = [f for f in members if f.suffix.lower() in extensions and not f.is_symlink()]
        ignored += [str(f.relative_to(root)) for f in members if f.suffix.lower() not in extensions or f.is_symlink()]
        if not good:
            empty.append(d.name)
            continue
        files += [(f, len(classes)) for f in good]
        classes.append(d.name)
    if empty:
        raise DataError(f"These class folders hold no usable files ({', '.join(sorted(extensions))}): "
                        f"{', '.join(empty)}.")
    if len(files) > MAX_FILES:
        raise DataError(f"Too many files ({len(files)}); the limit is {MAX_FILES}.")
    return ClassFiles(classes, files, ignored)


def unzip(data: bytes | os.PathLike | str, dest: str | os.PathLike | None = None) -> Path:
    """Extract a zip safely and return the folder: the zip's own directory is checked first (file
    count, total size, compression ratio, paths that leave the folder), then every file is copied
    with a byte budget, so a header that lies about a size stops the copy too. A folder this made
    itself is removed again when anything is refused."""
    src = data if isinstance(data, (str, os.PathLike)) else None
    try:
        zf = zipfile.ZipFile(src if src is not None else io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as e:
        raise DataError("This is not a readable zip file.") from e
    made = dest is None
    dest = Path(dest or tempfile.mkdtemp(prefix="bps-upload-"))
    try:
        with zf:
            infos = zf.infolist()
            check_zip_directory(infos)
            budget = sum(i.file_size for i in infos)
            dest_root = dest.resolve()
            for info in infos:
                target = (dest / info.filename).resolve()
                if not target.is_relative_to(dest_root):
                    raise DataError(f"The zip holds an unsafe path: {info.filename}")
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as f, open(target, "wb") as out:
                    budget -= _copy_at_most(f, out, info.file_size, info.filename)
                if budget < 0:
                    raise DataError("The zip unpacks to more than its directory says: refused.")
    except DataError:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    # a damaged stream (zlib, bz2 and lzma each fail in their own words) or an entry the file system
    # will not take (a file where a folder of the same name is, a name too long)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, RuntimeError, NotImplementedError,
            OSError) as e:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        what = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise DataError(f"The zip is damaged or cannot be unpacked here: {what[:200]}") from e
    except BaseException:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def check_zip_directory(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse from the zip's directory alone, before a byte is extracted."""
    if len(infos) > MAX_FILES:
        raise DataError(f"The zip holds {len(infos):,} entries; the limit is {MAX_FILES:,}.")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED:
        raise DataError(f"The zip unpacks to {total / 1024**2:,.0f} MB; the limit is {MAX_UNZIPPED // 1024**2:,} MB.")
    for i in infos:
        name = i.filename if len(i.filename) <= 80 else i.filename[:80] + "…"
        if i.flag_bits & 0x1:
            raise DataError(f"{name} is encrypted: unpack the zip with its password and zip it again without one.")
        if i.compress_type not in METHODS:
            raise DataError(f"{name} is packed with a method zip readers rarely know (number {i.compress_type}): "
                            "zip it again with the usual one (deflate).")
        if i.filename.count("/") > MAX_DEPTH:
            raise DataError(f"{name} lies {i.filename.count('/'):,} folders deep; at most {MAX_DEPTH} are unpacked.")
        if any(len(part.encode()) > MAX_NAME_BYTES for part in i.filename.split("/")):
            raise DataError(f"{name} has a file or folder name longer than {MAX_NAME_BYTES} bytes.")
        if packed_too_tightly(i):
            raise DataError(f"{i.filename} would unpack {i.file_size / max(1, i.compress_size):,.0f} times larger "
                            "than it is packed: not images or recordings, refused.")


def packed_too_tightly(info: zipfile.ZipInfo) -> bool:
    """An entry of over 1 MB that unpacks more than MAX_RATIO times its packed size: a zip bomb's mark."""
    return info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(1, info.compress_size)


def _copy_at_most(src, dst, limit: int, name: str) -> int:
    n = 0
    while chunk := src.read(1 << 20):
        n += len(chunk)
        if n > limit:
            raise DataError(f"{name} unpacks to more than the zip's directory says: refused.")
        dst.write(chunk)
    return n


@contextmanager
def unzipped(data: bytes | os.PathLike | str):
    """A zip extracted into a temporary folder that is removed afterwards, whatever happens."""
    dest = unzip(data)
    try:
        yield dest
    finally:
        shutil.rmtree(dest, ignore_errors=True)


@dataclass
class LoadedClasses:
    items: list
    targets: list[int]
    classes: list[str]
    skipped: list[tuple[str, str]]   # (file, why)
    ignored: list[str]

    def counts(self) -> dict[str, int]:
        n = Counter(self.targets)      # (a count per class was quadratic: 50,000 classes took 32 s)
        return {c: n[i] for i, c in enumerate(self.classes)}


@dataclass
class Budget:
    """How much decoding a whole upload may ask for, summed from the files' headers before any is
    decoded: each file is bounded, but 50,000 small files that each decode to the most one may (a
    10 KB PNG of 40 megapixels, an 82 KB FLAC of 60 s at 384 kHz) would have taken hours."""
    cost: Callable[[Path], int]       # from a file's header; raises if it is no such file (read says why)
    most: int
    refusal: Callable[[int], str]     # the message, given the total found so far


def load(root: str | os.PathLike, extensions: set[str], read: Callable[[Path], object],
         budget: Budget | None = None) -> LoadedClasses:
    """Read every file with `read`; unreadable ones are skipped and reported, and a
    class left with no readable file is an error."""
    found = scan(root, extensions)
    if budget is not None:
        total = 0
        for f, _ in found.files:
            try:
                total += budget.cost(f)
            except Exception:  # not readable: reading it says why
                continue
            if total > budget.most:
                raise DataError(budget.refusal(total))
    items, targets, skipped = [], [], []
    for f, c in found.files:
        try:
            items.append(read(f))
            targets.append(c)
        except Exception as e:  # any file a reader rejects is reported, never fatal
            skipped.append((str(f.relative_to(root)), str(e) or type(e).__name__))
    left = set(targets)
    lost = [c for i, c in enumerate(found.classes) if i not in left]
    if lost:
        first = f" First problem: {skipped[0][0]}: {skipped[0][1]}" if skipped else ""
        raise DataError(f"No readable file in class folder(s): {', '.join(lost)}.{first}")
    return LoadedClasses(items, targets, found.classes, skipped, found.ignored)


def check_examples(labels: list[str], minimum: int = 1) -> list[str]:
    """The sorted classes of a list of example labels; a clear error if they cannot train a classifier."""
    classes = sorted(set(labels))
    check_labels(classes, "label")
    if len(classes) < 2:
        have = f"only '{classes[0]}'" if classes else "none"
        raise DataError(f"Need examples of at least two labels to train a classifier; have {have}.")
    n = Counter(labels)
    few = [c for c in classes if n[c] < minimum]
    if few:
        raise DataError(f"Need at least {minimum} examples of each label; too few for: {', '.join(few)}.")
    return classes
