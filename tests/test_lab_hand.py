"""One training step by hand: the hand maths against autograd, finite differences and the Trainer."""
import math
import re
from dataclasses import replace

import pytest
import torch

from models.lab.hand import (
    BACKWARD_ORDER, PARAM_NAMES, HandSetup, TinyNet, autograd_gradients, backward, default, fmt,
    forward, loss_fn, randomised, train_steps, update,
)


def with_inputs(s: HandSetup, x1: float, x2: float, target: float) -> HandSetup:
    return replace(s, x1=x1, x2=x2, target=target)


def setups():
    cases = {"default": default()}
    for seed in range(3):
        cases[f"random{seed}"] = randomised(seed)
    for act in ("sigmoid", "tanh", "relu"):
        for loss in ("mse", "ce"):
            cases[f"{act}-{loss}"] = replace(default(), activation=act, loss=loss)
            base = with_inputs(randomised(10 + len(cases)), 0.9, -0.7, 0.8)
            cases[f"{act}-{loss}-random"] = replace(base, activation=act, loss=loss)
    cases["target-0"] = with_inputs(replace(randomised(7), loss="ce"), -0.4, 0.3, 0.0)
    cases["target-1"] = with_inputs(replace(randomised(8), activation="tanh"), 1.5, 2.0, 1.0)
    return cases


SETUPS = setups()
each_setup = pytest.mark.parametrize("s", SETUPS.values(), ids=SETUPS.keys())


def numbers_after_first_equals(formula: str) -> list[float]:
    body = formula.split(" = ", 1)[1]
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", body)]


# ---- gradients ---------------------------------------------------------------
@each_setup
def test_hand_gradients_equal_autograd(s):
    hand, auto = backward(s)["grads"], autograd_gradients(s)
    for n in PARAM_NAMES:
        assert hand[n] == pytest.approx(auto[n], rel=1e-12, abs=1e-12), n


@each_setup
def test_hand_gradients_equal_central_differences(s):
    h, grads = 1e-6, backward(s)["grads"]
    for n in PARAM_NAMES:
        up = replace(s, params={**s.params, n: s.params[n] + h})
        down = replace(s, params={**s.params, n: s.params[n] - h})
        numeric = (forward(up)["loss"] - forward(down)["loss"]) / (2 * h)
        assert grads[n] == pytest.approx(numeric, abs=1e-8), n


@each_setup
def test_chain_rule_factors_multiply_to_the_gradient(s):
    b = backward(s)
    assert [k for k in b if k in PARAM_NAMES] == BACKWARD_ORDER
    for n in PARAM_NAMES:
        factors = b[n]["factors"]
        assert math.prod(v for _, v in factors) == pytest.approx(b[n]["value"], rel=1e-12, abs=1e-15)
        # a chain: ∂E/∂y · ∂y/∂z_out · ... each denominator is the next numerator, ending at the parameter
        symbols = [sym for sym, _ in factors]
        assert symbols[0] == "∂E/∂y" and symbols[-1].endswith("/∂" + n)
        for a, c in zip(symbols, symbols[1:]):
            assert a.split("/∂")[1] == c.split("/")[0][1:]
        assert numbers_after_first_equals(b[n]["formula"].split(" = ", 1)[1])[-1] == \
            pytest.approx(b[n]["value"], rel=1e-5, abs=1e-12)


@each_setup
def test_deltas_are_the_bias_gradients(s):
    b = backward(s)
    assert b["delta_out"] == b["c"]["value"] == b["deltas"]["delta_out"]["value"]
    assert b["delta_1"] == b["b1"]["value"] and b["delta_2"] == b["b2"]["value"]
    for k in ("delta_1", "delta_2"):
        d = b["deltas"][k]
        assert math.prod(v for _, v in d["factors"]) == pytest.approx(d["value"], rel=1e-12, abs=1e-15)


def test_cross_entropy_output_delta_is_the_error():
    s = replace(default(), loss="ce")
    b, fw = backward(s), forward(s)
    assert b["delta_out"] == fw["error"] == fw["y"] - s.target
    dE_dy, dy_dz = (v for _, v in b["deltas"]["delta_out"]["factors"])
    assert dE_dy == pytest.approx((fw["y"] - s.target) / (fw["y"] * (1 - fw["y"])))
    assert "y − t" in b["deltas"]["delta_out"]["formula"]


