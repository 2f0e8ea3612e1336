"""Downloading the official datasets, against a local HTTP server that serves small fakes in
the official formats: conversion into the loaders' layout, progress, the byte budget, hostile
archives, offline, the messages, and the apps' "Download it now"."""
import dataclasses
import gzip
import hashlib
import http.server
import io
import os
import socket
import struct
import tarfile
import threading

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from data.core import download
from data.core.errors import DatasetMissing


class Server:
    """Serves `files` (name -> bytes) at the root; names in `no_length` without a Content-Length."""

    def __init__(self):
        self.files, self.no_length = {}, set()
        files, no_length = self.files, self.no_length

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if self.path.lstrip("/") not in no_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


@pytest.fixture
def env(tmp_path, monkeypatch, server):
    """An empty data root and cache, every download from the local server."""
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path / "root"))
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(download.ENV_MIRROR, server.url)
    server.files.clear()
    server.no_length.clear()
    return tmp_path


def serve(server, monkeypatch, name: str, files: dict[str, bytes]) -> None:
    """Serve the files and make the registry expect exactly them (their sizes and checksums)."""
    server.files.update(files)
    ds = download.DATASETS[name]
    fixed = []
    for f in ds.files:
        data = files[f.name]
        fixed.append(dataclasses.replace(f, size=len(data), md5=hashlib.md5(data).hexdigest() if f.md5 else "",
                                         sha256=hashlib.sha256(data).hexdigest() if f.sha256 else ""))
    monkeypatch.setitem(download.DATASETS, name, dataclasses.replace(ds, files=tuple(fixed)))


