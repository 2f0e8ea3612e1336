"""Adversarial training: the loss step also takes the loss at token vectors moved, by eps, along the
gradient of the loss with respect to them. Checked the micrograd way: the input gradient against finite
differences, the weight gradients the trainer leaves against autograd on the two losses written by hand."""
import pytest
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from models.core.callbacks import AdversarialLoss
from models.core.trainer import Callback, TrainConfig, Trainer


class Tiny(nn.Module):
    """Token ids -> embed -> mean over tokens -> a linear layer: a network with token vectors."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(7, 3)
        self.out = nn.Linear(3, 2)

    def forward(self, ids):
        return self.out(torch.tanh(self.embed(ids)).mean(1))


def batch():
    return torch.tensor([[1, 2, 3], [4, 5, 6], [6, 1, 0]]), torch.tensor([0, 1, 1])


def grads_after_one_step(model, eps):
    grads, losses = {}, []

    class Grab(Callback):
        def on_after_backward(self, t):
            grads.update({n: p.grad.clone() for n, p in t.model.named_parameters()})
            losses.append(float(t.loss.detach()))

    t = Trainer(model, config=TrainConfig(lr=0.0, optimizer="sgd", momentum=0.0, adversarial=eps),
                callbacks=[Grab()])
    t.emit("fit_start")
    t.train_batch(*batch())
    t.emit("fit_end")
    return grads, losses[0]


def test_weight_gradients_are_those_of_the_clean_plus_the_adversarial_loss():
    eps = 0.5
    model = Tiny().double()
    grads, reported = grads_after_one_step(model, eps)
    # the same by hand: g = dL/d(token vectors), delta = eps g / |g| per example, L + L(vectors + delta)
    ids, y = batch()
    loss_fn = nn.CrossEntropyLoss()
    head = lambda v: model.out(torch.tanh(v).mean(1))  # noqa: E731
    vectors = model.embed(ids)
    clean = loss_fn(head(vectors), y)
    (g,) = torch.autograd.grad(clean, vectors, retain_graph=True)
    delta = (eps * g / g.flatten(1).norm(dim=1).view(-1, 1, 1)).detach()
    model.zero_grad()
    (clean + loss_fn(head(model.embed(ids) + delta), y)).backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(grads[name], p.grad, atol=1e-10, rtol=1e-8)
    assert reported == pytest.approx(float(clean.detach()))      # the report is the clean loss, like validation's


def test_the_input_gradient_agrees_with_finite_differences():
    """The direction the callback moves the token vectors is the loss's gradient there: along it, the
    loss changes at the rate |g|, measured by (L(v + h d) - L(v - h d)) / 2h in double precision."""
    model = Tiny(1).double()
    ids, y = batch()
    seen = {}

    class Peek(AdversarialLoss):
        def on_after_loss(self, t):
            x = self.output
            (seen["g"],) = torch.autograd.grad(t.loss, x, retain_graph=True)
            seen["v"] = x.detach().clone()
            super().on_after_loss(t)

    t = Trainer(model, config=TrainConfig(lr=0.0, optimizer="sgd"), callbacks=[Peek(model.embed, 0.1)])
    t.emit("fit_start")
    t.train_batch(ids, y)
    t.emit("fit_end")
    g, v = seen["g"], seen["v"]
    loss = lambda vec: float(nn.CrossEntropyLoss()(model.out(torch.tanh(vec).mean(1)), y).detach())  # noqa: E731
    h = 1e-6
    for i in range(3):                                   # one example at a time
        d = torch.zeros_like(g)
        d[i] = g[i] / g[i].norm()
        rate = (loss(v + h * d) - loss(v - h * d)) / (2 * h)
        assert rate == pytest.approx(float(g[i].norm()), rel=1e-5)


def test_the_adversarial_direction_raises_the_loss_more_than_random_ones():
    model = Tiny(2)
    ids, y = batch()
    vectors = model.embed(ids)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    head = lambda v: loss_fn(model.out(torch.tanh(v).mean(1)), y)  # noqa: E731
    (g,) = torch.autograd.grad(head(vectors).sum(), vectors)
    worst = head(vectors + 0.3 * g / g.flatten(1).norm(dim=1).view(-1, 1, 1))
    torch.manual_seed(0)
    for _ in range(20):
        r = torch.randn_like(g)
        assert (head(vectors + 0.3 * r / r.flatten(1).norm(dim=1).view(-1, 1, 1)) <= worst + 1e-6).all()


def test_it_trains_and_leaves_no_hook_behind():
    torch.manual_seed(0)
    ids = torch.randint(1, 7, (64, 3))
    y = ((ids > 3).sum(1) >= 2).long()          # most of its tokens are high: mean pooling can tell
    model = Tiny(3)
    t = Trainer(model, config=TrainConfig(epochs=30, batch_size=16, lr=0.05, adversarial=0.1))
    t.fit(TensorDataset(ids, y))
    assert t.history.epochs[-1]["train_accuracy"] > 0.9
    assert not model.embed._forward_hooks


def test_a_model_without_token_vectors_is_refused_with_a_message():
    with pytest.raises(ValueError, match="no `embed` module"):
        Trainer(nn.Sequential(nn.Linear(2, 2)), config=TrainConfig(adversarial=1.0))
    with pytest.raises(ValueError, match="must be positive"):
        AdversarialLoss(nn.Linear(2, 2), 0.0)
