"""Audio in, log-mel spectrogram out: what every speech clip goes through, in
training, in the app and on the command line.

Any file soundfile reads (WAV, FLAC, OGG, MP3, AIFF) at any sample rate and channel count
becomes mono float32 at 16 kHz; a keyword clip is the loudest second of it;
the network sees 40 log-mel bands of that second, 20 Hz to 4 kHz. The band
stops at 4 kHz because the real recordings (FSDD) are 8 kHz telephone-band
audio: above 4 kHz only the synthetic voices would have energy, and the network
would learn to tell voices apart by it instead of words.
"""
from __future__ import annotations

import functools
import io
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torchaudio

from data.core.errors import DataError
from data.core.uploads import unreadable

SAMPLE_RATE = 16_000
CLIP_SECONDS = 1.0
CLIP_SAMPLES = int(SAMPLE_RATE * CLIP_SECONDS)
N_MELS = 40
N_FFT = 512
WIN = 480          # 30 ms
HOP = 320          # 20 ms -> 51 frames a second: half the work of 10 ms, as accurate for keywords
F_MIN, F_MAX = 20.0, 4000.0
TOP_DB = 80.0      # the spectrogram floor, below each clip's loudest cell
SILENCE_DBFS = -50.0   # a clip whose loudest 30 ms stay below this is silence
MAX_SECONDS = 60.0     # longer recordings are cut here (the app says so)
MIN_RATE, MAX_RATE = 1_000, 384_000     # sample rates a recording may have
MAX_CHANNELS = 32      # more is no microphone's recording
# samples decoded from one file, all channels counted: 60 s of 384 kHz mono or of 48 kHz in 8
# channels. A 117 KB OGG of 64 silent channels at 192 kHz decoded to 3.5 GB in 14 s
MAX_DECODED = 23_040_000
BLOCK = 2 ** 20        # samples decoded at once (all channels), mixed to mono before the next block
AUDIO_EXTENSIONS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif"}


def preprocessing_card() -> dict:
    return {"sample_rate": SAMPLE_RATE, "clip_seconds": CLIP_SECONDS, "n_mels": N_MELS, "n_fft": N_FFT,
            "win_length": WIN, "hop_length": HOP, "f_min": F_MIN, "f_max": F_MAX, "top_db": TOP_DB,
            "silence_dbfs": SILENCE_DBFS,
            "steps": ["decode with soundfile; average channels to mono",
                      "resample to 16 kHz (torchaudio.functional.resample)",
                      "take the loudest 1 s window; pad shorter clips with silence, centred",
                      "power mel spectrogram (torchaudio MelSpectrogram), 10*log10, minus the clip's maximum, "
                      "floored at -80 dB"]}


