"""The commands given what a script or a tired person gives them: an --out that is a folder or a
device, a run that goes NaN or is stopped with Ctrl-C beside a better checkpoint, a resume that does
not fit, files that are not files, and numbers no option takes. One `error:` line each, the right
exit status, valid JSON, and nothing better overwritten."""
import json
import os

import pytest

from conftest import needs_mnist
from models import train as train_cli
from models.core.checkpoint import CheckpointError, card_bytes, load_checkpoint, save_checkpoint

FEW = ["--epochs", "1", "--max-batches", "2", "--threads", "1"]


def train(*args) -> int:
    return train_cli.main(["digits", *FEW, *args])


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.with_name(p.name + ".json").mkdir(), "is not a regular file"),
])
def test_an_out_that_cannot_be_a_checkpoint_is_refused_before_training(tmp_path, capsys, make, message):
    out = tmp_path / "run"
    make(out)
    with pytest.raises(SystemExit) as e:
        train("--out", str(out))
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_an_out_on_a_device_or_in_an_unwritable_folder_is_refused(capsys):
    for out, message in (("/dev/null", "is not a regular file"), ("/proc/nowhere/run", "cannot be made")):
        with pytest.raises(SystemExit):
            train("--out", out)
        assert message in capsys.readouterr().err


@needs_mnist
def test_a_run_whose_validation_goes_nan_is_not_saved_and_its_report_is_json(tmp_path, capsys):
    out = tmp_path / "run"
    code = train("--lr", "1e5", "--optimizer", "sgd", "--schedule", "constant", "--out", str(out))
    report = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    assert code == 1 and report["status"] == "diverged" and not report["saved"]
    assert not out.with_name("run.safetensors").exists()


def test_a_card_with_nan_is_written_as_json():
    text = card_bytes({"metrics": {"val_loss": float("nan"), "test_loss": float("inf"), "n": 3}}).decode()
    assert json.loads(text)["metrics"] == {"val_loss": None, "test_loss": None, "n": 3}


@needs_mnist
def test_ctrl_c_keeps_a_better_checkpoint_and_exits_130(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert train("--out", str(out)) == 0
    before = out.with_name("run.safetensors").read_bytes()
    from models.core.trainer import Trainer
    emit = Trainer.emit

    def ctrl_c_after_a_step(self, event):      # a step taken, no validation yet
        emit(self, event)
        if event == "batch_end":
            raise KeyboardInterrupt
    monkeypatch.setattr(Trainer, "emit", ctrl_c_after_a_step)
    capsys.readouterr()
    assert train("--out", str(out)) == 130
    assert "no val accuracy to weigh" in capsys.readouterr().err
    assert out.with_name("run.safetensors").read_bytes() == before


@needs_mnist
def test_a_resume_that_does_not_fit_is_one_message(tmp_path, capsys):
    out = tmp_path / "run"
    assert train("--out", str(out)) == 0
    capsys.readouterr()
    # the run's one-cycle schedule was laid out for one epoch of two batches: more steps did not fit
    assert train_cli.main(["digits", "--epochs", "2", "--threads", "1", "--resume", str(out),
                           "--out", str(tmp_path / "more")]) == 2
    assert "goes on with the run as it was laid out" in capsys.readouterr().err
    assert train("--resume", "models/weights/typos", "--out", str(tmp_path / "other")) == 2
    assert "is a run of the typos task" in capsys.readouterr().err
    state, card = load_checkpoint(out)
    card.pop("files")                      # as the shipped digits card: no hash to catch a damaged file
    save_checkpoint(out, __import__("models").get_task("digits").model_from_state(state, card), card)
    out.with_name("run.train.pt").write_bytes(b"PK\x03\x04 not a torch file")
    assert train("--resume", str(out), "--out", str(tmp_path / "again")) == 2
    assert "cannot be read as a run's optimizer state" in capsys.readouterr().err


def test_a_checkpoint_that_is_not_a_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / "f.safetensors")          # read without end, or waited on for ever
    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(CheckpointError, match="is not a regular file"):
        load_checkpoint(tmp_path / "f")


@pytest.mark.parametrize("module, args, option", [
    ("models.predict", ["digits", "x.png", "--top", "0"], "--top"),
    ("models.evaluate", ["digits", "--threads", "-1"], "--threads"),
    ("models.evaluate", ["digits", "--mistakes", "-3"], "--mistakes"),
    ("models.typos.eval", ["--sample", "0"], "--sample"),
    ("models.typos.sentences", ["--n", "-5"], "--n"),
    ("models.sentiment.eval", ["--repeats", "0"], "--repeats"),
    ("models.benchmark", ["speech", "--threads", "0"], "--threads"),
    ("models.train", ["digits", "--out", "x", "--early-stopping", "-2"], "--early-stopping"),
    ("models.train", ["digits", "--out", "x", "--seed", "1" + "0" * 22], "--seed"),
])
def test_numbers_no_option_takes_are_refused_by_name(module, args, option, capsys):
    import importlib
    with pytest.raises(SystemExit) as e:
        importlib.import_module(module).main(args)
    assert e.value.code == 2 and option in capsys.readouterr().err


def test_the_benchmark_says_a_wrong_checkpoint_at_once(tmp_path, capsys):
    from models import benchmark
    assert benchmark.main(["sentiment", "--threads", "1", "--weights", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: No weights at")


def test_an_export_never_replaces_a_json_that_is_not_its_card(tmp_path, capsys):
    from models import export
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    assert export.main(["digits", "--out", str(tmp_path / "notes.onnx")]) == 2
    assert "is not the card of an ONNX export" in capsys.readouterr().err
    assert json.loads((tmp_path / "notes.json").read_text()) == {"mine": 1}
    assert not (tmp_path / "notes.onnx").exists()


def test_a_model_of_its_own_labels_is_not_evaluated_on_the_official_set():
    # a 1-5 stars model had been scored on SST-2's negative/positive as "1"/"2" (4%), a taught
    # speech model crashed: refused, pointing at --custom
    from types import SimpleNamespace
    from data.core.errors import DataError
    from models.evaluate import official
    from models.speech.task import TASK as SPEECH
    from models.sentiment.task import TASK as SENTIMENT
    with pytest.raises(DataError, match=r"says 1, 2, 3, not the official sentiment labels \(negative, positive\).*--custom"):
        official(SENTIMENT, SimpleNamespace(labels=["1", "2", "3"]), ["negative", "positive"])
    with pytest.raises(DataError, match="says cold, hot, not the official speech labels"):
        official(SPEECH, SimpleNamespace(labels=["cold", "hot"]), SPEECH.official_labels)
    official(SPEECH, SimpleNamespace(labels=list(SPEECH.official_labels)), SPEECH.official_labels)
