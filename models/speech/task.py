"""The Speech task: KeywordNet names a spoken keyword from a 1-s clip.

Classes: the twenty keywords of Google's Speech Commands core set, `_unknown_`
(other speech) and `_silence_` (no speech). Every word is learnt from real people:
Speech Commands' speakers (all but a held-out 15%, chosen by a hash of their names)
and FSDD's six for the digits, helped by synthetic voices (data/speech/synth.py);
silence from real background noise and generated noise, which is also mixed into
the training clips at random signal-to-noise ratios.

    p = load_predictor("speech")
    p.predict([(waveform, sample_rate)])   # 1-D float array, any rate and length
    p.scan(waveform, sample_rate)          # keywords in a longer recording, with their times
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import TensorDataset

from data.core.class_folders import LoadedClasses, check_examples, unzipped
from data.core.errors import DataError
from data.core.root import cache_dir
from data.speech.audio import (CLIP_SAMPLES, N_MELS, SAMPLE_RATE, SILENCE_DBFS, clip_16k, frame_dbfs,
                               is_silent, logmel, preprocessing_card, read_audio, resample, to_mono)
from data.speech.augment import SpeechAugment
from data.speech.datasets import (COMMANDS, FSDD_TEST_TAKES, SILENCE, UNKNOWN, VALIDATION_SHARE, Clips,
                                  background_noise_split, load_audio_folders, load_fsdd, load_speech_commands,
                                  load_word_folders, silence_clips, speech_commands_folder, validation_speaker)
from data.speech.synth import KEYWORDS, UNKNOWN_WORDS, synthesise
from models.core.predictor import Predictor
from models.speech.net import KeywordNet
from models.core.tasks import Splits, Task, splits_from_examples
from models.core.trainer import TrainConfig

LABELS = KEYWORDS + [UNKNOWN, SILENCE]
N_SILENCE = 400
RARE_REPEATS = 4      # chosen on the held-out speakers: see README, Speech commands


def as_item(item) -> tuple[np.ndarray, int]:
    if not (isinstance(item, (tuple, list)) and len(item) == 2):
        raise DataError("a speech item is (waveform, sample_rate): a 1-D float array and its rate in Hz")
    wave, sr = item
    return to_mono(np.asarray(wave, dtype=np.float32)), int(sr)


SCAN_FROM_S = 1.25    # a longer recording is scanned window by window, not read as one word


class SpeechPredictor(Predictor):
    """Items are (waveform, sample_rate) pairs: 1-D float arrays at any rate and length.
    A clip whose loudest 30 ms stay below -50 dBFS is `_silence_` without asking the network."""

    def prepare(self, item) -> torch.Tensor:
        return logmel(clip_16k(*as_item(item)))[0]

    @torch.inference_mode()
    def probabilities(self, items: Sequence) -> torch.Tensor:
        clips = [clip_16k(*as_item(item)) for item in items]
        if not clips:
            return torch.empty(0, len(self.labels))
        probs = torch.softmax(self.model(logmel(torch.stack(clips))).float(), dim=1)
        if SILENCE in self.labels:
            for i, clip in enumerate(clips):
                if is_silent(clip):
                    probs[i] = 0
                    probs[i, self.labels.index(SILENCE)] = 1
        return probs

    def explain(self, item) -> dict:
        """What the network sees: the 1-s clip, its log-mel spectrogram, and every class's probability."""
        clip = clip_16k(*as_item(item))
        probs = self.probabilities([(clip.numpy(), SAMPLE_RATE)])[0]
        label = self.labels[int(probs.argmax())]
        return {"clip": clip.numpy(), "logmel": logmel(clip)[0, 0].numpy(), "label": label,
                "score": float(probs.max()), "silent": is_silent(clip),
                "probs": dict(zip(self.labels, probs.tolist()))}

    def scan_windows(self, wave, sr: int, hop: float = 0.25) -> list[dict]:
        """Every 1-s window of a recording, `hop` seconds apart: its start, end, label, score, and
        `time`, the centre of its sound energy (where the word it heard is). A window is silence
        when it is quiet in absolute terms (-50 dBFS) or 35 dB below the recording's loudest
        moment, so that a word's faint tail is not taken for a word."""
        x = resample(to_mono(np.asarray(wave, dtype=np.float32)), sr)
        if len(x) == 0:
            raise DataError("the recording is empty (0 samples)")
        if len(x) < CLIP_SAMPLES:
            x = torch.nn.functional.pad(x, (0, CLIP_SAMPLES - len(x)))
        step = int(hop * SAMPLE_RATE)
        starts = list(range(0, len(x) - CLIP_SAMPLES + 1, step))
        if starts[-1] != len(x) - CLIP_SAMPLES:
            starts.append(len(x) - CLIP_SAMPLES)
        windows = torch.stack([x[s:s + CLIP_SAMPLES] for s in starts])
        loudest = float(frame_dbfs(x).max())
        probs = self.probabilities([(w.numpy(), SAMPLE_RATE) for w in windows])
        energy = windows.pow(2)
        centre = (energy * torch.arange(CLIP_SAMPLES)).sum(1) / energy.sum(1).clamp(min=1e-12)
        out = []
        for s, w, p, c in zip(starts, windows, probs, centre.tolist()):
            silent = float(frame_dbfs(w).max()) < max(SILENCE_DBFS, loudest - 35)
            i = int(p.argmax())
            out.append({"start": s / SAMPLE_RATE, "end": (s + CLIP_SAMPLES) / SAMPLE_RATE,
                        "time": (s + c) / SAMPLE_RATE,
                        "label": SILENCE if silent and SILENCE in self.labels else self.labels[i],
                        "score": 1.0 if silent else float(p[i]), "silent": silent})
        return out

    def hear(self, wave, sr: int, k: int = 3) -> dict:
        """One answer for a recording, the same in the app and on the command line. A clip of up
        to SCAN_FROM_S seconds is one word (predict's answer); a longer recording is every keyword
        in it, in time order: `label` "seven · stop · go" ("no keyword" when speech names none,
        `_silence_` when there is no speech), `keywords` with their times, and `windows`."""
        wave, sr = as_item((wave, sr))
        if len(wave) <= SCAN_FROM_S * sr:
            return self.predict([(wave, sr)], k=k)[0]
        windows = self.scan_windows(wave, sr)
        found = self.scan(wave, sr, windows=windows)
        # no speech: every window too quiet, or heard as _silence_ (room noise is louder than the gate,
        # and had been "speech, but no keyword")
        silent = all(w["silent"] or w["label"] == SILENCE for w in windows)
        label = SILENCE if silent else " · ".join(f["label"] for f in found) or "no keyword"
        return {"label": label, "score": min((f["score"] for f in found), default=1.0 if silent else 0.0),
                "keywords": found, "windows": windows, "silent": silent}

    def scan(self, wave, sr: int, hop: float = 0.25, threshold: float = 0.6, apart: float = 0.4,
             windows: list[dict] | None = None) -> list[dict]:
        """Keywords found in a recording, with times: windows that name a keyword with at least
        `threshold` confidence, the surest first, each suppressing the windows whose sound is centred
        within `apart` seconds of its own (the same word heard again, or a guess at part of it);
        listed in time order. `windows`: scan_windows' answer, when it is already at hand."""
        windows = windows if windows is not None else self.scan_windows(wave, sr, hop)
        found = sorted((w for w in windows if w["label"] not in (UNKNOWN, SILENCE) and w["score"] >= threshold),
                       key=lambda w: -w["score"])
        kept: list[dict] = []
        for w in found:
            if all(abs(w["time"] - k["time"]) >= apart for k in kept):
                kept.append(w)
        return [{k: w[k] for k in ("label", "score", "time", "start", "end")}
                for w in sorted(kept, key=lambda w: w["time"])]