def _sized(data: bytes) -> bytes:
    """A WAV whose recorder was stopped before it wrote its sizes (a data chunk of 0 bytes with the
    audio after it) with the sizes the file's length gives; any other file as it is."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    at = 12
    for _ in range(64):                          # chunks before the audio: fmt, LIST, fact, ...
        if at + 8 > len(data):
            return data
        size = int.from_bytes(data[at + 4:at + 8], "little")
        if data[at:at + 4] == b"data":
            if size or len(data) == at + 8:
                return data
            fixed = bytearray(data)
            fixed[4:8] = (len(data) - 8).to_bytes(4, "little")
            fixed[at + 4:at + 8] = (len(data) - at - 8).to_bytes(4, "little")
            return bytes(fixed)
        at += 8 + size + (size & 1)
    return data


def _open(source: bytes | str | os.PathLike, name: str = ""):
    """An open soundfile.SoundFile, or a DataError with libsndfile's reason (not its
    "Error opening <_io.BytesIO object at 0x…>" preamble)."""
    import soundfile as sf
    if not isinstance(source, (bytes, bytearray)):
        try:        # libsndfile calls a missing, unreadable or folder path a "System error": the OS says which
            open(source, "rb").close()
        except OSError as e:
            raise unreadable(source, e) from e
    try:
        return sf.SoundFile(io.BytesIO(_sized(source)) if isinstance(source, (bytes, bytearray)) else str(source))
    except Exception as e:  # libsndfile's errors for corrupt or foreign files
        reason = str(e).rsplit(": ", 1)[-1]
        raise DataError(f"{name + ' is ' if name else ''}not a readable audio file (WAV, FLAC, OGG, MP3 or AIFF): "
                        f"{reason}") from e


def read_audio(source: bytes | str | os.PathLike, max_seconds: float | None = MAX_SECONDS) -> tuple[np.ndarray, int]:
    """Decode a file (path or bytes) -> (mono float32 samples, sample rate): its first
    max_seconds, and never more than MAX_DECODED samples over all its channels (a
    compressed file's size says nothing of what it decodes to). A file that is not
    audio, holds no samples, or has an impossible rate or channel count is a DataError."""
    name = "the upload" if isinstance(source, (bytes, bytearray)) else str(source)
    with _open(source, name) as f:
        sr, channels = f.samplerate, f.channels
        # checked before decoding: the header alone says how much work and memory the file asks for
        if not MIN_RATE <= sr <= MAX_RATE:
            raise DataError(f"{name} has a sample rate of {sr:,} Hz: recordings from {MIN_RATE:,} to "
                            f"{MAX_RATE:,} Hz can be read.")
        if not 1 <= channels <= MAX_CHANNELS:
            raise DataError(f"{name} has {channels:,} channels: recordings of up to {MAX_CHANNELS} can be read "
                            "(mix it down to mono or stereo first).")
        frames = _frames_read(f, max_seconds)
        try:
            # block by block, each mixed to mono at once: a channels x frames array is never held
            parts = [b.mean(axis=1) for b in f.blocks(blocksize=max(1, BLOCK // channels), frames=frames,
                                                   dtype="float32", always_2d=True)]
        except Exception as e:
            raise DataError(f"{name} is damaged: {e}") from e
    if not parts or not sum(map(len, parts)):
        raise DataError(f"{name} holds no audio (0 samples).")
    return to_mono(np.concatenate(parts)), sr


def _frames_read(f, max_seconds: float | None = MAX_SECONDS) -> int:
    """The frames read_audio decodes from an open file: its first max_seconds, within MAX_DECODED."""
    frames = f.frames if max_seconds is None else min(f.frames, int(max_seconds * f.samplerate))
    return max(0, min(frames, MAX_DECODED // max(1, f.channels)))


def decoded_samples(source: bytes | str | os.PathLike) -> int:
    """How many samples, all channels counted, read_audio decodes from a file: from its header alone."""
    with _open(source) as f:
        return _frames_read(f) * f.channels


def audio_info(source: bytes | str | os.PathLike) -> dict:
    """Sample rate, channels and duration of a file, without decoding it."""
    with _open(source) as f:
        return {"sample_rate": f.samplerate, "channels": f.channels,
                "seconds": f.frames / f.samplerate if f.samplerate else 0.0}


def decode_recording(data: bytes) -> tuple[np.ndarray, int, list[str]]:
    """An uploaded or recorded file -> (mono samples, rate, notes on what was changed to read it).
    Not audio, empty or damaged: a DataError whose message can be shown as it is."""
    if not data:
        raise DataError("The file is empty (0 bytes).")
    info = audio_info(data)
    wave, sr = read_audio(data)
    notes = []
    if info["channels"] > 1:
        notes.append(f"{info['channels']} channels: averaged to mono")
    if sr != SAMPLE_RATE:
        notes.append(f"recorded at {sr:,} Hz: resampled to 16 kHz")
    used = len(wave) / sr
    if info["seconds"] > used + 0.5 / sr:
        length = f"{info['seconds'] / 60:.1f} minutes" if info["seconds"] >= 120 else f"{info['seconds']:.1f} s"
        notes.append(f"{length} long: only the first {used:.3g} s are used")
    return wave, sr, notes


def to_mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        # (samples, channels) as soundfile gives it; a (channels, samples) array is turned first
        if x.shape[0] < x.shape[1] and x.shape[0] <= 8:
            x = x.T
        x = x.mean(axis=1)
    if x.ndim != 1:
        raise DataError(f"audio must be 1-D samples (or samples × channels), not shape {x.shape}")
    # a NaN or infinite sample is silence (nan_to_num's default would make inf 3.4e38, and every answer NaN)
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


def resample(x: np.ndarray | torch.Tensor, sr: int, target: int = SAMPLE_RATE) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(x, dtype=np.float32)) if not isinstance(x, torch.Tensor) else x.float()
    if not MIN_RATE <= sr <= MAX_RATE:
        raise DataError(f"a sample rate of {sr:,} Hz: recordings from {MIN_RATE:,} to {MAX_RATE:,} Hz can be read")
    if sr == target:
        return x
    orig, new = resample_ratio(int(sr), target)
    with torch.no_grad():
        return _resampler(orig, new)(x)


def resample_ratio(sr: int, target: int, most: int = 1000) -> tuple[int, int]:
    """(orig, new), both at most `most`, with orig/new as close to sr/target as that allows.
    A windowed-sinc kernel has new/gcd rows of about orig/gcd taps: 8,001 Hz to 16 kHz exactly
    is 16,000 × 8,001 taps (over 4 GB); 1/2 is off by 0.0125%, far below what anyone hears.
    The usual rates (8, 11.025, 22.05, 44.1, 48 kHz) stay exact."""
    r = Fraction(sr, target)
    r = r.limit_denominator(most) if r < 1 else 1 / (1 / r).limit_denominator(most)
    return r.numerator, r.denominator


@functools.lru_cache(maxsize=16)
def _resampler(orig: int, new: int) -> torchaudio.transforms.Resample:
    # the windowed-sinc kernel is built once per ratio: building it took longer than resampling
    return torchaudio.transforms.Resample(orig, new)


def frame_dbfs(x: torch.Tensor, frame: int = 480) -> torch.Tensor:
    """Level of each 30 ms frame in dB relative to full scale."""
    n = max(1, len(x) // frame)
    frames = x[: n * frame].reshape(n, -1) if len(x) >= frame else x.reshape(1, -1)
    return 10 * torch.log10(frames.pow(2).mean(1) + 1e-12)


def is_silent(x: torch.Tensor) -> bool:
    return len(x) == 0 or float(frame_dbfs(x).max()) < SILENCE_DBFS


def fit_clip(x: torch.Tensor, n: int = CLIP_SAMPLES) -> torch.Tensor:
    """Exactly n samples: the loudest n-sample window of a longer clip, or a
    shorter clip centred in silence."""
    if len(x) == n:
        return x
    if len(x) < n:
        left = (n - len(x)) // 2
        return torch.nn.functional.pad(x, (left, n - len(x) - left))
    energy = torch.nn.functional.pad(x.pow(2).cumsum(0), (1, 0))
    window = energy[n:] - energy[:-n]
    start = int(window[:: HOP].argmax()) * HOP
    return x[start:start + n]


def clip_16k(wave, sr: int) -> torch.Tensor:
    """Any 1-D (or multi-channel) waveform at any rate -> a 1-s 16 kHz clip tensor."""
    x = resample(to_mono(np.asarray(wave, dtype=np.float32)), sr)
    if len(x) == 0:
        raise DataError("the recording is empty (0 samples)")
    return fit_clip(x)


class LogMel(nn.Module):
    """(batch, samples) at 16 kHz -> (batch, 1, 40 mels, 51 frames), in dB below each clip's maximum."""

    def __init__(self):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(SAMPLE_RATE, n_fft=N_FFT, win_length=WIN, hop_length=HOP,
                                                        f_min=F_MIN, f_max=F_MAX, n_mels=N_MELS)

    def power(self, x: torch.Tensor) -> torch.Tensor:
        """Unnormalised dB (the augmentation mixes noise in this scale)."""
        return 10 * torch.log10(self.mel(x) + 1e-10).unsqueeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return normalise_db(self.power(x))


def normalise_db(db: torch.Tensor) -> torch.Tensor:
    peak = db.amax(dim=(-2, -1), keepdim=True)
    return (db - peak).clamp(min=-TOP_DB)


_LOGMEL: LogMel | None = None


@torch.inference_mode()
def logmel(clips: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Log-mels of a stack of 1-s clips (N, 16000) -> (N, 1, 40, 51)."""
    global _LOGMEL
    if _LOGMEL is None:
        _LOGMEL = LogMel()
    if clips.ndim == 1:
        clips = clips.unsqueeze(0)
    return torch.cat([_LOGMEL(clips[i:i + batch]) for i in range(0, len(clips), batch)]) if len(clips) else \
        torch.empty(0, 1, N_MELS, CLIP_SAMPLES // HOP + 1)


def noise(kind: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """White, pink (1/f) or brown (1/f²) noise, unit peak."""
    w = torch.randn(n, generator=generator)
    if kind != "white":
        spec = torch.fft.rfft(w)
        f = torch.arange(len(spec)).float().clamp(min=1)
        spec = spec / (f.sqrt() if kind == "pink" else f)
        w = torch.fft.irfft(spec, n)
    return w / w.abs().max().clamp(min=1e-9)


def write_wav(path: str | Path, x: torch.Tensor | np.ndarray, sr: int = SAMPLE_RATE) -> None:
    import soundfile as sf
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(x, dtype=np.float32).clip(-1, 1), sr, subtype="PCM_16")


def wav_bytes(x: torch.Tensor | np.ndarray, sr: int = SAMPLE_RATE) -> bytes:
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, dtype=np.float32).clip(-1, 1), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
