"""The common trainer: the four steps, their events, and what they promise."""
import math

import pytest
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from models.core.trainer import Callback, EVENTS, EarlyStopping, TrainConfig, Trainer, WeightAverage


def blobs(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + (y.float() * 3 - 1.5).unsqueeze(1)
    return TensorDataset(x, y)


def mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))


def test_loss_falls_and_accuracy_rises():
    t = Trainer(mlp(), config=TrainConfig(epochs=5, batch_size=32, lr=0.05, optimizer="sgd"))
    result = t.fit(blobs(), blobs(seed=1))
    epochs = result.history.epochs
    assert result.status == "completed"
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] * 0.5
    assert epochs[-1]["val_accuracy"] > 0.95


def test_events_fire_in_the_order_of_backprop():
    seen = []

    class Spy(Callback):
        pass

    for e in EVENTS:
        setattr(Spy, "on_" + e, lambda self, t, e=e: seen.append(e))
    Trainer(mlp(), config=TrainConfig(epochs=1, batch_size=256), callbacks=[Spy()]).fit(blobs())
    assert seen == ["fit_start", "epoch_start", "batch_start", "after_forward", "after_loss",
                    "after_backward", "after_step", "batch_end", "epoch_end", "fit_end"]


def test_gradients_agree_with_finite_differences():
    """The gradient the trainer's backward pass leaves on each weight, against
    (L(w+h) - L(w-h)) / 2h computed in double precision."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2)).double()
    x, y = torch.randn(5, 2, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1])
    grads = {}

    class Grab(Callback):
        def on_after_backward(self, t):
            grads.update({n: p.grad.clone() for n, p in t.model.named_parameters()})

    t = Trainer(model, config=TrainConfig(lr=0.0, optimizer="sgd", momentum=0.0), callbacks=[Grab()])
    t.train_batch(x, y)
    loss = nn.CrossEntropyLoss()
    h = 1e-6
    for name, p in model.named_parameters():
        numeric = torch.zeros_like(p)
        with torch.no_grad():
            for i in range(p.numel()):
                old = p.view(-1)[i].item()
                p.view(-1)[i] = old + h
                up = loss(model(x), y).item()
                p.view(-1)[i] = old - h
                down = loss(model(x), y).item()
                p.view(-1)[i] = old
                numeric.view(-1)[i] = (up - down) / (2 * h)
        torch.testing.assert_close(grads[name], numeric, atol=1e-7, rtol=1e-5)


def test_per_layer_gradient_norms_are_recorded():
    t = Trainer(mlp(), config=TrainConfig(epochs=1, batch_size=64))
    t.fit(blobs())
    row = t.history.batches[-1]
    assert set(row["grad_norms"]) == {"0", "2"}      # the two Linear layers of the Sequential
    total = math.sqrt(sum(v * v for v in row["grad_norms"].values()))
    assert row["grad_norm"] == pytest.approx(total, rel=1e-5)


def test_gradient_clipping_bounds_the_update():
    seen = []

    class Norm(Callback):
        def on_after_backward(self, t):
            seen.append(torch.sqrt(sum(p.grad.pow(2).sum() for p in t.model.parameters())).item())

    t = Trainer(mlp(), config=TrainConfig(epochs=1, batch_size=16, lr=0.1, clip_grad_norm=0.01),
                callbacks=[Norm()])
    t.fit(blobs())
    assert max(seen) <= 0.01 + 1e-6
    assert t.history.batches[0]["grad_norm"] > 0.01    # what it was before clipping


def test_non_finite_loss_stops_with_a_message_and_keeps_good_weights():
    torch.manual_seed(0)
    x = torch.randn(64, 4) * 100
    y = x.sum(1, keepdim=True)
    model = nn.Linear(4, 1)
    t = Trainer(model, nn.MSELoss(), TrainConfig(epochs=50, batch_size=8, lr=10.0, optimizer="sgd", momentum=0),
                metrics={})
    result = t.fit(TensorDataset(x, y))
    assert result.status == "diverged" and not result.ok
    assert "learning rate" in result.message and "exploded" in result.message
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert torch.isfinite(nn.MSELoss()(model(x[:8]), y[:8]))


def test_stop_request_is_honoured_between_batches():
    class StopAfter3(Callback):
        def on_batch_end(self, t):
            if t.step == 3:
                t.request_stop()

    t = Trainer(mlp(), config=TrainConfig(epochs=10, batch_size=8), callbacks=[StopAfter3()])
    result = t.fit(blobs())
    assert result.status == "stopped" and t.step == 3


def test_early_stopping_restores_the_best_weights():
    # labels are noise: the validation loss soon stops improving
    g = torch.Generator().manual_seed(0)
    train = TensorDataset(torch.randn(64, 2, generator=g), torch.randint(0, 2, (64,), generator=g))
    val = TensorDataset(torch.randn(64, 2, generator=g), torch.randint(0, 2, (64,), generator=g))
    stopper = EarlyStopping(patience=2)
    t = Trainer(mlp(), config=TrainConfig(epochs=200, batch_size=8, lr=0.05), callbacks=[stopper])
    result = t.fit(train, val)
    assert result.status == "early_stopped" and result.epochs_done < 200
    assert t.evaluate(val)["loss"] == pytest.approx(stopper.best, rel=1e-5)
    # the row that describes the kept weights is the best epoch's, not the last one run
    kept = t.history.kept_epoch()
    assert kept is not t.history.epochs[-1] and kept["val_loss"] == pytest.approx(stopper.best, rel=1e-9)


def test_same_seed_same_weights():
    def run():
        t = Trainer(mlp(seed=1), config=TrainConfig(epochs=2, batch_size=16, seed=3))
        t.fit(blobs())
        return [p.detach().clone() for p in t.model.parameters()]
    for a, b in zip(run(), run()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("optimizer,schedule", [("sgd", "step"), ("adam", "cosine"), ("adam", "onecycle")])
def test_optimisers_and_schedules(optimizer, schedule):
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.02, optimizer=optimizer, schedule=schedule, weight_decay=1e-4)
    t = Trainer(mlp(), config=cfg)
    result = t.fit(blobs(), blobs(seed=1))
    lrs = [r["lr"] for r in result.history.batches]
    assert len(set(lrs)) > 1
    assert result.history.epochs[-1]["val_accuracy"] > 0.9


def test_small_data_sets_get_enough_weight_updates():
    from models.core.tasks import epochs_for
    assert epochs_for(48, 32, 4) == 30            # 2 batches an epoch: 60 updates, not 8
    assert epochs_for(60_000, 64, 4) == 4          # a full data set keeps its epochs
    assert epochs_for(3, 64, 4) == 60 and epochs_for(1, 1, 4, most=50) == 50


# ---- what can go wrong around the loop ------------------------------------

def test_a_stop_asked_for_before_fit_starts_is_honoured():
    t = Trainer(mlp(), config=TrainConfig(epochs=5, batch_size=32))
    t.request_stop("Stopped by you.")
    result = t.fit(blobs())
    assert result.status == "stopped" and t.step == 0 and result.message == "Stopped by you."
    again = t.fit(blobs())                 # the request was used up: a later fit trains
    assert again.status == "completed" and t.epoch == 5


def test_the_apps_stop_button_pressed_while_the_run_is_being_set_up():
    from models.core.jobs import TrainingJob

    def work(callbacks, attach):
        job.stop()                         # pressed before the trainer exists
        t = Trainer(mlp(), config=TrainConfig(epochs=50, batch_size=8), callbacks=callbacks)
        attach(t)
        return t.fit(blobs())

    job = TrainingJob(work)
    job.start().wait(60)
    assert not job.running and job.error is None
    assert job.result.status == "stopped" and job.trainer.step == 0


def test_why_a_run_ended_is_a_status_not_a_message():
    from models.core.trainer import Status

    class Says(Callback):                  # the old test read the message's first words
        def __init__(self, status):
            self.status = status

        def on_epoch_end(self, t):
            t.request_stop("Early stopping, or so it says.", self.status)

    assert Trainer(mlp(), config=TrainConfig(epochs=3), callbacks=[Says(Status.STOPPED)]).fit(blobs()).status \
        == "stopped"
    limited = Trainer(mlp(), config=TrainConfig(epochs=3, batch_size=8, max_batches=5)).fit(blobs())
    assert limited.status == Status.BATCH_LIMIT == "batch_limit" and limited.ok
    import json
    assert json.loads(json.dumps({"status": limited.status})) == {"status": "batch_limit"}


def test_weight_decay_spares_biases_and_norms():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.LayerNorm(8), nn.Linear(8, 2))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}

    class NoSignal(nn.Module):             # a loss with zero gradients: only the decay moves weights
        def forward(self, out, y):
            return out.sum() * 0.0

    cfg = TrainConfig(epochs=1, batch_size=256, lr=0.1, optimizer="adam", weight_decay=0.5)
    Trainer(model, NoSignal(), cfg, metrics={}).fit(blobs())
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            assert torch.allclose(p, before[name] * (1 - 0.1 * 0.5)), name      # decoupled decay, one step
        else:
            assert torch.equal(p, before[name]), name                           # biases, LayerNorm


def test_figures_are_read_from_the_device_a_window_at_a_time(monkeypatch):
    """The per-batch history is the same whether it is read every batch or every 10, and the
    every-10 run reads the device about ten times less often."""
    reads = {"n": 0}
    tolist = torch.Tensor.tolist

    def counting(self):
        reads["n"] += 1
        return tolist(self)

    def run(every):
        reads["n"] = 0
        # SGD: Adam reads its step counter with .item() (a CPU tensor: no wait on the device)
        t = Trainer(mlp(), config=TrainConfig(epochs=2, batch_size=8, lr=0.05, optimizer="sgd", sync_every=every))
        with monkeypatch.context() as m:
            m.setattr(torch.Tensor, "tolist", counting)
            m.setattr(torch.Tensor, "item", lambda self: pytest.fail("an .item() in the loop"))
            result = t.fit(blobs())
        return result.history.batches, reads["n"]

    each, n_each = run(1)
    windowed, n_windowed = run(10)
    assert len(each) == len(windowed) == 64
    for a, b in zip(each, windowed):
        assert a.keys() == b.keys()
        for k in ("loss", "accuracy", "grad_norm", "lr", "step"):
            assert a[k] == pytest.approx(b[k], rel=1e-12), k
        assert a["grad_norms"] == pytest.approx(b["grad_norms"], rel=1e-12)
    assert n_each >= 64 * 2 and n_windowed <= 2 * (7 + 2)   # values and flags: once a window and epoch


@pytest.mark.parametrize("bad_step", [1, 4, 10, 11, 17])
def test_a_loss_that_turns_nan_mid_window_restores_weights_with_a_finite_loss(bad_step):
    class Poison(Callback):                # the loss of one chosen step turns NaN
        def on_after_loss(self, t):
            if t.step + 1 == bad_step:
                t.loss = t.loss * float("nan")

    grabbed = {}

    class Keep(Callback):                  # the weights just before each step's forward pass
        def on_batch_start(self, t):
            grabbed[t.step + 1] = [p.detach().clone() for p in t.model.parameters()]

    model = mlp()
    t = Trainer(model, config=TrainConfig(epochs=3, batch_size=8, lr=0.05, sync_every=10),
                callbacks=[Poison(), Keep()])
    result = t.fit(blobs())
    assert result.status == "diverged" and f"batch {bad_step}:" in result.message
    assert len(result.history.batches) == bad_step - 1          # the rows before the bad step, no more
    restored = list(model.parameters())
    # the weights put back are ones that gave a finite loss at a step before the bad one (or the
    # starting weights, when the very first step went bad)
    assert any(all(torch.equal(a, b) for a, b in zip(restored, grabbed[s])) for s in range(1, max(2, bad_step)))
    assert all(torch.isfinite(p).all() for p in restored)


def test_evaluation_is_one_loop():
    from models.core.evaluation import evaluate_model
    t = Trainer(mlp(), config=TrainConfig(epochs=2, batch_size=32, lr=0.05))
    t.fit(blobs())
    data = blobs(seed=2)
    assert t.evaluate(data)["accuracy"] == pytest.approx(evaluate_model(t.model, data, ["a", "b"])["accuracy"])


def test_weight_average_is_off_by_default():
    t = Trainer(mlp(), config=TrainConfig(epochs=1, batch_size=64))
    assert TrainConfig().ema == 0.0 and not any(isinstance(cb, WeightAverage) for cb in t.callbacks)


def test_weight_average_shadow_is_the_hand_computed_average():
    seen = []

    class Spy(Callback):
        def on_after_step(self, t):
            seen.append([p.detach().clone() for p in t.model.parameters()])

    model = mlp()
    start = [p.detach().clone() for p in model.parameters()]
    t = Trainer(model, config=TrainConfig(epochs=1, batch_size=64, lr=0.1, ema=0.5), callbacks=[Spy()])
    average = t.callbacks[0]
    assert isinstance(average, WeightAverage)
    t.fit(blobs())
    expected = start
    for n, params in enumerate(seen):
        d = min(0.5, (1 + n) / (10 + n))
        expected = [d * e + (1 - d) * p for e, p in zip(expected, params)]
    assert len(seen) == 4
    for got, want, live in zip(average.shadow, expected, seen[-1]):
        assert torch.allclose(got, want, atol=1e-6) and not torch.allclose(got, live)
    # the run ends with the average in the model
    assert all(torch.equal(p, s) for p, s in zip(t.model.parameters(), average.shadow))


def test_weight_average_judges_the_averaged_model_and_keeps_the_live_buffers():
    def run(ema):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 2))
        t = Trainer(model, config=TrainConfig(epochs=2, batch_size=32, lr=0.05, ema=ema))
        return t, t.fit(blobs(), blobs(seed=1))

    plain, plain_result = run(0.0)
    averaged, result = run(0.9)
    # the same training path: BatchNorm's running statistics are the live model's
    for name, buf in plain.model.named_buffers():
        assert torch.equal(buf, dict(averaged.model.named_buffers())[name])
    assert not all(torch.equal(a, b) for a, b in zip(plain.model.parameters(), averaged.model.parameters()))
    # the history's validation figures are those of the weights left in the model
    assert averaged.evaluate(blobs(seed=1))["loss"] == pytest.approx(result.history.epochs[-1]["val_loss"], rel=1e-5)
    assert plain_result.history.epochs[-1]["train_loss"] == pytest.approx(result.history.epochs[-1]["train_loss"])