def synthetic_folder() -> Path:
    return cache_dir("speech_synth")


def synthetic_clips(log=None) -> Clips:
    """The synthetic voices' clips, synthesised into the cache on first use (a few minutes)."""
    folder = synthetic_folder()
    if not any(folder.glob(f"{KEYWORDS[0]}/*.wav")):
        if log:
            log(f"synthesising the training voices into {folder} (once; a few minutes)")
        synthesise(KEYWORDS, folder, 60)
        synthesise(UNKNOWN_WORDS, folder, 12)
    return load_word_folders(folder, KEYWORDS + UNKNOWN_WORDS, source="synthetic voices (espeak-ng, flite, festival)")


def targets(words: Sequence[str], labels: Sequence[str] = LABELS) -> torch.Tensor:
    index = {w: i for i, w in enumerate(labels)}
    return torch.tensor([index.get(w, index.get(UNKNOWN, -1)) for w in words], dtype=torch.long)


def dataset(clips: Clips, labels: Sequence[str] = LABELS) -> TensorDataset:
    return TensorDataset(logmel(clips.waves), targets(clips.words, labels))


def noise_as_silence(pieces: torch.Tensor, source: str) -> Clips:
    return Clips(pieces, [SILENCE] * len(pieces), ["noise"] * len(pieces), [], source)