def idx(kind: str, n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "images":
        return gzip.compress(struct.pack(">IIII", 0x803, n, 28, 28) + rng.integers(0, 256, n * 784, np.uint8).tobytes())
    return gzip.compress(struct.pack(">II", 0x801, n) + (np.arange(n) % 10).astype(np.uint8).tobytes())


def fake_mnist() -> dict[str, bytes]:
    return {"train-images-idx3-ubyte.gz": idx("images", 30, 0), "train-labels-idx1-ubyte.gz": idx("labels", 30, 0),
            "t10k-images-idx3-ubyte.gz": idx("images", 10, 1), "t10k-labels-idx1-ubyte.gz": idx("labels", 10, 1)}


def tar_gz(members: list[tuple[str, bytes | None, str]]) -> bytes:
    """(name, data, kind) with kind "file", "symlink" or "hardlink"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE), "/etc/passwd"
                tf.addfile(info)
    return buf.getvalue()


RT = [("rt-polaritydata.README.1.0.txt", b"readme", "file"),
      ("rt-polaritydata/rt-polarity.neg", b"a dull , lifeless film . \nboring \xe9 . \n", "file"),
      ("rt-polaritydata/rt-polarity.pos", b"a joy to watch . \n", "file")]


def test_mnist_is_downloaded_checked_and_read_with_progress(env, server, monkeypatch):
    from data.digits.mnist import load_mnist
    serve(server, monkeypatch, "mnist", fake_mnist())
    calls = []
    assert download.missing("digits") == ["mnist"]
    where = download.fetch("mnist", progress=lambda done, total: calls.append((done, total)))
    assert where == env / "root" and download.missing("digits") == []
    x, y = load_mnist("train")
    assert x.shape == (30, 28, 28) and y.tolist()[:3] == [0, 1, 2]
    total = sum(len(v) for v in fake_mnist().values())
    assert calls[-1] == (total, total) and all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))
    assert not list((env / "root").rglob("*.part")) and not (env / "root" / ".downloads").exists()


def test_sentiment_files_are_converted_into_the_loaders_format(env, server, monkeypatch):
    from data.sentiment import datasets as sd
    serve(server, monkeypatch, "rt-polarity", {"rt-polaritydata.tar.gz": tar_gz(RT)})
    serve(server, monkeypatch, "sst2", {f"stsa.binary.{s}": b"1 a fine film .\n0 a dull one .\n"
                                        for s in ("train", "dev", "test")})
    tweets = b"1\t2.726315789\tSo lucky &amp; happy.\n2\t-2.154639175\tDie die die\n3\t0.13\tOpal.\n"
    serve(server, monkeypatch, "vader", {"tweets_GroundTruth.txt": tweets,
                                         "nytEditorialSnippets_GroundTruth.txt": b"1\t-1.5\tA grim policy.\n"})
    assert download.fetch_task("sentiment") == ["sst2", "rt-polarity", "vader"]
    rt = sd.load_rt()
    assert rt.targets == [0, 0, 1] and rt.texts[1] == "boring \xe9 ."
    assert sd.load_sst2("dev").texts == ["a fine film .", "a dull one ."]
    v = sd.load_vader("tweets")
    assert v.texts == ["So lucky & happy.", "Die die die"] and v.targets == [1, 0]
    assert sd.load_vader("editorials").targets == [0]


def test_speech_archives_are_extracted_into_torchaudios_layout(env, server, monkeypatch):
    from data.speech.datasets import fsdd_recordings, speech_commands_folder
    wav = b"RIFF....WAVEfmt "
    serve(server, monkeypatch, "fsdd", {"v1.0.10.tar.gz": tar_gz(
        [("free-spoken-digit-dataset-1.0.10/README.md", b"r", "file"),
         ("free-spoken-digit-dataset-1.0.10/recordings/1_bob_0.wav", wav, "file")])})
    serve(server, monkeypatch, "speech_commands", {"speech_commands_v0.02.tar.gz": tar_gz(
        [("./yes/abc_nohash_0.wav", wav, "file"), ("./_background_noise_/white.wav", wav, "file"),
         ("./LICENSE", b"CC BY 4.0", "file")])})
    assert download.fetch_task("speech") == ["speech_commands", "fsdd"]
    assert (fsdd_recordings() / "1_bob_0.wav").read_bytes() == wav
    folder = speech_commands_folder()
    assert folder == env / "root" / "SpeechCommands" / "speech_commands_v0.02" and (folder / "yes").is_dir()


def test_a_read_only_root_gets_its_downloads_in_the_cache(env, server, monkeypatch):
    from data.digits.mnist import load_mnist
    root = env / "root"
    root.mkdir()
    root.chmod(0o555)
    try:
        serve(server, monkeypatch, "mnist", fake_mnist())
        assert download.fetch("mnist") == env / "cache" / "datasets"
        assert load_mnist("test")[0].shape == (10, 28, 28) and download.missing("digits") == []
    finally:
        root.chmod(0o755)


@pytest.mark.parametrize("announced", [True, False])
def test_a_response_over_budget_is_refused_and_nothing_is_left(env, server, monkeypatch, announced):
    serve(server, monkeypatch, "sst2", {f"stsa.binary.{s}": b"1 fine .\n" for s in ("train", "dev", "test")})
    server.files["stsa.binary.train"] = b"1 fine .\n" * 400_000           # 3.6 MB against 9 bytes expected
    if not announced:
        server.no_length.add("stsa.binary.train")                          # cut off while it streams
    with pytest.raises(DatasetMissing, match="more than the expected") as e:
        download.fetch("sst2")
    assert e.value.dataset == "sst2"
    assert not [p for p in (env / "root").rglob("*") if p.is_file()]


@pytest.mark.parametrize("evil", [("../evil", b"x", "file"), ("/tmp/bps-evil-abs", b"x", "file"),
                                  ("rt-polaritydata/rt-polarity.neg", None, "symlink"),
                                  ("rt-polaritydata/rt-polarity.pos", None, "hardlink")])
def test_a_hostile_archive_is_refused(env, server, monkeypatch, evil):
    serve(server, monkeypatch, "rt-polarity", {"rt-polaritydata.tar.gz": tar_gz(RT[:1] + [evil] + RT[1:])})
    with pytest.raises(DatasetMissing, match="rt-polarity could not be installed: the archive holds"):
        download.fetch("rt-polarity")
    assert not (env / "evil").exists() and not os.path.exists("/tmp/bps-evil-abs")
    assert not [p for p in (env / "root").rglob("*") if p.is_file()]


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_offline_is_one_sentence_saying_so(env, monkeypatch):
    from data.digits.mnist import load_mnist
    monkeypatch.setenv(download.ENV_MIRROR, closed_port())
    with pytest.raises(DatasetMissing) as e:
        download.fetch("vader")
    assert e.value.sentence.startswith("The VADER study's tweets and editorials could not be downloaded: no connection")
    assert "offline" in e.value.sentence and e.value.sentence.count(". ") == 0
    with pytest.raises(DatasetMissing) as e:        # the loader tries to download, then says both
        load_mnist("test")
    assert e.value.sentence.startswith("MNIST is missing: expected train-images-idx3-ubyte.gz")
    assert "downloading it failed: no connection" in e.value.sentence and "--data" not in e.value.sentence
    assert "python -m data.core.download digits" in str(e.value) and "--data" in str(e.value)   # the CLI's hint


def test_every_missing_dataset_says_so_in_one_sentence_without_options(env):
    from data.sentiment import datasets as sd
    from data.speech.datasets import fsdd_recordings, speech_commands_folder
    from data.typos.context import editorial_sentences
    for load in (lambda: sd.load_sst2("train"), sd.load_rt, lambda: sd.load_vader("tweets"), fsdd_recordings,
                 speech_commands_folder, editorial_sentences):
        with pytest.raises(DatasetMissing) as e:
            load()
        s = e.value.sentence
        assert s.endswith(".") and s.count(". ") == 0 and "--data" not in s and "BACKPROP_DATA" not in s, s
        assert e.value.dataset in download.DATASETS and e.value.what


def test_the_command_downloads_a_task_or_says_why_not(env, server, monkeypatch, capsys):
    serve(server, monkeypatch, "mnist", fake_mnist())
    assert download.main(["digits"]) == 0
    assert "MNIST: saved under" in capsys.readouterr().err
    assert download.main(["mnist"]) == 0 and "already under" in capsys.readouterr().err
    assert download.main(["typos"]) == 0 and "nothing to download" in capsys.readouterr().err
    monkeypatch.setenv(download.ENV_MIRROR, closed_port())
    assert download.main(["sst2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: SST-2 could not be downloaded: no connection") and "Traceback" not in err


# ---- the apps ---------------------------------------------------------------------------
def digits_training():
    from apps.components.custom_data import choose_data
    from apps.components.training_panel import training_panel
    from models.digits.task import TASK
    data, note = choose_data(TASK, "digits")
    training_panel(TASK, "digits", data, data_note=note)


@pytest.fixture
def page(env):
    from apps.components.custom_data import official_splits
    official_splits.clear()             # shared by every AppTest of this process: none sees this root's copy
    yield AppTest.from_function(digits_training, default_timeout=60)
    official_splits.clear()


def shown(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "warning", "error", "caption", "info")
                     for e in getattr(at, kind))


def test_the_app_offers_the_download_and_then_trains(page, server, monkeypatch):
    at = page.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["MNIST is not on this machine."]
    assert "BACKPROP_DATA=/path/to/datasets streamlit run apps/home.py" in shown(at) and "--data" not in shown(at)
    assert at.button(key="digits__start").disabled
    download_button = at.button(key="digits__download")
    assert download_button.label == "Download it now (11 MB)"
    serve(server, monkeypatch, "mnist", fake_mnist())
    at = download_button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning and download.missing("digits") == []
    assert not at.button(key="digits__start").disabled


def test_the_app_says_in_one_line_when_the_download_fails(page, monkeypatch):
    monkeypatch.setenv(download.ENV_MIRROR, closed_port())
    at = page.run()
    at = at.button(key="digits__download").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert error.startswith("MNIST could not be downloaded: no connection") and "\n" not in error
    assert at.button(key="digits__start").disabled


def test_a_mirror_is_tried_when_the_first_source_fails_and_a_wrong_file_is_refused(env, server, monkeypatch):
    monkeypatch.delenv(download.ENV_MIRROR)
    serve(server, monkeypatch, "mnist", fake_mnist())
    ds = download.DATASETS["mnist"]
    moved = tuple(dataclasses.replace(f, urls=(closed_port() + "/" + f.name, server.url + "/" + f.name)) for f in ds.files)
    monkeypatch.setitem(download.DATASETS, "mnist", dataclasses.replace(ds, files=moved))
    download.fetch("mnist")
    assert download.missing("digits") == []
    # a captive portal's page instead of the file: checked, refused, nothing kept
    monkeypatch.setenv(download.ENV_MIRROR, server.url)
    serve(server, monkeypatch, "sst2", {f"stsa.binary.{s}": b"<html>Sign in to the Wi-Fi</html>"
                                        for s in ("train", "dev", "test")})
    with pytest.raises(DatasetMissing, match="SST-2 could not be installed: stsa.binary.train is not SST-2"):
        download.fetch("sst2")
    assert not (env / "root" / "sentiment" / "sst2").exists()


def sentiment_and_speech_data():
    from apps.components.custom_data import choose_data
    from models import get_task
    for name in ("sentiment", "speech"):
        choose_data(get_task(name), name)


def test_each_app_names_what_it_lacks_and_its_size(page):
    at = AppTest.from_function(sentiment_and_speech_data, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [
        "SST-2, rt-polarity and the VADER study's tweets and editorials are not on this machine.",
        "Speech Commands v0.02 and the Free Spoken Digit Dataset are not on this machine."]
    assert [b.label for b in at.button] == ["Download it now (2 MB)", "Download it now (2.3 GB)"]


def test_the_sentiment_page_says_it_as_the_panels_do(page):
    """Its RNN vs LSTM vs GRU tab reads the official data too: the same sentence and download, no --data."""
    at = AppTest.from_file(str(ROOT / "apps" / "sentiment.py"), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    lacks = "SST-2, rt-polarity and the VADER study's tweets and editorials are not on this machine."
    assert lacks in [w.value for w in at.warning]
    assert at.button(key="sent_bptt__download").label == "Download it now (2 MB)"
    assert "--data" not in shown(at)
