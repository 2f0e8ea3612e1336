"""Distillation for Sentiment: spans cut from sentences, the teachers' average as targets,
the one trainer learning from probabilities instead of class indices, and the command."""
import json
import os
from pathlib import Path

import pytest
import torch

from data.sentiment.datasets import Texts
from data.sentiment.spans import spans
from data.sentiment.text import tokenize
from models.core.evaluation import accuracy

HAVE_DATA = (Path(os.environ["BACKPROP_DATA"]) / "sentiment" / "sst2" / "stsa.binary.test.gz").exists()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="SST-2 not under BACKPROP_DATA")

SENTENCES = ["the acting is not bad at all , and the ending is great .",
             "a dull , lifeless film that never finds its feet",
             "too short",
             "great food but the staff was rude"]


def test_spans_are_runs_of_consecutive_tokens_shorter_than_the_sentence():
    cut = spans(SENTENCES, per_text=5, seed=1)
    assert cut and len(cut) == len(set(cut))
    sources = [tokenize(s) for s in SENTENCES]
    for span in cut:
        toks = span.split()
        assert 2 <= len(toks)
        home = [s for s in sources if any(s[i:i + len(toks)] == toks for i in range(len(s)))]
        assert home and all(len(toks) < len(s) for s in home), span
    assert not any(span == "too short" for span in cut)       # under 4 tokens: not cut
    assert spans(SENTENCES, per_text=5, seed=1) == cut        # seeded
    assert spans(SENTENCES, per_text=0) == []
    with pytest.raises(ValueError):
        spans(SENTENCES, per_text=-1)


def test_accuracy_reads_probability_targets_as_their_likeliest_class():
    out = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert accuracy(out, torch.tensor([0, 1, 1])).item() == pytest.approx(2 / 3)
    soft = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8]])
    assert accuracy(out, soft).item() == pytest.approx(2 / 3)


def test_cross_entropy_on_probabilities_is_a_mix_of_the_two_targets():
    # why the student's sentence targets can be one tensor: cross-entropy is linear in its target
    logits = torch.randn(5, 2, dtype=torch.float64)
    label = torch.tensor([0, 1, 1, 0, 1])
    teacher = torch.softmax(torch.randn(5, 2, dtype=torch.float64), 1)
    mixed = 0.5 * torch.nn.functional.one_hot(label, 2).double() + 0.5 * teacher
    ce = torch.nn.functional.cross_entropy
    assert ce(logits, mixed).item() == pytest.approx(0.5 * ce(logits, label).item() + 0.5 * ce(logits, teacher).item())


class _Fixed:
    """A teacher that says 0.8 positive to everything."""
    labels = ["negative", "positive"]

    def probabilities(self, texts):
        return torch.tensor([[0.2, 0.8]]).repeat(len(texts), 1)


def test_distillation_set_mixes_labels_with_the_teachers_and_adds_spans():
    from models.sentiment.distill import distillation_set, ensemble_probabilities
    train = Texts(SENTENCES + ["generated sentence one two three"], [1, 0, 1, 0, 1], ["negative", "positive"])
    data = distillation_set(train, [_Fixed(), _Fixed()], real=4, spans_per=2, alpha=0.5, seed=0)
    targets = data.tensors[-1]
    assert targets.dtype == torch.float32 and targets.shape == (5 + data.spans, 2)
    assert torch.allclose(targets.sum(1), torch.ones(len(targets)))
    assert torch.allclose(targets[0], torch.tensor([0.1, 0.9]))        # label 1, teacher 0.8: half and half
    assert torch.allclose(targets[1], torch.tensor([0.6, 0.4]))        # label 0
    assert torch.allclose(targets[5:], torch.tensor([0.2, 0.8]))       # spans: the teachers alone
    assert data.spans > 0 and all("generated" not in t for t in data.texts[5:])   # only real sentences are cut
    assert ensemble_probabilities([_Fixed()], []).shape == (0, 2)
    more = distillation_set(train, [_Fixed()], real=4, spans_per=2, seed=0, unlabelled=["a quiet day", "meh"])
    assert more.unlabelled == 2 and more.texts[-2:] == ["a quiet day", "meh"]
    assert torch.allclose(more.tensors[-1][-2:], torch.tensor([0.2, 0.8]))   # unlabelled: the teachers alone
    with pytest.raises(ValueError):
        distillation_set(train, [_Fixed()], alpha=1.5)


def test_the_trainer_learns_from_probability_targets():
    from torch.utils.data import TensorDataset
    from models.core.trainer import TrainConfig, Trainer
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    p = torch.sigmoid(3 * x[:, :1])                 # a teacher's soft verdict on a linear rule
    targets = torch.cat([1 - p, p], 1)
    model = torch.nn.Linear(4, 2)
    trainer = Trainer(model, torch.nn.CrossEntropyLoss(), TrainConfig(epochs=30, lr=0.05, batch_size=64))
    trainer.fit(TensorDataset(x, targets), TensorDataset(x, (p[:, 0] > 0.5).long()))
    last = trainer.history.epochs[-1]
    assert last["val_accuracy"] > 0.95 and last["train_accuracy"] > 0.95


@needs_data
def test_distill_command_writes_a_student_whose_card_names_its_teachers(tmp_path, capsys):
    from models import load_predictor
    from models.sentiment.distill import main
    out = tmp_path / "student"
    code = main(["--teacher", "shipped", "--teacher", "shipped", "--spans", "1", "--max-batches", "3",
                 "--threads", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["saved"] and "val_accuracy" in result["metrics"]
    assert not [k for k in result["metrics"] if k.startswith("test")]     # a choice made here sees no test figure
    card = json.loads(out.with_suffix(".json").read_text())
    d = card["data"]["distillation"]
    assert d["teachers"] == ["shipped", "shipped"] and d["spans"] > 10_000 and d["alpha"] == 0.5
    assert d["teachers_average_validation"]["combined"] > 0.8
    assert card["hyperparameters"]["ema"] == 0.999                 # the shipped recipe is the default
    assert load_predictor("sentiment", out).predict(["great food"])[0]["label"] in ("negative", "positive")


def test_distill_command_refuses_bad_options_and_missing_teachers(tmp_path, capsys):
    from models.sentiment.distill import main
    for argv, message in ((["--alpha", "2"], "--alpha"), (["--spans", "-1"], "--spans"),
                          (["--teachers", "0"], "--teachers"), ([], "shipped model")):
        out = "models/weights/sentiment" if not argv else str(tmp_path / "s")
        with pytest.raises(SystemExit):
            main(argv + ["--out", out])
        assert message in capsys.readouterr().err
    assert main(["--teacher", str(tmp_path / "nothing"), "--out", str(tmp_path / "s")]) == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "s.safetensors").exists()


@needs_data
def test_distill_command_trains_teachers_once_and_smoke_runs_stay_short(tmp_path, capsys):
    from models.sentiment.distill import main
    argv = ["--teachers", "1", "--teachers-dir", str(tmp_path / "teachers"), "--spans", "0", "--max-batches", "2",
            "--threads", "2"]
    assert main(argv + ["--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "training teacher 1 of 1" in err
    teacher = json.loads((tmp_path / "teachers" / "seed0.json").read_text())
    assert teacher["hyperparameters"]["max_batches"] == 2          # --max-batches reaches the teachers too
    assert not teacher["hyperparameters"]["ema"]                   # teachers keep the task's recipe
    assert main(argv + ["--out", str(tmp_path / "b")]) == 0
    assert "training teacher" not in capsys.readouterr().err       # kept and reused