@dataclass
class SpeechData:
    """Every real and synthetic clip the recipe uses, split by speaker: `heard` trains,
    `held_out` (Speech Commands speakers never trained on, and the end of every noise recording)
    validates; FSDD's official test takes are the test set."""
    heard: Clips
    held_out: Clips
    fsdd: Clips                    # every FSDD clip; takes 0-4 are the test set
    fsdd_test: Clips
    noise: torch.Tensor            # the training share of the real background noise, for augmentation
    held_out_speakers: list[str]


def speech_data(root=None, log=None, synthetic: bool = True) -> SpeechData:
    folder = speech_commands_folder(root, download=True)
    sc = load_speech_commands(root)
    noise_train, noise_val = background_noise_split(folder)
    held = [validation_speaker(s) for s in sc.speakers]
    sc_train, sc_val = sc.subset([not h for h in held]), sc.subset(held)
    fsdd = load_fsdd(root)
    is_test = [t in FSDD_TEST_TAKES for t in fsdd.takes]
    # digits and other words are a few dozen clips a word in Speech Commands against ~240 of each
    # command: heard RARE_REPEATS times an epoch, they are not drowned out
    rare = sc_train.subset([w not in COMMANDS for w in sc_train.words])
    heard = sc_train
    for _ in range(RARE_REPEATS - 1):
        heard = heard + rare
    heard = heard + fsdd.subset([not t for t in is_test]) + silence_clips(N_SILENCE) + \
        noise_as_silence(noise_train, "Speech Commands background noise")
    if synthetic:
        heard = heard + synthetic_clips(log)
    held_out = sc_val + noise_as_silence(noise_val, "held-out background noise")
    return SpeechData(heard, held_out, fsdd, fsdd.subset(is_test), noise_train, sorted(set(sc_val.speakers)))


