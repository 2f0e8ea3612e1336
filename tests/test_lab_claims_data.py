"""The Lab's claims 4–6 (what backprop trains on): dropout's gradients against a hand
computation, dropout against overfitting, an autoencoder that groups digits with no
labels, and the learning curve (the shipped file and a live point); each page runs."""
import math

import pytest
import torch
import torch.nn as nn
from streamlit.testing.v1 import AppTest

from models.lab import autoencoder as lab_ae
from models.lab import dropout as lab_dropout
from models.lab import learning_curve as lab_curve

from conftest import ROOT, needs_mnist

CLAIMS = "Claims put to the test"


def lab(session: dict | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "apps" / "lab.py"), default_timeout=120)
    at.query_params.update({"section": CLAIMS, **{k: str(v) for k, v in query.items()}})
    for k, v in (session or {}).items():
        at.session_state[k] = v
    return at.run()


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


# ---- 4. dropout ------------------------------------------------------------------

def test_a_dropped_unit_gets_exactly_zero_and_a_kept_one_the_scaled_gradient():
    p = 0.5
    torch.manual_seed(3)
    lin, out = nn.Linear(3, 6), nn.Linear(6, 2)
    x, y = torch.randn(1, 3), torch.tensor([1])
    h = torch.tanh(lin(x))
    hd = nn.functional.dropout(h, p, training=True)
    nn.functional.cross_entropy(out(hd), y).backward()
    mask = (hd != 0).float()[0]
    assert 0 < mask.sum() < 6, "this seed should drop some units and keep others"
    # by hand: the output error, back through W2, the mask and 1/(1-p), tanh', then x
    with torch.no_grad():
        dz = out(hd).softmax(1)[0] - nn.functional.one_hot(y, 2)[0].float()
        hand = ((mask / (1 - p)) * (out.weight.T @ dz) * (1 - h[0] ** 2))[:, None] * x[0][None, :]
    dropped = mask == 0
    assert torch.equal(lin.weight.grad[dropped], torch.zeros_like(lin.weight.grad[dropped]))
    assert torch.equal(lin.bias.grad[dropped], torch.zeros_like(lin.bias.grad[dropped]))
    torch.testing.assert_close(lin.weight.grad, hand)
    torch.testing.assert_close(hd[0][~dropped], h[0][~dropped] / (1 - p))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_one_batch_shows_masks_and_gradients_as_autograd_computes_them(p):
    r = lab_dropout.one_batch(p=p)
    assert 0 < sum(r["mask_single"]) < r["width"]          # the example shown has both kinds
    assert r["dropped_zero"] and r["dropped_zero_batch"]
    assert r["max_error"] < 1e-6 and r["sum_error"] < 1e-5
    assert r["scale"] == pytest.approx([1 / (1 - p)] * len(r["scale"]), rel=1e-5)
    for m, g in zip(r["mask_single"], r["grad_single"]):
        assert (g == 0.0) == (m == 0.0)          # tanh units: zero exactly when dropped
    # over the batch a unit's gradient is zero only when every example dropped it
    for kept, g in zip(r["kept_count"], r["grad_batch"]):
        assert (g == 0.0) == (kept == 0)


@pytest.fixture(scope="module")
def overfit_run():
    return lab_dropout.overfitting(ps=(0.0, 0.5), data="moons", epochs=200)     # the page shows 300


def test_dropout_narrows_the_gap_on_a_small_training_set(overfit_run):
    plain, dropped = overfit_run["runs"][0.0], overfit_run["runs"][0.5]
    assert plain["train_accuracy"] >= 0.95          # the wide net memorises the 60 points
    assert plain["val_loss"] > 2 * plain["train_loss"]
    assert dropped["gap"] < plain["gap"] / 2
    assert dropped["val_loss"] < plain["val_loss"]


def test_dropout_page_answers(overfit_run):
    at = lab({"lab_results": {"overfitmoons0.5": overfit_run}}, claim="Dropout's gradients", drop_p=0.5,
             drop_data="Moons")
    no_exception(at)
    assert [m.value for m in at.metric][:2] == ["exactly 0", "2.000"]
    assert any("exactly 0" in c.value and "1/(1 − p)" in c.value for c in at.caption)
    assert any("gap" in c.value for c in at.caption)