def test_relu_derivative_at_zero_is_zero_as_in_torch():
    p = {**default().params, "w11": 0.0, "w12": 0.0, "b1": 0.0}   # z1 = 0 exactly
    s = replace(default(), params=p, activation="relu")
    assert forward(s)["z1"] == 0.0
    b, auto = backward(s), autograd_gradients(s)
    assert b["w11"]["factors"][3] == ("∂h1/∂z1", 0.0)
    assert b["grads"]["b1"] == auto["b1"] == 0.0


# ---- the update --------------------------------------------------------------
@each_setup
def test_update_steps_against_the_gradient(s):
    u, grads = update(s), backward(s)["grads"]
    for n in PARAM_NAMES:
        assert u[n]["old"] == s.params[n] and u[n]["grad"] == grads[n]
        assert u[n]["new"] == s.params[n] - s.lr * grads[n] == u["setup"].params[n]
        assert numbers_after_first_equals(u[n]["formula"].replace("←", "=")) == pytest.approx(
            [s.params[n], s.lr, grads[n], u[n]["new"]], rel=1e-5, abs=1e-12)
    assert u["next_loss"] == forward(u["setup"])["loss"]
    assert update(replace(s, lr=0.01))["next_loss"] < forward(s)["loss"]


def test_update_leaves_the_setup_alone_and_takes_plain_gradients():
    s = default()
    before = dict(s.params)
    u = update(s, grads={n: 1.0 for n in PARAM_NAMES})
    assert s.params == before
    assert u["w11"]["new"] == pytest.approx(0.15 - 0.5)
    assert u["setup"].lr == s.lr and u["setup"].activation == s.activation


@pytest.mark.parametrize("name", ["default", "tanh-ce-random", "relu-mse-random"])
def test_trainer_steps_equal_repeated_updates(name):
    s, n = SETUPS[name], 5
    trained = train_steps(s, n)
    assert trained["status"] == "completed", trained["message"]
    hand, losses = s, []
    for _ in range(n):
        losses.append(forward(hand)["loss"])
        hand = update(hand)["setup"]
    assert trained["losses"] == pytest.approx(losses, rel=1e-12, abs=1e-15)
    for p in PARAM_NAMES:
        assert trained["setup"].params[p] == pytest.approx(hand.params[p], rel=1e-12, abs=1e-14)
    assert trained["final"]["loss"] == pytest.approx(forward(hand)["loss"], rel=1e-12)
    assert trained["losses"][-1] < trained["losses"][0]
    assert all("grad_norms" in row for row in trained["history"])


def test_a_huge_learning_rate_comes_back_diverged():
    s = replace(default(), loss="ce", lr=1e4)
    out = train_steps(s, 5)
    assert out["status"] == "diverged"
    assert "diverged" in out["message"] and "learning rate" in out["message"]
    assert math.isfinite(out["final"]["loss"])


def test_zero_steps_trains_nothing():
    out = train_steps(default(), 0)
    assert out["losses"] == [] and out["setup"] == default() and out["status"] == "completed"


# ---- the forward pass and its formulas -----------------------------------------
def test_default_matches_mazurs_published_numbers():
    """Mazur, "A Step by Step Backpropagation Example": the o1 half of his network."""
    s = default()
    fw, b, u = forward(s), backward(s), update(s)
    published = {"z1": 0.3775, "h1": 0.593269992, "h2": 0.596884378, "z_out": 1.105905967,
                 "y": 0.75136507, "loss": 0.274811083}
    for k, v in published.items():
        assert fw[k] == pytest.approx(v, abs=1e-9), k
    assert b["v1"]["factors"][0][1] == pytest.approx(0.74136507, abs=1e-9)    # ∂E/∂out_o1
    assert b["v1"]["factors"][1][1] == pytest.approx(0.186815602, abs=1e-9)   # ∂out_o1/∂net_o1
    assert b["v1"]["value"] == pytest.approx(0.082167041, abs=1e-9)           # ∂E/∂w5
    assert b["delta_out"] == pytest.approx(0.138498562, abs=1e-9)             # δ_o1
    assert b["delta_out"] * s.params["v1"] == pytest.approx(0.055399425, abs=1e-9)  # ∂E_o1/∂out_h1
    assert b["w11"]["factors"][3][1] == pytest.approx(0.241300709, abs=1e-9)  # ∂out_h1/∂net_h1
    assert u["v1"]["new"] == pytest.approx(0.35891648, abs=1e-8)              # w5+
    assert u["v2"]["new"] == pytest.approx(0.408666186, abs=1e-9)             # w6+


