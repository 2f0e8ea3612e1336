"""Backprop through time: the Lab's recurrent experiment and the claims it plots."""
import math

import pytest
import torch
import torch.nn.functional as F

from models.lab.rnn import (SeqNet, TimeGradients, bptt, exploding, first_to_last, gradient_profile,
                            remember_first, vanishing_with_T)
from models.core.trainer import TrainConfig, Trainer


def one_step(model, x, y, wrt="hidden"):
    """One trainer step at lr 0; the gradient per time step read at after_backward."""
    grads = TimeGradients(every=1, wrt=wrt)
    cfg = TrainConfig(lr=0.0, optimizer="sgd", momentum=0.0, batch_size=len(y), device="cpu")
    Trainer(model, config=cfg, callbacks=[grads]).train_batch(x, y)
    return grads.snapshots[0][1]


def test_labels_are_the_first_symbols():
    x, y = remember_first(100, 7, symbols=5, seed=3).tensors
    assert x.shape == (100, 7) and x.dtype == torch.int64
    assert torch.equal(y, x[:, 0])
    assert set(x.unique().tolist()) == set(range(5))
    assert torch.equal(x, remember_first(100, 7, symbols=5, seed=3).tensors[0])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_time_gradients_give_one_norm_per_step(cell):
    torch.manual_seed(0)
    x, y = remember_first(16, 9).tensors
    for wrt in ("hidden", "input"):
        profile = one_step(SeqNet(cell, hidden=8), x, y, wrt)
        assert len(profile) == 9
        assert all(math.isfinite(v) and v > 0 for v in profile)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_truncation_zeroes_the_gradient_beyond_the_window(cell):
    T, k = 12, 4
    for wrt in ("hidden", "input"):
        profile = gradient_profile(cell, T, hidden=8, n=32, wrt=wrt, truncate=k)
        assert profile[:T - k] == [0.0] * (T - k)
        assert all(v > 0 for v in profile[T - k:])


def test_per_step_gradients_agree_with_finite_differences():
    """∂loss/∂(input at step t) as recorded, against (L(x+h) - L(x-h)) / 2h in
    double precision; truncation records 0 where the true derivative is not."""
    torch.manual_seed(0)
    sym, y = remember_first(6, 5, seed=1).tensors
    x = F.one_hot(sym, 4).double()
    for truncate in (None, 2):
        torch.manual_seed(0)
        model = SeqNet("lstm", hidden=6, truncate=truncate).double()
        one_step(model, x, y, wrt="input")
        grads = [v.grad for v in model.inputs]    # the next forward pass replaces model.inputs
        h = 1e-6
        for t in (0, 2, 4):
            for i, j in ((0, 1), (3, 2)):
                plus, minus = x.clone(), x.clone()
                plus[i, t, j] += h
                minus[i, t, j] -= h
                with torch.no_grad():
                    fd = (F.cross_entropy(model(plus), y) - F.cross_entropy(model(minus), y)).item() / (2 * h)
                g = grads[t]
                if truncate and t < 5 - truncate:
                    assert g is None and abs(fd) > 1e-6   # the loss depends on it; truncated BPTT ignores that
                else:
                    assert g[i, j].item() == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_hidden_gradients_follow_the_bptt_recursion():
    """For h_t = tanh(W x_t + U h_{t-1} + b): ∂L/∂h_{t-1} = ((1 - h_t²) ∂L/∂h_t) U."""
    torch.manual_seed(0)
    model = SeqNet("rnn", hidden=8).double()
    sym, y = remember_first(10, 6).tensors
    one_step(model, F.one_hot(sym, 4).double(), y)
    U = model.cell.weight_hh
    for t in range(5, 0, -1):
        h, g = model.states[t], model.states[t].grad
        assert torch.allclose(model.states[t - 1].grad, ((1 - h ** 2) * g) @ U, atol=1e-12)


def test_the_tanh_rnn_gradient_vanishes_far_faster_than_lstm_and_gru():
    profiles = vanishing_with_T(Ts=(5, 10, 20, 40))
    ratio = {c: {T: first_to_last(p) for T, p in by_T.items()} for c, by_T in profiles.items()}
    rnn = ratio["rnn"]
    assert rnn[5] > rnn[10] > rnn[20] > rnn[40]
    assert rnn[40] < 1e-6
    assert rnn[40] < 1e-4 * min(ratio["lstm"][40], ratio["gru"][40])
    assert len(profiles["gru"][20]) == 20


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_full_bptt_learns_a_short_sequence_and_truncation_does_not(cell):
    full = bptt(T=10, cell=cell, steps=100, seed=0)
    cut = bptt(T=10, cell=cell, steps=100, truncate=3, seed=0)
    assert full["status"] == "completed" and full["val_accuracy"] > 0.95
    assert cut["val_accuracy"] < 0.8 < full["val_accuracy"]
    assert all(p[:7] == [0.0] * 7 for _, p in cut["time_grads"])
    assert cut["first_step_grad"] == 0.0 and full["first_step_grad"] > 0
    assert full["history"] and len(full["history"]) <= 400 and "grad_norms" in full["history"][0]
    assert full["time_grads"][0][0] == 0 and len(full["time_grads"][0][1]) == 10


def test_clipping_tames_the_exploding_rnn():
    for seed in range(3):
        run = exploding(seed=seed, T=30, steps=60)
        wild, tame = run["unclipped"], run["clipped"]
        assert wild["status"] == "diverged" and "diverged" in wild["message"] and "clipping" in wild["message"]
        assert max(wild["grad_norm"]) > 100
        assert tame["status"] == "completed"
        losses = [r["loss"] for r in tame["history"]]
        assert all(math.isfinite(v) for v in losses + tame["grad_norm"])
        assert max(tame["applied_grad_norm"]) <= 1.0
        assert losses[-1] < min(losses[0], 2.0)