# ---- 5. an autoencoder --------------------------------------------------------------

@pytest.fixture(scope="module")
def autoencoder_run():
    return lab_ae.train(epochs=3)


@needs_mnist
def test_an_autoencoder_learns_without_labels_and_groups_the_digits(autoencoder_run):
    r = autoencoder_run
    val = [e["val_loss"] for e in r["epochs"]]
    assert val[-1] < val[0] and r["epochs"][-1]["train_loss"] < r["epochs"][0]["train_loss"]
    assert [f["epoch"] for f in r["frames"]] == [0, 1, 2, 3]
    first, last = r["frames"][0]["images"], r["frames"][-1]["images"]
    assert ((last - r["originals"]) ** 2).mean() < ((first - r["originals"]) ** 2).mean() / 2
    assert r["codes"].shape == (2000, 2)
    assert r["chance"] < 0.15
    assert r["knn"] >= 0.5 and r["knn"] > 3 * r["chance"]
    assert r["knn"] > r["knn_pca"]


@needs_mnist
def test_autoencoder_page_answers(autoencoder_run):
    at = lab({"lab_results": {"ae3": autoencoder_run}}, claim="Without labels", ae_epochs=3)
    no_exception(at)
    assert f"{autoencoder_run['knn']:.0%}" in [m.value for m in at.metric]
    assert any("never shown" in m.value for m in at.markdown)
    assert len(at.get("image")) == 1 + 1 + 3     # the originals, then before training and 3 epochs


def test_autoencoder_page_says_when_mnist_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path))
    at = lab(claim="Without labels", ae_epochs=1)
    no_exception(at)
    # said as the training panels say it: one sentence, the download, BACKPROP_DATA, no command-line options
    assert [w.value for w in at.warning] == ["MNIST is not on this machine."]
    assert any(b.label.startswith("Download it now") for b in at.button)
    captions = " ".join(c.value for c in at.caption)
    assert "BACKPROP_DATA" in captions
    assert "--data" not in captions + " ".join(e.value for e in [*at.error, *at.warning])


# ---- 6. how much data ------------------------------------------------------------

def test_the_shipped_learning_curve_is_well_formed_and_rises():
    d = lab_curve.load_shipped()
    for key in ("recipe", "sizes", "seeds", "summary", "points", "date", "torch", "seconds"):
        assert key in d
    rows = d["summary"]
    assert [r["size"] for r in rows] == sorted(d["sizes"]) and rows[0]["size"] <= 100 and rows[-1]["size"] >= 9000
    assert len(d["points"]) == len(d["sizes"]) * len(d["seeds"])
    test = [r["test_accuracy"] for r in rows]
    gap = [r["gap"] for r in rows]
    assert all(b > a for a, b in zip(test, test[1:])), test
    assert all(b < a + 0.005 for a, b in zip(gap, gap[1:])) and gap[-1] < gap[0] / 3, gap
    assert test[-1] > 0.97 and all(0.95 <= r["train_accuracy"] <= 1 for r in rows)


@pytest.fixture(scope="module")
def live_point():
    return lab_curve.train_point(100, seed=0, test_size=2000)


@needs_mnist
def test_a_live_point_lands_near_the_shipped_one(live_point):
    shipped = [p for p in lab_curve.load_shipped()["points"] if p["size"] == 100]
    accs = [p["test_accuracy"] for p in shipped]
    assert live_point["updates"] == 400 and live_point["train_accuracy"] >= 0.95
    assert min(accs) - 0.05 <= live_point["test_accuracy"] <= max(accs) + 0.05
    assert math.isclose(lab_curve.epochs_for(9000), 10) and lab_curve.epochs_for(100) == 100


@needs_mnist
def test_data_size_page_answers(live_point):
    at = lab({"lab_results": {"curve100": live_point}}, claim="Plenty of data")
    no_exception(at)
    table = at.table[0].value
    assert "trained here" in list(table["source"]) and "shipped" in list(table["source"])
    assert any("gap shrinks" in c.value for c in at.caption)
