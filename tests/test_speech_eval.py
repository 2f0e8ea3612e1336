"""The shipped Speech model on real held-out recordings: FSDD's official test split
(takes 0-4 of every speaker, never trained on), through the evaluation command and
through the predictor's own preprocessing at the dataset's 8 kHz."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from models import load_predictor

pytestmark = [pytest.mark.skipif(not (Path(os.environ["BACKPROP_DATA"]) / "fsdd").is_dir(),
                                 reason="FSDD not under BACKPROP_DATA"), pytest.mark.slow]


def test_evaluation_command_reports_98_percent_on_the_fsdd_test_split(capsys):
    from models.evaluate import main
    assert main(["speech", "--folds", "0"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["n"] == 300
    assert result["accuracy"] >= 0.98, result["accuracy"]
    assert "FSDD test split (300 clips)" in out.err and "true \\ pred" in out.err    # the confusion table
    card = load_predictor("speech").card
    assert card["metrics"]["test_accuracy"] == pytest.approx(result["accuracy"], abs=1e-4)
    assert "takes 0-4" in card["data"]["test_split"]


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
