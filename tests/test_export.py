"""ONNX export: each task's shipped model, run in onnxruntime on real inputs, answers as PyTorch does
(to 1e-4); the command writes the file and its card or fails in one line; the app's button gives a
zip; and README's standalone example predicts a digit with the exported file and no project code."""
import io
import json
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, needs_mnist
from models import load_predictor
from models.core.export import TOLERANCE, export_onnx, max_difference, task_spec
from models.export import main as export_main

_done: dict = {}


def exported(task: str):
    """(predictor, onnx bytes, card with its onnx section, input names): each shipped model exported once."""
    if task not in _done:
        pred = load_predictor(task)
        data, card = export_onnx(task, pred.model, pred.card)
        _done[task] = pred, data, card, [i["name"] for i in card["onnx"]["inputs"]]
    return _done[task]


@pytest.fixture(scope="module")
def digits_cli(tmp_path_factory):
    """The command's files for the shipped digits model."""
    out = tmp_path_factory.mktemp("onnx") / "digits.onnx"
    assert export_main(["digits", "--out", str(out)]) == 0
    return out


@needs_mnist
def test_digits_matches_pytorch_on_mnist_test_images(digits_cli):
    from data.digits.mnist import load_mnist
    x, _ = load_mnist("test")
    images = x[:512].float().div(255).unsqueeze(1)
    pred = load_predictor("digits")
    data = digits_cli.read_bytes()
    assert max_difference(data, pred.model, ["image"], [(images[i:i + 128],) for i in range(0, 512, 128)]) <= TOLERANCE


def test_speech_matches_pytorch_on_fsdd_recordings():
    from data.speech.audio import logmel
    from data.speech.datasets import fsdd_recordings, read_clip
    files = sorted(fsdd_recordings().glob("*_*_[0-4].wav"))[::25][:24]     # the test takes, every speaker
    assert len(files) >= 12
    mels = logmel(torch.stack([read_clip(f) for f in files])).clone()
    pred, data, card, names = exported("speech")
    assert names == ["logmel"]
    assert max_difference(data, pred.model, names, [(mels,), (mels[:1],)]) <= TOLERANCE


def test_sentiment_matches_pytorch_on_sst2_sentences():
    from data.sentiment.datasets import load_sst2
    from data.sentiment.text import Vocabulary, encode
    from models.sentiment.export import padded
    texts = load_sst2("test").texts[:240]
    pred, data, card, names = exported("sentiment")
    vocab = Vocabulary(card["arch"]["vocabulary"])
    # batches of mixed lengths (the short ones padded), one text alone, and padding beyond the longest
    batches = [encode(texts[i:i + 60], vocab).tensors() for i in range(0, len(texts), 60)]
    batches += [encode(texts[:1], vocab).tensors(), padded(encode(texts[5:9], vocab).tensors(), 20)]
    assert max(b[0].shape[1] for b in batches) > 30
    assert max_difference(data, pred.model, names, batches) <= TOLERANCE
    assert card["onnx"]["exporter"].startswith("torch.onnx.export(dynamo=False)")
    dims = {i["name"]: i["shape"] for i in card["onnx"]["inputs"]}
    assert dims["ids"] == ["batch", "tokens"] and dims["lengths"] == ["batch"]
    assert card["onnx"]["lexicon"]["good"] > 0 > card["onnx"]["lexicon"]["bad"]


def test_sentiment_wrapper_equals_every_recurrent_network():
    """The padded-batch stand-in for packed sequences, for every cell, direction, depth and pooling a
    retrained SentiNet may have; one of them through onnxruntime too."""
    import itertools
    from models.sentiment.export import ExportableSentiNet
    from models.sentiment.net import SentiNet
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([12, 3, 7, 1, 9])
    ids = torch.randint(2, 100, (5, 12), generator=g) * (torch.arange(12)[None] < lengths[:, None])
    pieces = torch.randint(1, 20000, (5, 12, 7), generator=g) * (ids > 0).unsqueeze(-1)
    lex = torch.rand(5, 12, generator=g) * (ids > 0)
    for cell, two_way, layers, pool in itertools.product(["rnn", "gru", "lstm"], [True, False], [1, 2],
                                                          ["maxmean", "last"]):
        net = SentiNet(100, 3, word_dim=8, piece_dim=4, cell=cell, hidden=16, layers=layers,
                       bidirectional=two_way, pool=pool).eval()
        with torch.no_grad():
            diff = (net(ids, pieces, lex, lengths) - ExportableSentiNet(net)(ids, pieces, lex, lengths)).abs().max()
        assert diff < 1e-6, (cell, two_way, layers, pool)
    net.vocabulary = ["<pad>", "<unk>"] + [f"w{i}" for i in range(98)]
    _, card = export_onnx("sentiment", net, {"task": "sentiment", "labels": ["a", "b", "c"],
                                             "arch": {"vocabulary": net.vocabulary}})
    assert card["onnx"]["verified"]["max_abs_difference"] <= TOLERANCE