def test_default_formula_strings():
    f = forward(default())["formulas"]
    assert f["z1"] == "z1 = w11·x1 + w12·x2 + b1 = 0.15×0.05 + 0.2×0.1 + 0.35 = 0.3775"
    assert f["z2"] == "z2 = w21·x1 + w22·x2 + b2 = 0.25×0.05 + 0.3×0.1 + 0.35 = 0.3925"
    assert f["z_out"] == "z_out = v1·h1 + v2·h2 + c = 0.4×0.59327 + 0.45×0.596884 + 0.6 = 1.10591"
    assert f["h1"] == "h1 = σ(z1) = σ(0.3775) = 0.59327"
    assert update(default())["w11"]["formula"] == "w11 ← 0.15 − 0.5 × 0.000668396 = 0.149666"


@each_setup
def test_forward_formulas_carry_the_numbers(s):
    fw, p = forward(s), s.params
    expected = {
        "z1": [p["w11"], s.x1, p["w12"], s.x2, p["b1"], fw["z1"]],
        "z2": [p["w21"], s.x1, p["w22"], s.x2, p["b2"], fw["z2"]],
        "z_out": [p["v1"], fw["h1"], p["v2"], fw["h2"], p["c"], fw["z_out"]],
    }
    for k, nums in expected.items():
        got = numbers_after_first_equals(fw["formulas"][k].split(" = ", 1)[1])
        assert got == pytest.approx(nums, rel=1e-5, abs=1e-12), fw["formulas"][k]
    assert fw["error"] == fw["y"] - s.target
    assert float(fmt(fw["loss"])) == pytest.approx(fw["loss"], rel=1e-5)
    assert fw["formulas"]["loss"].endswith(fmt(fw["loss"]))


def test_negative_numbers_are_bracketed():
    s = with_inputs(default(), -0.5, 0.25, 0.5)
    assert "0.15×(-0.5)" in forward(s)["formulas"]["z1"]


# ---- the torch side ------------------------------------------------------------
@each_setup
def test_tinynet_and_loss_fn_reproduce_the_hand_forward(s):
    net, fw = TinyNet(s), forward(s)
    assert [n for n, _ in net.named_parameters()] == PARAM_NAMES
    assert all(p.dtype == torch.float64 and p.dim() == 0 for p in net.parameters())
    y = net(torch.tensor([[s.x1, s.x2]] * 3, dtype=torch.float64))
    assert y.shape == (3,) and y[0].item() == pytest.approx(fw["y"], rel=1e-14)
    hand_y = torch.tensor([fw["y"]], dtype=torch.float64)
    t = torch.tensor([s.target], dtype=torch.float64)
    assert loss_fn(s.loss)(hand_y, t).item() == fw["loss"]    # one example: the hand loss exactly
    assert net.param_values() == s.params


# ---- setups --------------------------------------------------------------------
def test_randomised_is_reproducible_and_in_range():
    a, b = randomised(3), randomised(3)
    assert a == b and a != randomised(4)
    assert list(a.params) == PARAM_NAMES
    assert all(-1.0 <= v <= 1.0 for v in a.params.values())
    assert HandSetup.randomised(3) == a and HandSetup.default() == default()


def test_bad_setups_say_what_is_wrong():
    with pytest.raises(ValueError, match="activation"):
        forward(replace(default(), activation="gelu"))
    with pytest.raises(ValueError, match="loss"):
        loss_fn("hinge")
    with pytest.raises(ValueError, match="target"):
        backward(replace(default(), target=1.5))


@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_saturated_network_gives_numbers_not_exceptions(loss):
    s = replace(default(), params={n: 1e4 for n in PARAM_NAMES}, loss=loss, x1=50.0, x2=50.0)
    fw, b, u = forward(s), backward(s), update(s)
    assert fw["y"] == 1.0 and isinstance(u["next_loss"], float)
    assert isinstance(b["w11"]["formula"], str)