class SpeechTask(Task):
    name = "speech"
    title = "Speech commands"
    predictor_class = SpeechPredictor
    # the input is always N_MELS bands; widths far past the shipped 128 are no model of this suite
    arch_limits = {"n_mels": (N_MELS, N_MELS), "width": (1, 1024), "front": (1, 256)}
    probe_item = (np.random.default_rng(0).normal(0, 0.1, SAMPLE_RATE).astype(np.float32), SAMPLE_RATE)

    def build_model(self, labels: Sequence[str] = LABELS, **arch) -> KeywordNet:
        return KeywordNet(**{**arch, "num_classes": len(labels)})

    def default_config(self) -> TrainConfig:
        # the shipped model's recipe (see models/weights/speech.json for its figures)
        return TrainConfig(epochs=30, batch_size=64, lr=4e-3, optimizer="adam", schedule="onecycle",
                           weight_decay=1e-3)

    def batch_transform(self, augment: bool = True, splits: Splits | None = None):
        if not augment:
            return None
        return SpeechAugment(background=(splits.extras.get("noise") if splits is not None else None))

    def preprocessing(self) -> dict:
        return preprocessing_card()

    def training_clips(self, root=None, log=None) -> tuple[Clips, Clips]:
        """(FSDD, everything else the recipe trains on): what leave-one-FSDD-speaker-out splits."""
        d = speech_data(root, log)
        speakers = set(d.fsdd.speakers)
        return d.fsdd, d.heard.subset([s not in speakers for s in d.heard.speakers])

    def load_splits(self, root=None, val_fraction: float = 0.1, seed: int = 0) -> Splits:
        """Train on Speech Commands' speakers but the held-out 15%, FSDD takes 5-49, the synthetic
        voices and silence; validate on the held-out speakers (and held-out noise); test on FSDD's
        official test split. The speakers are fixed by a hash of their names, so `val_fraction` and
        `seed` do not move them: a validation figure always measures voices never heard."""
        d = speech_data(root)
        provenance = {"dataset": "Speech Commands v0.02 (real speakers) + FSDD (takes 5-49) + synthetic voices "
                                 "+ background noise and generated silence",
                      "source": "data root speech_commands/ (Speech Commands v0.02, CC BY 4.0, 161 speakers) and "
                                "fsdd/ (Free Spoken Digit Dataset v1.0.10, 6 speakers); python -m data.speech.synth "
                                "(espeak-ng, flite, festival)",
                      "train": len(d.heard), "val": len(d.held_out), "test": len(d.fsdd_test),
                      "split": f"by speaker: validation = the {len(d.held_out_speakers)} Speech Commands speakers "
                               f"whose name hashes into {VALIDATION_SHARE}% (data.speech.datasets.validation_speaker), "
                               "and the last 15% of every background-noise recording",
                      "held_out_speakers": d.held_out_speakers,
                      "test_split": "FSDD official: takes 0-4 of every speaker and digit",
                      "rare_words_repeated": RARE_REPEATS}
        return Splits(dataset(d.heard), dataset(d.held_out), dataset(d.fsdd_test), LABELS, provenance,
                      {"noise": d.noise})

    official_labels = LABELS      # what models.evaluate measures against FSDD's test split

    def load_test(self, root=None, labels: Sequence[str] = LABELS) -> TensorDataset:
        """FSDD's official test split alone (no synthesis needed), targets in the order of `labels`."""
        fsdd = load_fsdd(root)
        return dataset(fsdd.subset([t in FSDD_TEST_TAKES for t in fsdd.takes]), labels)

    def read_input(self, path: Path):
        return read_audio(Path(path))

    def load_custom(self, path: str | Path, val_fraction: float = 0.2, seed: int = 0,
                    mix_with: Splits | None = None) -> tuple[Splits, LoadedClasses]:
        """A folder or .zip of class folders of recordings -> splits, and what was read or skipped."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path} does not exist.")
        if path.is_file():
            with unzipped(path) as folder:       # read into memory, then the folder goes
                found = load_audio_folders(folder)
        else:
            found = load_audio_folders(path)
        mels = found.items           # each file's spectrogram (data.speech.datasets.read_logmel)
        splits = splits_from_examples(mels, found.targets, found.classes, val_fraction, seed,
                                      source=f"custom recordings ({len(mels)} from {len(found.classes)} "
                                             "folders)", mix_with=mix_with)
        return splits, found

    def examples_to_splits(self, examples: Sequence[tuple[tuple[np.ndarray, int], str]],
                           mix_with: Splits | None = None, seed: int = 0) -> Splits:
        """Recordings made in the app: ((waveform, rate), label) pairs. Generated silence joins
        them as `_silence_`, so that the taught model can still say nothing was said."""
        words = [label for _, label in examples]
        clips = [clip_16k(*as_item(item)) for item, _ in examples]
        check_examples(words)
        source = f"{len(examples)} recordings made in the app"
        if SILENCE not in words:
            quiet = silence_clips(max(8, len(examples) // 4), seed)
            clips += list(quiet.waves)
            words += quiet.words
            source += f" and {len(quiet.words)} clips of generated silence as {SILENCE}"   # the card counts them all
        classes = sorted(set(words))
        mels = logmel(torch.stack(clips))[:, 0].numpy()
        return splits_from_examples(list(mels), [classes.index(w) for w in words], classes, seed=seed,
                                    source=source, mix_with=mix_with)


TASK = SpeechTask()
