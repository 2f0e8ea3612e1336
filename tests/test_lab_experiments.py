"""The Backprop Lab's toy data and experiments: each one runs in seconds and shows its claim."""
import json
import math
import random
import time

import numpy as np
import pytest
import torch

from data.core.errors import DataError
from data.lab.toy import DATASETS, Points, make, read_csv
from models.lab import experiments as lab
from models.core.trainer import Callback, TrainConfig, Trainer

HANG = 120.0    # seconds: a guard against a run that never ends, not a speed test (speed is
                # measured by commands that print figures, not by timed tests on shared cores)


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    assert seconds < HANG, f"{fn.__name__} took {seconds:.1f} s"
    return out


def to_json(result) -> str:
    return json.dumps(result, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else repr(o))


# ---- toy data ----------------------------------------------------------------

@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("n", [400, 301])
def test_toy_sets_have_the_right_shape_balanced_classes_and_a_fixed_seed(name, n):
    p = make(name, n=n, noise=0.1, seed=3)
    assert p.x.shape == (n, 2) and p.x.dtype == torch.float32
    assert p.y.shape == (n,) and p.y.dtype == torch.int64
    assert len(p.classes) == 2 and p.name == name
    counts = torch.bincount(p.y, minlength=2)
    assert abs(int(counts[0]) - int(counts[1])) <= 1
    again = make(name, n=n, noise=0.1, seed=3)
    assert torch.equal(p.x, again.x) and torch.equal(p.y, again.y)
    assert not torch.equal(p.x, make(name, n=n, noise=0.1, seed=4).x)
    assert p.x.abs().max() < 3           # unit scale: the Lab trains on them as they are


def test_xor_class_is_the_sign_product():
    p = make("xor", n=400, noise=0.05)
    assert torch.equal(p.y, (p.x[:, 0] * p.x[:, 1] < 0).long())


def test_unknown_toy_set_is_refused():
    with pytest.raises(ValueError, match="unknown toy dataset"):
        make("swiss roll")


