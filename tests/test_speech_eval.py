"""The shipped Speech model on real held-out recordings: Speech Commands speakers it never
trained on and FSDD's official test split (takes 0-4 of every speaker), through the evaluation
command and through the predictor's own preprocessing at the dataset's 8 kHz."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from models import load_predictor

pytestmark = [pytest.mark.skipif(not (Path(os.environ["BACKPROP_DATA"]) / "fsdd").is_dir(),
                                 reason="FSDD not under BACKPROP_DATA"), pytest.mark.slow]


needs_speech_commands = pytest.mark.skipif(
    not (Path(os.environ["BACKPROP_DATA"]) / "speech_commands").is_dir(), reason="Speech Commands not under BACKPROP_DATA")


@needs_speech_commands
def test_evaluation_command_reports_voices_never_heard(capsys):
    """The held-out speakers' figures, a little under what the shipped model measures (commands
    95.3%, digits 80.8% of 26 clips, other words 76.5% of 17, noise 100%, FSDD test 99.3%)."""
    from models.evaluate import main
    assert main(["speech"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["n"] == 300 and result["accuracy"] >= 0.98, result["accuracy"]          # FSDD's test split
    assert "FSDD test split (300 clips)" in out.err and "true \\ pred" in out.err    # the confusion table
    held = result["held_out"]
    assert len(held["held_out_speakers"]) == 25 and held["clips"]["_unknown_"] == 17
    assert held["commands"] >= 0.93, held["commands"]
    assert held["digits"] >= 0.76, held["digits"]
    assert held["unknown_rejection"] >= 0.70, held["unknown_rejection"]
    assert held["silence"] >= 0.95, held["silence"]
    assert all(held["per_keyword"][w] >= 0.8 for w in ("yes", "no", "up", "down", "left", "right", "on", "off",
                                                       "stop", "go")), held["per_keyword"]
    assert "held-out speakers: commands" in out.err
    # the card holds the same figures (the app's reliability table) and the split
    card = load_predictor("speech").card
    assert card["metrics"]["test_accuracy"] == pytest.approx(result["accuracy"], abs=1e-4)
    assert card["evaluation"]["held_out"]["commands"] == pytest.approx(held["commands"])
    assert card["data"]["held_out_speakers"] == held["held_out_speakers"]
    assert "takes 0-4" in card["data"]["test_split"]


@needs_speech_commands
def test_no_held_out_speaker_is_in_the_training_set():
    from models.speech.task import speech_data
    d = speech_data(synthetic=False)
    heard = set(d.heard.speakers)
    assert len(d.held_out_speakers) == 25 and not heard & set(d.held_out_speakers)


def test_predictor_on_the_test_split_at_8khz_and_in_noise():
    """The same clips as the recorder would give them: raw 8 kHz files of any length, then with
    white noise 20 dB below the speech."""
    from data.speech.datasets import fsdd_recordings
    import soundfile as sf
    p = load_predictor("speech")
    files = sorted(f for f in fsdd_recordings().glob("*.wav") if int(f.stem.split("_")[2]) < 5)
    assert len(files) == 300
    items, truth = [], []
    for f in files:
        x, sr = sf.read(str(f), dtype="float32")
        items.append((x, sr))
        truth.append(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
                     [int(f.stem[0])])
    clean = np.mean([o["label"] == t for o, t in zip(p.predict(items), truth)])
    assert clean >= 0.98, clean
    rng = np.random.default_rng(0)
    noisy = [(x + rng.normal(0, np.sqrt(np.mean(x ** 2)) / 10, len(x)).astype(np.float32), sr) for x, sr in items]
    acc = np.mean([o["label"] == t for o, t in zip(p.predict(noisy), truth)])
    assert acc >= 0.90, acc
