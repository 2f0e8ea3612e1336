"""LeNet-5, checkpoints and the predictor API."""
import json

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from models.core.checkpoint import CheckpointError, from_zip, load_checkpoint, save_checkpoint, to_zip
from models.digits.task import TASK, splits_from_examples
from models.digits.net import LeNet5
from models import load_predictor
from models.core.evaluation import evaluate_model
from models.core.tasks import train_model, with_labels
from models.core.trainer import Callback, TrainConfig, Trainer
from data.digits.images import EmptyImageError


def test_lenet5_shapes_and_size():
    m = LeNet5()
    feats = m.features(torch.rand(2, 1, 28, 28))
    assert feats["c1"].shape == (2, 6, 28, 28) and feats["s2"].shape == (2, 6, 14, 14)
    assert feats["c3"].shape == (2, 16, 10, 10) and feats["s4"].shape == (2, 16, 5, 5)
    assert feats["c5"].shape == (2, 120) and feats["f6"].shape == (2, 84) and feats["output"].shape == (2, 10)
    torch.testing.assert_close(m(torch.zeros(1, 1, 28, 28)), m.features(torch.zeros(1, 1, 28, 28))["output"])
    assert sum(p.numel() for p in m.parameters()) == 61706


def test_lenet_gradients_match_finite_differences():
    torch.manual_seed(0)
    m = LeNet5(activation="tanh", pool="avg").double()
    x = torch.rand(2, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: m(inp).sum(), (x,), eps=1e-6, atol=1e-5)


def test_checkpoint_round_trip_without_pickle(tmp_path):
    m = LeNet5()
    card = {"task": "digits", "arch": {"name": "LeNet5", "kwargs": m.config}, "labels": list("0123456789")}
    save_checkpoint(tmp_path / "run", m, card, {"epoch": 3, "step": 7, "optimizer": {}, "scheduler": None})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.safetensors", "run.train.pt"]
    assert not list(tmp_path.glob("*.tmp"))
    state, card2 = load_checkpoint(tmp_path / "run.safetensors")
    assert card2.pop("files").keys() == {".safetensors", ".train.pt"}     # the set's hashes
    assert card2 == card
    for k, v in m.state_dict().items():
        assert torch.equal(state[k], v)
    p = load_predictor("digits", tmp_path / "run")
    x = torch.rand(1, 1, 28, 28)
    torch.testing.assert_close(p.model(x), m.eval()(x))


def test_bad_checkpoints_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="No weights"):
        load_checkpoint(tmp_path / "nothing")
    (tmp_path / "x.safetensors").write_bytes(b"not safetensors")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(CheckpointError, match="Could not read"):
        load_checkpoint(tmp_path / "x")
    with pytest.raises(CheckpointError):
        from_zip(b"not a zip")


def test_zip_download_round_trip():
    m = LeNet5()
    state, card = from_zip(to_zip(m, {"task": "digits", "labels": ["a"]}))
    assert card["task"] == "digits" and torch.equal(state["c1.weight"], m.c1.weight)


def test_resume_continues_exactly(tmp_path):
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(96, 1, 28, 28, generator=g), torch.randint(0, 10, (96,), generator=g))
    cfg = TrainConfig(epochs=2, batch_size=32, lr=1e-3, schedule="cosine")
    splits = splits_from_examples(data.tensors[0][:, 0].numpy(), data.tensors[1].tolist(), [str(i) for i in range(10)],
                                  val_fraction=0.0)
    straight = train_model(TASK, splits, cfg, augment=False, test_eval=False)

    class Interrupt(Callback):        # the run is cut short after its first epoch
        def on_epoch_end(self, t):
            t.request_stop()

    cut = train_model(TASK, splits, cfg, augment=False, test_eval=False, out=tmp_path / "half",
                      callbacks=[Interrupt()])
    assert cut.result.status == "stopped"
    card = json.loads((tmp_path / "half.json").read_text())
    assert card["task"] == "digits" and card["status"] == "stopped" and len(card["epochs"]) == 1
    resumed = train_model(TASK, splits, cfg, augment=False, test_eval=False, resume=tmp_path / "half")
    assert resumed.trainer.epoch == 2
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b)


def test_fine_tuning_a_new_label_set_keeps_shared_rows_and_the_original():
    base = LeNet5()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tuned = with_labels(base, ["7", "x"], [str(i) for i in range(10)])
    assert tuned.output.out_features == 2
    assert torch.equal(tuned.output.weight[0], base.output.weight[7])
    assert torch.equal(tuned.c1.weight, base.c1.weight) and tuned.c1.weight is not base.c1.weight
    Trainer(tuned, config=TrainConfig(lr=0.1)).train_batch(torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 0, 1]))
    for k, v in base.state_dict().items():
        assert torch.equal(v, before[k])          # the original never moves


def test_a_fine_tune_on_new_labels_is_reproducible_from_its_seed():
    # the new output rows are random too: --seed must fix them, or a CLI fine-tune differs run to run
    base = LeNet5()
    x, y = torch.rand(16, 1, 28, 28), torch.tensor([0, 1] * 8)
    splits = splits_from_examples(list(x[:, 0].numpy()), y.tolist(), ["7", "x"], 0.25, seed=0)

    def tune(global_seed):
        torch.manual_seed(global_seed)             # whatever the global RNG held before
        run = train_model(TASK, splits, TrainConfig(epochs=1, batch_size=4, seed=5), init=base,
                          init_labels=[str(i) for i in range(10)], test_eval=False)
        return run.model.state_dict()
    a, b = tune(1), tune(2)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_predictor_api_on_shipped_weights():
    p = load_predictor("digits")
    assert p.labels == [str(d) for d in range(10)] and p.task == "digits"
    bar = np.zeros((280, 280), np.uint8)
    bar[40:240, 125:155] = 255
    out = p.predict([bar, 255 - bar, np.repeat(bar[..., None], 4, axis=2)], k=3)
    assert len(out) == 3 and all(o["label"] == "1" for o in out)
    assert all(len(o["top"]) == 3 and o["top"][0] == (o["label"], o["score"]) for o in out)
    assert all(0 < o["score"] <= 1 for o in out)
    with pytest.raises(EmptyImageError):
        p.predict([np.zeros((100, 100), np.uint8)])
    with pytest.raises(TypeError):
        p.predict(bar)
    assert p.predict([]) == []


def test_explain_gives_feature_maps_and_saliency():
    p = load_predictor("digits")
    bar = np.zeros((280, 280), np.uint8)
    bar[40:240, 125:155] = 255
    seen = p.explain(bar)
    assert seen["input"].shape == (28, 28) and seen["c1"].shape == (6, 28, 28) and seen["c3"].shape == (16, 10, 10)
    assert seen["saliency"].shape == (28, 28) and seen["saliency"].max() > 0
    assert abs(sum(seen["probs"].values()) - 1) < 1e-5


def test_evaluate_model_confusion_and_mistakes():
    g = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.rand(50, 1, 28, 28, generator=g), torch.randint(0, 10, (50,), generator=g))
    r = evaluate_model(LeNet5(), data, [str(i) for i in range(10)])
    assert r["n"] == 50 and sum(map(sum, r["confusion"])) == 50
    assert len(r["mistakes"]) == round(50 * (1 - r["accuracy"]))
    scores = [m["score"] for m in r["mistakes"]]
    assert scores == sorted(scores, reverse=True)