def test_standardised_copy_and_stratified_split():
    p = make("moons", n=400)
    raw = Points(p.x * torch.tensor([100.0, 1.0]) + 50, p.y, p.classes, "scaled")
    s = raw.standardised()
    assert torch.allclose(s.x.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(s.x.std(0), torch.ones(2), atol=1e-5)
    assert torch.allclose(s.x * s.std + s.mean, raw.x, atol=1e-3)
    assert raw.mean is None and raw.x.abs().max() > 50          # the original is untouched

    train, val = p.split(0.25, seed=1)
    assert len(train) + len(val) == 400 and len(val) == 100
    assert torch.bincount(val.tensors[1]).tolist() == [50, 50]   # stratified
    both = torch.cat([train.tensors[0], val.tensors[0]])
    assert torch.equal(both.sort(0).values, p.x.sort(0).values)  # disjoint, and nothing lost
    assert torch.equal(p.split(0.25, seed=1)[1].tensors[0], val.tensors[0])


# ---- a user's CSV --------------------------------------------------------------

def csv_text(rows, header=None, sep=","):
    lines = [sep.join(header)] if header else []
    return "\n".join(lines + [sep.join(str(v) for v in r) for r in rows]) + "\n"


def good_rows(n=20, labels=("cat", "dog")):
    return [[round(0.1 * i, 2), round(1 - 0.05 * i, 3), labels[i % len(labels)]] for i in range(n)]


def test_read_csv_with_a_header_and_numeric_labels():
    p = read_csv(csv_text(good_rows(labels=(1, 0)), header=["width", "height", "kind"]).encode())
    assert p.x.shape == (20, 2) and p.x.dtype == torch.float32 and p.y.dtype == torch.int64
    assert p.classes == ["0", "1"] and p.features == ["width", "height"]
    assert p.x[1].tolist() == pytest.approx([0.1, 0.95])
    assert p.y[:2].tolist() == [1, 0]
    assert "'width'" in p.name and "'kind'" in p.name


def test_read_csv_without_a_header_with_text_labels_bom_and_semicolons():
    text = "\ufeff" + csv_text(good_rows(labels=("dog", "cat", "dog")), sep=";")
    p = read_csv(text.encode("utf-8"))
    assert len(p) == 20 and p.classes == ["cat", "dog"]
    assert p.y[:3].tolist() == [1, 0, 1]
    assert "column 3" in p.name


def test_read_csv_with_more_columns_takes_the_first_two_numeric_and_the_last():
    rows = [[f"id{i}", r[0], "note", r[1], 7, r[2]] for i, r in enumerate(good_rows())]
    p = read_csv(csv_text(rows, header=["id", "a", "comment", "b", "c", "label"]))
    assert p.features == ["a", "b"] and p.classes == ["cat", "dog"]
    assert p.x[2].tolist() == pytest.approx([0.2, 0.9])
    assert "6 columns" in p.name and "ignored" in p.name


@pytest.mark.parametrize("header, index", [
    (["", "x1", "x2", "label"], lambda i: i),           # pandas' to_csv, its index first
    (["id", "x1", "x2", "label"], lambda i: 100 + i),   # named an id
    (None, lambda i: i + 1),                            # no header, rows numbered from 1
])
def test_read_csv_leaves_a_row_number_out_of_the_features(header, index):
    # the row number had been taken as the first feature, and the second feature left out
    rows = [[index(i), *r] for i, r in enumerate(good_rows())]
    p = read_csv(csv_text(rows, header=header))
    assert p.x[2].tolist() == pytest.approx([0.2, 0.9])


def test_read_csv_drops_a_spreadsheets_empty_last_column():
    text = csv_text([r + [""] for r in good_rows()], header=["x1", "x2", "label", ""])
    p = read_csv(text)
    assert p.classes == ["cat", "dog"] and p.name == "CSV: features 'x1' and 'x2', label 'label'"


def test_read_csv_treats_1_and_1_point_0_as_one_class():
    rows = [[i, i % 3, "1" if i % 2 else "1.0"] for i in range(10)] + [[1, 2, 2.5]]
    assert read_csv(csv_text(rows)).classes == ["1", "2.5"]


def bad_feature(value):
    rows = good_rows()
    rows[3][1] = value
    return csv_text(rows, header=["x1", "x2", "y"])


BAD = {
    "empty": ("", "empty"),
    "blank lines": ("\n  \n\n", "empty"),
    "ragged": (csv_text(good_rows()[:5] + [[1, "cat"]] + good_rows()[5:]), "row 6 has 2 values"),
    "two columns": (csv_text([[i, i % 2] for i in range(20)]), "at least 3 columns"),
    "text feature": (bad_feature("abc"), "Row 5, column 'x2' holds 'abc'"),
    "empty feature": (bad_feature(""), "Row 5, column 'x2' is empty"),
    "nan": (bad_feature("nan"), "NaN"),
    "inf": (bad_feature("-inf"), "infinite"),
    "no label": (csv_text([r[:2] + [""] if i == 4 else r for i, r in enumerate(good_rows())]), "no label"),
    "one class": (csv_text(good_rows(labels=("cat",))), "Only one class"),
    "too many classes": (csv_text(good_rows(labels=[f"c{i}" for i in range(11)])), "11 different values"),
    "too few rows": (csv_text(good_rows(n=9)), "at least 10 rows"),
    "too many rows": (csv_text(good_rows(n=120)), "at most 100"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "no numeric columns": (csv_text([["a", "b", "c", "d"]] * 12), "two numeric feature columns"),
    # infinite in 32-bit floats: the trainer would have called it a learning rate too high
    "beyond float32": (bad_feature("1e39"), "Row 5, column 'x2' is '1e39': the Lab's networks compute in 32-bit"),
    "one value to float32": (csv_text([[1e12 + i, i, i % 2] for i in range(20)], header=["t", "x", "y"]),
                             "Column 't' varies only in digits that 32-bit floats do not hold"),
}


@pytest.mark.parametrize("case", BAD)
def test_read_csv_rejects_bad_files_saying_what_is_wrong(case):
    data, expected = BAD[case]
    with pytest.raises(DataError) as e:
        read_csv(data, max_rows=100)
    assert expected.lower() in str(e.value).lower()


def test_read_csv_raises_nothing_but_data_error_on_mangled_files():
    good = csv_text(good_rows(30), header=["x", "y", "label"])
    rng = random.Random(0)
    junk = ',;\t"\n\x00é\\-.e'
    for _ in range(300):
        s = list(good)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(s))
            if rng.random() < 0.5:
                del s[i]
            else:
                s.insert(i, rng.choice(junk))
        try:
            p = read_csv("".join(s).encode("utf-8"))
        except DataError:
            continue
        assert p.x.shape[1] == 2 and torch.isfinite(p.x).all()


# ---- the network ----------------------------------------------------------------

def test_mlp_layers_are_named_in_order_and_residual_only_where_widths_match():
    model = lab.MLP([16, 16, 8], activation="relu", norm=True, residual=True)
    assert model.names == ["layer1", "layer2", "layer3", "output"]
    assert [n for n, _ in model.named_parameters()] == [
        "layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias",
        "layer3.weight", "layer3.bias", "output.weight", "output.bias"]   # LayerNorm adds no keys
    assert [layer.residual for layer in model.hidden_layers()] == [False, True, False]
    p = make("xor", n=64)
    train, _ = p.split()
    t = Trainer(model, config=TrainConfig(epochs=1, batch_size=64, optimizer="sgd", lr=0.1, device="cpu"))
    t.fit(train)
    assert list(t.history.batches[-1]["grad_norms"]) == model.names


@pytest.mark.parametrize("scheme", lab.INIT_SCHEMES)
def test_init_schemes(scheme):
    model = lab.init_weights(lab.MLP([64, 64], activation="tanh"), scheme)
    w = model.layer2.weight
    expected = {"zeros": 0.0, "tiny": 0.01, "large": 2.5, "xavier": math.sqrt(2 / 128), "he": math.sqrt(2 / 64)}
    assert w.std().item() == pytest.approx(expected[scheme], rel=0.15, abs=1e-6)
    assert all((m.bias == 0).all() for m in [model.layer1, model.layer2, model.output])
    with pytest.raises(ValueError):
        lab.init_weights(model, "orthogonal")


def test_decision_grid_covers_the_data():
    p = make("circles", n=200)
    g = lab.decision_grid(lab.MLP([8]), p, steps=30)
    assert g["xx"].shape == g["yy"].shape == g["prob"].shape == (30, 30)
    assert g["xx"].min() < p.x[:, 0].min() and g["xx"].max() > p.x[:, 0].max()
    assert g["yy"].min() < p.x[:, 1].min() and g["yy"].max() > p.x[:, 1].max()
    assert ((g["prob"] >= 0) & (g["prob"] <= 1)).all()


# ---- the experiments ------------------------------------------------------------

@pytest.fixture(scope="module")
def xor():
    return make("xor", n=400, noise=0.1, seed=0)


def check_run(run, grid=True):
    for key in ("history", "epochs", "status", "message", "final_loss", "val_accuracy", "seconds"):
        assert key in run
    assert 0 < len(run["history"]) <= lab.MAX_ROWS and len(run["epochs"]) <= lab.MAX_ROWS
    assert {"loss", "lr", "grad_norm", "accuracy", "time", "step"} <= set(run["history"][0])
    if grid:
        assert run["grid"]["prob"].shape == (80, 80)


def test_learning_rates_too_small_crawls_good_converges_too_large_blows_up(xor):
    res = timed(lab.learning_rates, xor)
    small, good, large, huge = (res["runs"][lr] for lr in (0.0003, 0.1, 10.0, 1000.0))
    for run in res["runs"].values():
        check_run(run)
    to_json(res)
    assert good["status"] == "completed" and good["val_accuracy"] >= 0.95
    assert small["final_loss"] > 20 * good["final_loss"]                  # crawling after 300 steps
    losses = [r["loss"] for r in large["history"]]
    assert max(losses) > 100 * losses[0] and large["final_loss"] > good["final_loss"]   # overshoots
    assert huge["status"] == "diverged"
    assert huge["message"].startswith("Training diverged") and "learning rate" in huge["message"]
    assert len(huge["history"]) < 10
    val_rows = [e for e in good["epochs"] if "val_loss" in e]     # one epoch per step: validated now and then
    assert 40 <= len(val_rows) <= 60 and "val_loss" in good["epochs"][-1]


def test_zeros_init_keeps_hidden_units_identical_and_large_saturates(xor):
    res = timed(lab.initialisations, xor)
    runs = res["runs"]
    assert list(runs) == list(lab.INIT_SCHEMES)
    for run in runs.values():
        check_run(run)
    assert runs["zeros"]["symmetry"] < 1e-6
    assert runs["zeros"]["final_loss"] == pytest.approx(math.log(2), abs=1e-3)   # it never learns
    assert runs["xavier"]["symmetry"] > 0.1 and runs["xavier"]["val_accuracy"] >= 0.95
    assert runs["large"]["saturation"] > 0.2 > runs["xavier"]["saturation"]


def test_deep_sigmoid_gradients_vanish_unlike_relu_with_norm_or_residual(xor):
    sigmoid = timed(lab.depth_gradients, xor, depth=8, activation="sigmoid")
    relu_norm = timed(lab.depth_gradients, xor, depth=8, activation="relu", norm=True)
    residual = timed(lab.depth_gradients, xor, depth=8, activation="sigmoid", residual=True)
    check_run(sigmoid)
    assert list(sigmoid["layer_norms"]) == [f"layer{i}" for i in range(1, 9)] + ["output"]
    assert all(len(v) == len(sigmoid["history"]) for v in sigmoid["layer_norms"].values())
    assert sigmoid["first_over_last"] < 1e-3
    assert sigmoid["first_over_last"] < 0.01 * relu_norm["first_over_last"]
    assert sigmoid["first_over_last"] < 0.01 * residual["first_over_last"]
    assert relu_norm["val_accuracy"] > sigmoid["val_accuracy"]


def test_gd_flavours_log_loss_against_steps_and_wall_time(xor):
    res = timed(lab.gd_flavours, xor, epochs=3)
    runs = list(res["runs"].values())
    assert list(res["runs"]) == ["stochastic (batch 1)", "mini-batch (32)", "full batch (300)"]
    assert [r["batch_size"] for r in runs] == [1, 32, 300]
    assert [r["steps"] for r in runs] == [900, 30, 3]
    for run in runs:
        check_run(run)
        times = [r["time"] for r in run["history"]]
        assert times == sorted(times) and len(run["epochs"]) == 3 and run["epochs"][-1]["time"] > 0
        assert all("val_loss" in e for e in run["epochs"])
    assert len(runs[0]["history"]) == lab.MAX_ROWS                 # thinned from 900
    assert runs[0]["history"][-1]["step"] == 900
    assert runs[0]["seconds"] > runs[2]["seconds"]                  # 900 small steps cost more than 3 big ones


def test_standardised_inputs_train_better_than_badly_scaled_ones(xor):
    res = timed(lab.normalisation, xor)
    raw, std = res["runs"]["raw"], res["runs"]["standardised"]
    check_run(raw)
    check_run(std)
    assert raw["lr"] == std["lr"] and raw["steps"] == std["steps"]
    assert std["final_loss"] < 0.5 * raw["final_loss"]
    assert raw["x"][:, 1].std() > 50 and abs(std["x"].std(0) - 1).max() < 0.01
    assert raw["grid"]["yy"].max() > 50 > std["grid"]["yy"].max()    # each grid covers its own inputs
    assert res["runs"]["standardised"]["mean"][1] == pytest.approx(50, abs=1)


def test_callbacks_reach_the_trainer_and_stop_ends_the_experiment(xor):
    class StopAfter(Callback):
        def __init__(self):
            self.seen = 0

        def on_batch_end(self, t):
            self.seen += 1
            if self.seen == 5:
                t.request_stop()

    cb = StopAfter()
    res = lab.initialisations(xor, callbacks=[cb])
    assert list(res["runs"]) == ["zeros"] and res["runs"]["zeros"]["status"] == "stopped"
    assert cb.seen == 5


def test_models_and_data_never_import_streamlit():
    for module in (lab, __import__("data.lab.toy", fromlist=["x"])):
        assert "streamlit" not in open(module.__file__).read()
