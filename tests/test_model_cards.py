"""A model zip is a stranger's file: every field of its card and every tensor its weights name is
checked before the suite spends time or memory on it, and a model that loads also answers."""
import copy
import io
import json
import time
import zipfile

import pytest
import torch
from safetensors.torch import save
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from models import get_task
from models.core.checkpoint import CheckpointError, from_zip, load_checkpoint, shipped_path


def shipped(task: str):
    state, card = load_checkpoint(shipped_path(task))
    return dict(state), copy.deepcopy(card)


def model_zip(weights: bytes, card: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("m.safetensors", weights)
        z.writestr("m.json", json.dumps(card))
    return buf.getvalue()


def kwargs(**change):
    return lambda state, card: card["arch"]["kwargs"].update(change)


def card(**change):
    return lambda state, card: card.update(change)


def running_var(state, card):
    state["input_norm.running_var"] = torch.tensor([-1.0])


@pytest.mark.parametrize("task, change, message", [
    # torch lays out 20,000 recurrent layers for minutes even on the meta device
    ("sentiment", kwargs(layers=20_000, hidden=1), "layers is 20000: .* from 1 to 4"),
    ("sentiment", kwargs(hidden=10**30), "numbers are finite, and no network"),    # was a C++ stack dump
    ("sentiment", kwargs(dropout=float("nan")), "dropout is nan"),
    ("sentiment", kwargs(pool="avg"), "unknown pool 'avg'"),
    ("sentiment", card(labels=["negative"]), "list of 2 to 10,000 strings"),
    ("sentiment", card(labels=["a", "b", "c"]), "does not match its weights"),   # its outputs follow the labels
    ("speech", kwargs(n_mels=42), "n_mels is 42: .* from 40 to 40"),               # the audio always has 40
    ("speech", running_var, "answers a sample input with NaN"),
    ("speech", card(labels=[]), "list of 2 to 10,000 strings"),
    ("typos", kwargs(dim=0), "dim is 0"),
    ("typos", card(preprocessing="x"), "preprocessing must be a JSON object"),
    ("digits", card(metrics="x"), "metrics must be a JSON object"),
    ("digits", card(metrics={"test_accuracy": "high"}), "metrics.test_accuracy must be a number from 0 to 1"),
    ("digits", card(evaluation=[]), "evaluation must be a JSON object"),
    ("digits", card(evaluation={"headline": 5}), "headline must be a string"),
    ("digits", card(data="x"), "data must be a JSON object"),
])
def test_a_crafted_card_is_refused_with_its_reason(task, change, message):
    state, c = shipped(task)
    change(state, c)
    t0 = time.perf_counter()
    with pytest.raises(CheckpointError, match=message):
        get_task(task).predictor_from_state(state, c)
    assert time.perf_counter() - t0 < 30      # the layers case took minutes


def test_figures_a_trainer_leaves_out_still_load():
    state, c = shipped("digits")
    c["metrics"].update(val_accuracy=float("nan"), test_accuracy=None)    # no validation examples
    assert get_task("digits").predictor_from_state(state, c).predict([get_task("digits").probe_item])


def test_weights_of_a_type_the_suite_never_saves_are_refused():
    # complex NaN passed a finite check that looked at floating-point tensors only
    state, c = shipped("digits")
    state["c1.weight"] = torch.full(state["c1.weight"].shape, complex(float("nan"), 0), dtype=torch.complex64)
    with pytest.raises(CheckpointError, match="tensors of type C64"):
        from_zip(model_zip(save(state), c))


def test_a_header_of_countless_tensors_is_refused_before_they_are_built():
    # 1.5 million empty tensors (a 3.9 MB zip) cost 2 GB and 80 s before the card could refuse them
    header = json.dumps({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
                         for i in range(1_001)}).encode()
    _, c = shipped("digits")
    with pytest.raises(CheckpointError, match="name 1,001 tensors"):
        from_zip(model_zip(len(header).to_bytes(8, "little") + header, c))
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        from_zip(model_zip(b"\xff" * 8 + header, c))


def test_a_zip_of_many_entries_is_refused_before_its_directory_is_read(monkeypatch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(20):
            z.writestr(f"{i}.json", b"{}")
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("the directory was parsed"))
    with pytest.raises(CheckpointError, match="it lists 20 entries"):
        from_zip(buf.getvalue())


def test_a_checkpoint_too_large_is_refused_before_it_is_read(tmp_path):
    with open(tmp_path / "big.safetensors", "wb") as f:
        f.truncate(300 * 1024**2)                     # sparse: nothing is written
    (tmp_path / "big.json").write_text("{}")
    with pytest.raises(CheckpointError, match="300 MB: a model of this suite is at most 256 MB"):
        load_checkpoint(tmp_path / "big")


def test_a_session_keeps_its_latest_models_only():
    """Each loaded model stays in the session while the page is open; one upload after another
    must not hold memory without end, and the newest is the one in use."""
    from apps.components.common import MAX_SESSION_MODELS
    state, c = shipped("digits")
    at = AppTest.from_file(str(ROOT / "apps" / "digits.py"), default_timeout=120).run()
    for i in range(MAX_SESSION_MODELS + 2):
        c["message"] = f"upload {i}"                 # a different file each time
        at.sidebar.file_uploader(key="digits__load").set_value((f"m{i}.zip", model_zip(save(state), c),
                                                                "application/zip")).run()
        assert not at.exception
        if i == 0:                                   # as if its ONNX file had been made: it goes with it
            first = at.session_state["digits__active"]
            at.session_state[f"digits__picker_onnx_{first}__onnx"] = (0, b"onnx")
    assert f"digits__picker_onnx_{first}__onnx" not in at.session_state
    store = at.session_state["digits__models"]
    assert len(store) == MAX_SESSION_MODELS
    assert at.sidebar.radio[0].value == list(store)[-1] == at.session_state["digits__active"]
    assert list(store)[-1].startswith(f"Loaded model {MAX_SESSION_MODELS + 2} ")
