"""What an ONNX copy of KeywordNet takes, and what its caller must do first (models/core/export.py).
The network reads a log-mel spectrogram; making one (resampling, the loudest second, the mel
filters) stays with the caller, and the card says how, with every number."""
from __future__ import annotations

from pathlib import Path

import torch

from data.speech import audio
from models.core.export import ExportSpec

SAMPLES = Path(__file__).resolve().parents[2] / "apps" / "samples" / "speech"


def sample_clips() -> torch.Tensor:
    """Real Speech Commands recordings shipped with the app (1-s clips at 16 kHz), or noise without them."""
    clips = []
    for path in sorted(SAMPLES.glob("*.flac"))[:4]:
        clips.append(audio.clip_16k(*audio.read_audio(path)))
    if not clips:
        clips = list(torch.randn(4, audio.CLIP_SAMPLES, generator=torch.Generator().manual_seed(0)) * 0.1)
    return torch.stack(clips)


def export_spec(model, card: dict) -> ExportSpec:
    mels = audio.logmel(sample_clips())
    frames = audio.CLIP_SAMPLES // audio.HOP + 1
    return ExportSpec(
        module=model, names=["logmel"], example=(mels[:2].clone(),), dynamic={"logmel": {0: "batch"}},
        samples=[(mels.clone(),), (mels[:1].clone(),)],
        meaning={"logmel": f"float32 (batch, 1, {audio.N_MELS} mels, {frames} frames): a 1-s clip's log-mel "
                           f"spectrogram in dB below its loudest cell, from -{audio.TOP_DB:g} to 0"},
        output=f"one score per label ({len(card['labels'])}); softmax over them gives the probabilities",
        caller_must={
            "summary": "16 kHz mono, the loudest 1 s, a 40-band log-mel spectrogram in dB below its peak",
            "sample_rate": audio.SAMPLE_RATE, "clip_samples": audio.CLIP_SAMPLES,
            "steps": ["average the channels to mono; float samples in [-1, 1]",
                      f"resample to {audio.SAMPLE_RATE} Hz",
                      f"exactly {audio.CLIP_SAMPLES} samples: a shorter clip is centred in zeros; of a longer one "
                      f"take the {audio.CLIP_SAMPLES}-sample window of most energy, its start a multiple of "
                      f"{audio.HOP}",
                      "power mel spectrogram: torchaudio.transforms.MelSpectrogram with the parameters below "
                      "(librosa.feature.melspectrogram(y, sr=16000, n_fft=512, win_length=480, hop_length=320, "
                      "fmin=20, fmax=4000, n_mels=40, htk=True, norm=None, center=True, pad_mode='reflect', "
                      "power=2.0) computes the same)",
                      "db = 10 * log10(power + 1e-10); db = max(db - db.max(), -80)",
                      f"shape it (1, {audio.N_MELS}, {frames}) and stack clips into a batch"],
            "log_mel": {"n_fft": audio.N_FFT, "win_length": audio.WIN, "hop_length": audio.HOP,
                        "window": "periodic Hann of win_length, centred (zero-padded) in n_fft", "center": True,
                        "pad_mode": "reflect", "power": 2.0, "n_mels": audio.N_MELS, "f_min": audio.F_MIN,
                        "f_max": audio.F_MAX, "mel_scale": "htk", "filter_norm": None,
                        "db": "10*log10(power + 1e-10), minus the clip's maximum, floored at -80"},
            "silence": f"the app answers _silence_ without the network when a clip's loudest 30 ms "
                       f"(480 samples) stay below {audio.SILENCE_DBFS:g} dBFS; do the same if you need it",
            "reference": "data.speech.audio.clip_16k and logmel in this project do exactly this"})
