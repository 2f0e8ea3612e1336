"""The Lab's claims about the gradient: what it costs (time and memory), the landscape it
descends, and activations without a slope. Each test asserts the phenomenon the page
shows, on small sizes; the last ones drive the page under AppTest."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest
from torch.nn.utils import parameters_to_vector

from data.lab.toy import make
from models.lab import activations as act
from models.lab import cost
from models.lab import landscape as land

from conftest import ROOT


# ---- 1. the cost of the gradient -------------------------------------------------------

def test_three_gradients_agree_with_autograd_and_each_other():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    pts = make("moons", n=32, seed=0)
    x, y = pts.x.double(), pts.y
    out = cost.gradient_three_ways(model, x, y, k=1000, repeats=1)
    assert out["n"] == 27 and out["sampled"] == 27
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    truth = parameters_to_vector([p.grad for p in model.parameters()])
    assert torch.allclose(torch.tensor(out["grad_backprop"], dtype=torch.float64), truth)
    assert out["jvp_error"] < 1e-12          # forward mode is exact, to rounding
    assert out["fd_error"] < 1e-4            # a forward difference with a step of 1e-6


def test_backprop_time_grows_far_slower_than_finite_differences():
    res = cost.gradient_cost(sizes=(30, 3_000, 30_000), k=10, batch=32, repeats=3)
    small, big = res["rows"][0], res["rows"][-1]
    assert [r["scaled"] for r in res["rows"]] == [True, True, True]
    assert small["n"] < 40 and big["n"] > 25_000
    for r in res["rows"]:
        assert r["fd_error"] < 1e-4 and r["jvp_error"] < 1e-10, r
    ratio = lambda r, m: r[m] / r["backprop"]   # noqa: E731
    # a thousand times the weights: backprop's share of the work stays put, the others' grows
    assert ratio(big, "finite differences") > 100
    assert ratio(big, "finite differences") > 10 * ratio(small, "finite differences")
    assert ratio(big, "forward mode (jvp)") > 10 * ratio(small, "forward mode (jvp)")


def test_width_for_hits_the_weight_count():
    for n in (30, 3_000, 300_000):
        w = cost.width_for(n)
        assert abs(w * w + 6 * w + 2 - n) / n < 0.1


def test_checkpointing_keeps_less_and_the_gap_grows_with_depth():
    w, b = 32, 16
    res = cost.memory_kept(depths=(1, 2, 4, 8), batches=(16, 64), depth=4, batch=b, width=w, repeats=1)
    plain, ckpt = res["by_depth"]["plain"], res["by_depth"]["checkpointed"]
    assert all(c < p for c, p in zip(ckpt, plain))
    gaps = [p - c for p, c in zip(plain, ckpt)]
    assert gaps == sorted(gaps) and gaps[-1] > 4 * gaps[0]
    # a block keeps x, W1·x and gelu(W1·x): 1 + 4 + 4 widths per example; checkpointed, x alone
    assert plain[1] - plain[0] == 9 * w * b * 4
    assert ckpt[1] - ckpt[0] == w * b * 4
    big_batch = res["by_batch"]["plain"]
    assert big_batch[1] > 3 * big_batch[0]
    assert res["grads_equal"]
    assert res["seconds"]["plain"] > 0 and res["seconds"]["checkpointed"] > 0


# ---- 2. the loss landscape ----------------------------------------------------------------

def test_directions_are_filter_normalised():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    d = land.filter_normalised_direction(model, torch.Generator().manual_seed(1))
    for p, dp in zip(model.parameters(), d):
        assert dp.shape == p.shape
        if p.dim() == 1:
            assert torch.count_nonzero(dp) == 0                       # biases stay put
        else:
            assert torch.allclose(dp.norm(dim=1), p.detach().norm(dim=1), rtol=1e-5)
            assert not torch.allclose(dp, p.detach())                 # a direction, not the weights


def test_projection_recovers_a_path_in_the_plane():
    g = torch.Generator().manual_seed(0)
    d1, d2, centre = (torch.randn(50, generator=g) for _ in range(3))
    coords = torch.randn(7, 2, generator=g)
    path = centre + coords[:, :1] * d1 + coords[:, 1:] * d2
    got, on_plane = land.project(path, centre, d1, d2)
    assert torch.allclose(got, coords, atol=1e-4) and on_plane == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("directions", land.DIRECTIONS)
def test_slice_is_centred_on_the_trained_loss_and_starts_end_apart(directions):
    pts = make("moons", n=200, noise=0.1, seed=0)
    res = land.landscape(pts, directions=directions, starts=2, steps=60, grid=9)
    assert res["loss"].shape == (9, 9)
    assert res["centre_loss"] == pytest.approx(res["runs"]["start 1"]["final_loss"], rel=1e-4)
    assert len(res["path"]) == 61 and res["path"][-1] == pytest.approx([0.0, 0.0], abs=1e-4)
    assert res["loss"].min() <= res["centre_loss"] * 1.5 and res["loss"].max() > res["centre_loss"]
    t = res["table"]
    assert t["distance from start 1's weights"][0] == 0 and t["distance from start 1's weights"][1] > 0.2
    assert all(v < 0.5 for v in t["final train loss"])               # both starts trained
    i0, i1 = res["line_t"].index(0.0), res["line_t"].index(1.0)
    assert res["line"][i0] == pytest.approx(res["centre_loss"], rel=1e-4)   # t = 0: start 1's minimum
    assert res["line"][i1] == pytest.approx(t["final train loss"][1], rel=1e-3)   # t = 1: start 2's
    assert 0 <= res["on_plane"] <= 1 + 1e-6
    if directions == "PCA of the path":
        assert res["on_plane"] > 0.5       # the plane of the path holds most of it


def test_a_network_with_barely_enough_units_can_get_stuck():
    pts = make("xor", n=400, noise=0.1, seed=0)
    res = land.landscape(pts, starts=2, hidden=(2,), steps=300, grid=5)
    good, stuck = res["table"]["final train loss"]
    assert good < 0.05 and stuck > 0.2          # the second start ends far higher: stuck


# ---- 3. an activation without a slope ---------------------------------------------------

def test_step_and_straight_through_backward_passes():
    x = torch.randn(100, dtype=torch.float64, requires_grad=True)
    w = torch.randn(100, dtype=torch.float64)
    assert torch.equal(act.StepFn.apply(x), (x > 0).double())
    assert torch.equal(act.StraightThroughFn.apply(x), (x > 0).double())
    (g_step,) = torch.autograd.grad((w * act.StepFn.apply(x)).sum(), x)
    assert torch.count_nonzero(g_step) == 0
    # straight-through's backward is the identity's: compare with autograd through x itself
    (g_ste,) = torch.autograd.grad((w * act.StraightThroughFn.apply(x)).sum(), x)
    (g_id,) = torch.autograd.grad((w * x).sum(), x)
    assert torch.equal(g_ste, g_id)
    # and the step's derivative really is 0 where it exists: a finite difference away from 0
    x0 = torch.tensor([-1.0, -0.3, 0.2, 2.0], dtype=torch.float64)
    fd = (act.StepFn.apply(x0 + 1e-6) - act.StepFn.apply(x0 - 1e-6)) / 2e-6
    assert torch.count_nonzero(fd) == 0


def test_step_net_gets_no_gradient_while_sigmoid_and_straight_through_learn():
    pts = make("circles", n=200, noise=0.1, seed=0)
    runs = act.step_activation(pts, steps=100)["runs"]
    step, sig, ste = runs["step"], runs["sigmoid"], runs["straight-through"]
    assert step["first_layer_max"] == 0.0 and all(v == 0.0 for v in step["first_layer_grad"])
    assert step["hidden_moved"] == 0.0
    assert all(r["history"][-1]["grad_norms"]["layer1"] == 0.0 for r in [step])
    assert step["final_loss"] > 0.6                       # near chance (ln 2 ≈ 0.69): only the read-out learns
    for r in (sig, ste):
        assert r["first_layer_max"] > 0 and r["hidden_moved"] > 0
        assert r["final_loss"] < 0.5 and r["final_loss"] < r["first_loss"] - 0.3
    assert math.isclose(step["first_loss"], ste["first_loss"])   # same weights, same forward pass


# ---- the page --------------------------------------------------------------------------------

def claim(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "apps" / "lab.py"), default_timeout=120)
    at.query_params.update({"section": "Claims put to the test", "claim": name,
                            **{k: str(v) for k, v in query.items()}})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_cost_page_answers():
    at = claim("Cost of the gradient", cost_max=3000, cost_k=10, ckpt_batch=32, ckpt_depth=4)
    metrics = {m.label: m.value for m in at.metric}
    label = "finite differences ÷ backprop at 3,018 weights"
    assert label in metrics and float(metrics[label].rstrip("×").replace(",", "")) > 10
    assert "checkpointing keeps" in metrics
    assert len(at.get("vega_lite_chart")) == 3
    assert any("scaled" in c.value for c in at.caption)


def test_landscape_page_answers():
    at = claim("Loss landscape", land_starts=2, land_steps=100, land_dirs="PCA of the path")
    assert any("Where each start ended" in m.value for m in at.markdown)
    assert any("principal directions" in c.value for c in at.caption)
    assert len(at.get("vega_lite_chart")) >= 4        # slice, straight line, two decision maps


def test_step_page_answers():
    at = claim("Non-differentiable steps", step_steps=100)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["step: first layer's gradient, at every step"] == "0 exactly"
    assert metrics["step: hidden weights moved by"] == "0 exactly"