def test_typos_matches_pytorch_on_real_misspellings():
    from data.typos.spelling import codespell_pairs
    from models.typos.export import batch_for
    pred, data, card, names = exported("typos")
    typos = [t for t, _ in codespell_pairs(sample=400, seed=1) if pred.index.lookup(t).words][:192]
    batches = [batch_for(typos[i:i + 64], pred.index) for i in range(0, len(typos), 64)]
    assert max_difference(data, pred.model, names, batches) <= TOLERANCE
    assert card["onnx"]["caller_must"]["python_only"] is True
    assert "candidate" in card["onnx"]["caller_must"]["summary"]


def test_an_export_that_disagrees_is_refused(monkeypatch):
    import models.core.export as core
    pred, data, card, names = exported("speech")
    spec = task_spec("speech", pred.model, pred.card)
    shifted = lambda *x: pred.model(*x) + 1e-3      # noqa: E731  (what a wrong wrapper would compute)
    assert max_difference(data, shifted, names, spec.samples) > TOLERANCE
    monkeypatch.setattr(core, "_to_onnx", lambda spec: data)        # the file is fine; its check says otherwise
    monkeypatch.setattr(core, "max_difference", lambda *a: 1e-3)
    with pytest.raises(core.ExportError, match="differs from the PyTorch model"):
        export_onnx("speech", pred.model, pred.card)


def test_exports_from_one_thread_after_another():
    """Streamlit runs every rerun in a new thread; torch.export crashed the process when a second thread
    exported after the first had ended (models.core.export runs every export on one thread of its own)."""
    import threading
    import models.core.export as core
    spec = core.ExportSpec(module=torch.nn.Linear(3, 2), names=["x"], example=(torch.rand(2, 3),),
                           dynamic={"x": {0: "batch"}}, samples=[], meaning={"x": ""}, output="", caller_must={})
    sizes = []
    for _ in range(2):
        t = threading.Thread(target=lambda: sizes.append(len(core._to_onnx(spec))))
        t.start()
        t.join()
    assert len(sizes) == 2 and sizes[0] > 0


def test_command_writes_the_file_and_its_card(digits_cli):
    card = json.loads(digits_cli.with_suffix(".json").read_text())
    onnx = card["onnx"]
    assert card["task"] == "digits" and card["labels"] == [str(d) for d in range(10)]
    assert onnx["file"] == "digits.onnx" and onnx["inputs"][0]["shape"] == ["batch", 1, 28, 28]
    assert onnx["inputs"][0]["dtype"] == "float32"
    assert "(x - 0.1307) / 0.3081" in onnx["caller_must"]["normalisation"]
    assert any("20 pixels" in s for s in onnx["caller_must"]["steps"])
    assert onnx["verified"]["max_abs_difference"] <= TOLERANCE
    # the speech card spells out the front end
    speech = exported("speech")[2]["onnx"]["caller_must"]
    assert speech["sample_rate"] == 16000 and speech["log_mel"]["n_mels"] == 40
    assert speech["log_mel"]["hop_length"] == 320


def test_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    cases = [["digits", "--weights", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "a.onnx")],
             ["digits", "--out", str(tmp_path / "a.txt")],
             ["digits", "--weights", str(ROOT / "models" / "weights" / "speech"), "--out", str(tmp_path / "a.onnx")]]
    (tmp_path / "run.safetensors").write_bytes(b"")     # a checkpoint's card must not be overwritten
    cases.append(["digits", "--out", str(tmp_path / "run.onnx")])
    for argv in cases:
        assert export_main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    assert not list(tmp_path.glob("*.onnx")) and not (tmp_path / "run.json").exists()


def test_readme_example_predicts_a_png_without_project_code(digits_cli, tmp_path):
    readme = (ROOT / "README.md").read_text()
    code = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "onnxruntime" in b)
    assert "models" not in code and "data." not in code
    (tmp_path / "predict_digit.py").write_text(code)
    # a dark 7 on light paper, five times MNIST's size, off-centre: the example's own preprocessing
    a = np.full((200, 240), 235, np.uint8)
    a[40:52, 60:160] = 25
    for i in range(110):
        a[52 + i, 148 - i // 2:160 - i // 2] = 25
    Image.fromarray(a).save(tmp_path / "seven.png")
    files = [digits_cli, digits_cli.with_suffix(".json")]
    for f in files:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    # run where the project cannot be imported: an isolated interpreter in a folder of its own
    out = subprocess.run([sys.executable, "-I", "predict_digit.py", "digits.onnx", "seven.png"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    label, score = out.stdout.split()
    want = load_predictor("digits").predict([Image.open(tmp_path / "seven.png")])[0]
    assert label == want["label"] == "7"
    assert abs(float(score) - want["score"]) < 1e-3


def test_app_exports_the_model_in_use():
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "apps" / "speech.py"), default_timeout=120).run()
    assert not at.exception
    key = "speech__picker_onnx_Shipped model"
    at.sidebar.button(key=f"{key}__onnx_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    data = at.session_state[f"{key}__onnx"][1]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sorted(z.namelist()) == ["model.json", "model.onnx"]
        card = json.loads(z.read("model.json"))
        import onnxruntime as ort
        session = ort.InferenceSession(z.read("model.onnx"))
    assert card["task"] == "speech" and card["onnx"]["inputs"][0]["name"] == "logmel"
    assert session.run(None, {"logmel": np.zeros((2, 1, 40, 51), np.float32)})[0].shape == (2, len(card["labels"]))
    assert [b for b in at.get("download_button") if "ONNX" in b.proto.label]
