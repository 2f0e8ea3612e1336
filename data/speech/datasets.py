"""Where speech clips come from, each returned as a `Clips` set of 1-s 16 kHz
waveforms with a word and a speaker per clip:

- FSDD (Free Spoken Digit Dataset): <root>/fsdd, packed (fsdd.ogg + fsdd.csv, unpacked
  into the cache on first use) or as the dataset ships it (recordings/{digit}_{speaker}_{take}.wav);
- the Speech Commands layout: one folder per word of 16 kHz WAVs (`<speaker>_nohash_<n>.wav`),
  as torchaudio's SPEECHCOMMANDS reads it, and our synthesised set, written the same way;
- a user's folders or zip of class folders of audio files;
- `_silence_`: noise and near-silence, generated.
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from data.core.class_folders import Budget, LoadedClasses, load
from data.core.download import fsdd_wavs, is_packed, word_folders
from data.core.errors import DataError, DatasetMissing
from data.core.root import cache_dir, data_root, roots
from data.speech.audio import (AUDIO_EXTENSIONS, CLIP_SAMPLES, SAMPLE_RATE, clip_16k, decoded_samples, logmel,
                               noise, read_audio, resample)

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COMMANDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
FSDD_TEST_TAKES = range(5)       # FSDD's official test split: takes 0-4 of every speaker and digit
UNKNOWN, SILENCE = "_unknown_", "_silence_"
CACHE_VERSION = "1"


@dataclass
class Clips:
    waves: torch.Tensor                 # (N, 16000) float32
    words: list[str]
    speakers: list[str]
    takes: list[int] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.words)

    def subset(self, keep) -> "Clips":
        idx = [i for i, k in enumerate(keep) if k]
        return Clips(self.waves[idx], [self.words[i] for i in idx], [self.speakers[i] for i in idx],
                     [self.takes[i] for i in idx] if self.takes else [], self.source)

    def __add__(self, other: "Clips") -> "Clips":
        takes = (self.takes or [-1] * len(self)) + (other.takes or [-1] * len(other))
        return Clips(torch.cat([self.waves, other.waves]), self.words + other.words,
                     self.speakers + other.speakers, takes, " + ".join(s for s in (self.source, other.source) if s))


def read_clip(path: Path) -> torch.Tensor:
    x, sr = read_audio(path)
    return clip_16k(x, sr)


def _cached(key: str, build) -> Clips:
    """Decoded, resampled clips are kept in the cache: decoding thousands of files takes longer than training."""
    path = cache_dir("speech") / f"{hashlib.sha1((CACHE_VERSION + key).encode()).hexdigest()[:16]}.pt"
    if path.exists():
        d = torch.load(path, weights_only=True)
        return Clips(d["waves"], d["words"], d["speakers"], d["takes"], d["source"])
    clips = build()
    tmp = path.with_suffix(".tmp")
    torch.save({"waves": clips.waves, "words": clips.words, "speakers": clips.speakers, "takes": clips.takes,
                "source": clips.source}, tmp)
    tmp.replace(path)
    return clips


# ---- FSDD ---------------------------------------------------------------------------------
def fsdd_recordings(root=None) -> Path:
    """The folder of FSDD WAVs, unpacking the shared pack into the cache if needed."""
    for base in roots(root):
        folder = fsdd_wavs(base)
        if folder is not None:
            return folder
        dest = unpacked(base / "fsdd", "fsdd")
        if dest is not None:
            return dest / "recordings"
    base = data_root(root) / "fsdd"
    raise DatasetMissing(f"The Free Spoken Digit Dataset is not under {base}: expected its recordings/ folder or "
                         "the packed fsdd.ogg and fsdd.csv.", what="The Free Spoken Digit Dataset", where=base,
                         dataset="fsdd")


def unpacked(base: Path, name: str) -> Path | None:
    """The cache folder where the pack `base/name.ogg` + `base/name.csv` is unpacked (on first use),
    or None where there is no such pack."""
    if not is_packed(base, name):
        return None
    index = base / f"{name}.csv"
    # one cache folder per pack, so that two data roots never share (or overwrite) an unpacked copy
    dest = cache_dir(name, hashlib.sha1(str(index.resolve()).encode()).hexdigest()[:12])
    done = dest / ".unpacked"
    if not done.exists():
        unpack(base, dest)
        done.write_text("ok")
    return dest


def unpack(pack_dir: Path, dest: Path) -> int:
    """audiopack.py's unpack: one Opus stream + its csv index -> the original WAV files."""
    import soundfile as sf
    (index,) = Path(pack_dir).glob("*.csv")
    audio, rate = sf.read(str(index.with_suffix(".ogg")), dtype="float32")
    n = 0
    with open(index, newline="") as f:
        for row in csv.DictReader(f):
            start, length = int(row["start"]), int(row["length"])
            target = Path(dest) / row["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(target), audio[start:start + length], rate, subtype="PCM_16")
            n += 1
    return n


def load_fsdd(root=None) -> Clips:
    folder = fsdd_recordings(root)
    files = sorted(folder.glob("*_*_*.wav"))
    if not files:
        raise DatasetMissing(f"No FSDD recordings ({{digit}}_{{speaker}}_{{take}}.wav) in {folder}.")

    def build() -> Clips:
        waves, words, speakers, takes = [], [], [], []
        for f in files:
            digit, speaker, take = f.stem.split("_")
            waves.append(read_clip(f))
            words.append(DIGIT_WORDS[int(digit)])
            speakers.append(speaker)
            takes.append(int(take))
        return Clips(torch.stack(waves), words, speakers, takes, "FSDD")

    return _cached(f"fsdd:{folder.resolve()}:{len(files)}", build)


# ---- the Speech Commands layout (and our synthetic set) ------------------------------------
def load_word_folders(folder: str | Path, words: list[str] | None = None, source: str = "") -> Clips:
    """One folder per word; a clip's speaker is its file name before `_nohash_` (Speech Commands)
    or before the last `-` (our synthetic voices: engine-voice-variant-NNN)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetMissing(f"{folder} is not a folder of word folders.")
    dirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "_")))
    if words is not None:
        dirs = [d for d in dirs if d.name in words]
    files = [(f, d.name) for d in dirs for f in sorted(d.iterdir()) if f.suffix.lower() in AUDIO_EXTENSIONS]
    if not files:
        raise DatasetMissing(f"No audio clips in word folders under {folder}.")

    def build() -> Clips:
        waves, words_, speakers = [], [], []
        for f, word in files:
            try:
                waves.append(read_clip(f))
            except DataError:
                continue
            words_.append(word)
            speakers.append(f.stem.split("_nohash_")[0] if "_nohash_" in f.stem else f.stem.rsplit("-", 1)[0])
        return Clips(torch.stack(waves), words_, speakers, [], source or folder.name)

    stamp = sum(f.stat().st_mtime_ns for f, _ in files[:: max(1, len(files) // 50)])
    return _cached(f"words:{folder.resolve()}:{len(files)}:{stamp}", build)


def speech_commands_folder(root=None, download: bool = False) -> Path:
    """Speech Commands v0.02 under the data root: as torchaudio's SPEECHCOMMANDS lays it out, as
    word folders in speech_commands/, or packed there (speech_commands.ogg + .csv, unpacked into
    the cache on first use)."""
    for base in roots(root):
        folder = word_folders(base)
        if folder is not None:
            return folder
        packed = unpacked(base / "speech_commands", "speech_commands")
        if packed is not None:
            return packed
    base = data_root(root)
    missing = DatasetMissing(f"Speech Commands is missing: expected {base}/SpeechCommands/speech_commands_v0.02 "
                             f"or {base}/speech_commands.", what="Speech Commands", where=base,
                             dataset="speech_commands")
    if not download:
        raise missing
    from data.core.download import DownloadFailed, fetch_with_bar
    try:
        return speech_commands_folder(fetch_with_bar("speech_commands", root))
    except DownloadFailed as e:
        raise missing.and_download_failed(e.reason) from None


VALIDATION_SHARE = 15      # percent of Speech Commands' speakers held out of training


def validation_speaker(speaker: str, share: int = VALIDATION_SHARE) -> bool:
    """Whether a speaker is held out of training: decided by a hash of the speaker alone (as the
    dataset's authors split it), so the same people stay out whatever else is in the folder."""
    return int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 100 < share


def load_speech_commands(root=None) -> Clips:
    """Every word clip of Speech Commands under the data root (its speaker from the file name)."""
    return load_word_folders(speech_commands_folder(root), source="Speech Commands v0.02")


def other_word_recordings(exclude, n: int, root=None, offset: int = 0) -> list[tuple[np.ndarray, int]]:
    """`n` real recordings of words that are none of `exclude`, taken in turn from each such word
    of Speech Commands (a different speaker each time): what a taught model hears as `_unknown_`.
    `offset` skips that many, so that a second call adds other recordings."""
    sc = load_speech_commands(root)
    banned = {w.strip().lower() for w in exclude}
    by_word: dict[str, list[int]] = {}
    for i, w in enumerate(sc.words):
        if w not in banned:
            by_word.setdefault(w, []).append(i)
    if not by_word:
        raise DataError("Every word of Speech Commands is one of yours: there are no other words to add.")
    order = [idx[k] for k in range(max(map(len, by_word.values()))) for idx in by_word.values() if k < len(idx)]
    picked = order[offset:offset + n]
    return [(sc.waves[i].numpy(), SAMPLE_RATE) for i in picked]


def _noise_recordings(folder: Path) -> list[torch.Tensor]:
    """Each of Speech Commands' _background_noise_ recordings, cut into 1-s pieces (N, 16000)."""
    out = []
    for f in sorted((folder / "_background_noise_").glob("*.wav")):
        x, sr = read_audio(f, max_seconds=None)
        x = resample(x, sr)
        out.append(x[: len(x) // CLIP_SAMPLES * CLIP_SAMPLES].reshape(-1, CLIP_SAMPLES))
    return [pieces for pieces in out if len(pieces)]


def background_noise_split(folder: Path, val_share: float = VALIDATION_SHARE / 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Speech Commands' background-noise recordings as 1-s pieces: (training, validation). The
    last `val_share` of every recording is kept for validation, so that no second of it is in both."""
    recordings = _noise_recordings(folder)
    if not recordings:
        raise DatasetMissing(f"No background-noise recordings in {folder / '_background_noise_'}.")
    cuts = [len(r) - max(1, round(len(r) * val_share)) for r in recordings]
    return (torch.cat([r[:c] for r, c in zip(recordings, cuts)]),
            torch.cat([r[c:] for r, c in zip(recordings, cuts)]))


def background_noise(folder: Path) -> torch.Tensor | None:
    """Speech Commands' _background_noise_ recordings, cut into 1-s clips."""
    recordings = _noise_recordings(folder)
    return torch.cat(recordings) if recordings else None


# ---- silence ------------------------------------------------------------------------------
def silence_clips(n: int, seed: int = 0) -> Clips:
    """Rooms without speech: white, pink and brown noise from -75 to -25 dBFS, hum, and digital silence."""
    g = torch.Generator().manual_seed(seed)
    waves = []
    for i in range(n):
        kind = ["white", "pink", "brown", "mix"][i % 4]
        if kind == "mix":
            x = sum(noise(k, CLIP_SAMPLES, g) * float(torch.rand(1, generator=g)) for k in ("white", "pink", "brown"))
            t = torch.arange(CLIP_SAMPLES) / 16000
            x = x + 0.5 * torch.sin(2 * torch.pi * (50 + 10 * (i % 2)) * t)   # mains hum
        else:
            x = noise(kind, CLIP_SAMPLES, g)
        level = -75 + 50 * float(torch.rand(1, generator=g))
        waves.append(x / x.abs().max().clamp(min=1e-9) * 10 ** (level / 20))
    return Clips(torch.stack(waves), ["_silence_"] * n, ["noise"] * n, [], "generated noise")


# ---- your own folders ---------------------------------------------------------------------
# samples decoded over a whole upload, all channels: 70 hours of 16 kHz mono; 50,000 one-second clips
# at 48 kHz stereo are 4.8 billion. A zip's 1 GB limit bounds WAVs well below it; FLAC's silence packs
# a thousandfold, and 82 KB files of 60 s at 384 kHz, 0.8 s to decode each, would have taken hours.
MAX_TRAINING_SAMPLES = 4_000_000_000
TRAINING_BUDGET = Budget(decoded_samples, MAX_TRAINING_SAMPLES, lambda total: (
    f"These recordings decode to over {total / 1e9:,.1f} billion samples (long or high-rate files: the first "
    f"60 s of each count); one training run reads at most {MAX_TRAINING_SAMPLES / 1e9:,.0f} billion, "
    f"about {MAX_TRAINING_SAMPLES / SAMPLE_RATE / 3600:,.0f} hours at 16 kHz. Cut them to the words, or "
    "resample them to 16 kHz."))


def read_logmel(path: Path) -> np.ndarray:
    """A file's 1-s clip as the network reads it: its log-mel spectrogram (40 x 51, 8 KB; the clip
    is 64 KB, and 50,000 short files once held 5.9 GB of clips while they were read)."""
    return logmel(read_clip(path))[0, 0].numpy()


def load_audio_folders(root: str | Path) -> LoadedClasses:
    """A user's class folders of WAV/FLAC/OGG/MP3/AIFF files, each read as the log-mel spectrogram of a 1-s
    16 kHz clip."""
    return load(root, AUDIO_EXTENSIONS, read_logmel, TRAINING_BUDGET)
