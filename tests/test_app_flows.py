"""The pages used in orders people use them: a finished model evaluated after the data changed, a
second word list after a first, reruns while a file is scored, a step that overflows, and the
session's stores that must not grow for as long as a page stays open."""
import io
import json
import zipfile

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown


def app(page: str, timeout: int = 180) -> AppTest:
    return AppTest.from_file(str(ROOT / "apps" / page), default_timeout=timeout).run()


def images_zip(classes: dict[str, int], seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for c, n in classes.items():
            for i in range(n):
                img = io.BytesIO()
                Image.fromarray((rng.random((40, 40)) * 255).astype(np.uint8)).save(img, format="PNG")
                z.writestr(f"d/{c}/{i}.png", img.getvalue())
    return buf.getvalue()


def test_a_finished_model_is_evaluated_on_the_data_it_trained_on():
    """Evaluating after a second upload ran a two-class model on three classes: an IndexError, and
    before that, the first data's mistakes drawn from the second's images."""
    at = app("digits.py")
    at.radio(key="digits__source").set_value("upload").run()
    at.file_uploader(key="digits__zip").set_value(("a.zip", images_zip({"a": 10, "b": 10}, 0), "application/zip")).run()
    at.number_input(key="digits__epochs").set_value(1)
    at.button(key="digits__start").click().run()
    at.session_state["digits__job"].wait(180)
    at.run()
    at.file_uploader(key="digits__zip").set_value(("b.zip", images_zip({"x": 10, "y": 10, "z": 10}, 1),
                                                   "application/zip")).run()
    at.button(key="digits__evaluate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["digits__eval"]["n"] == 4           # a's test examples, two a class
    at.radio(key="digits__source").set_value("collected").run()
    assert not at.exception


def test_a_second_word_list_keeps_the_words_of_the_model_in_use():
    from models.core.checkpoint import load_checkpoint, shipped_path, to_zip
    from models.typos.task import TASK
    state, card = load_checkpoint(shipped_path("typos"))
    card = dict(card, data={**card["data"], "vocabulary_added": {"zorbl": 300_000_000_000}})
    model = TASK.model_from_state(state, card)
    at = app("typos.py", 300)
    at.sidebar.file_uploader(key="typos__load").set_value(("mine.zip", to_zip(model, card), "application/zip")).run()
    at.file_uploader(key="typos_vocab_file").set_value(("b.txt", b"qwixle 50\nblorpt 40\n", "text/plain")).run()
    at.select_slider(key="typos_vocab_n").set_value(2000).run()
    at.button(key="typos_vocab__prepare").click().run()
    assert not at.exception
    added = at.session_state["typos_vocab__splits"][1].provenance["vocabulary_added"]
    assert set(added) == {"zorbl", "qwixle", "blorpt"}
    # the old list brought to the new one's scale: zorbl as the new list's mean count (45), qwixle 50
    assert abs(added["zorbl"] / added["qwixle"] - 45 / 50) < 0.01


def test_a_scored_file_is_scored_once_however_often_the_page_reruns(monkeypatch):
    from models.sentiment.task import SentimentPredictor
    calls = []
    predict = SentimentPredictor.predict
    monkeypatch.setattr(SentimentPredictor, "predict",
                        lambda self, items, k=3: calls.append(len(items)) or predict(self, items, k))
    at = app("sentiment.py")
    at.file_uploader(key="sent_score_file").set_value(
        ("reviews.csv", b"text,label\nI loved it,1\nAwful and boring,0\nFine,1\n", "text/csv")).run()
    for _ in range(3):
        at.run()
    assert calls.count(3) == 1 and not at.exception
    assert any("Scored 3 texts" in shown(s.value) for s in at.success)
    assert any(m.label == "VADER is right" for m in at.metric)


def test_a_hand_step_that_overflows_is_not_taken():
    at = AppTest.from_file(str(ROOT / "apps" / "lab.py"), default_timeout=120).run()
    for k, v in dict(w11=1e300, x1=1e300, lr=10000.0).items():
        at.number_input(key=k).set_value(v)
    at.selectbox(key="act").set_value("relu")
    at.run()
    assert at.button(key="whole_step").disabled
    assert any("overflows" in e.value for e in at.error)
    assert at.number_input(key="w11").value == 1e300         # the set-up is as the user left it


def test_the_labs_results_keep_the_latest_set_ups_only():
    def page():
        import streamlit as st
        from apps.components.lab_experiments_ui import RESULTS_KEPT, _cached
        for i in range(RESULTS_KEPT + 5):
            _cached(f"set-up {i}", lambda i=i: i)
        _cached("set-up 6", lambda: -1)      # used again: kept as the latest
        _cached("one more", lambda: 0)
        st.write(json_keys(st.session_state["lab_results"]))

    def json_keys(store):
        return list(store)

    at = AppTest.from_function(page, default_timeout=60)
    at.run()
    from apps.components.lab_experiments_ui import RESULTS_KEPT
    kept = list(at.session_state["lab_results"])
    assert len(kept) == RESULTS_KEPT and kept[-2:] == ["set-up 6", "one more"]


def test_a_refused_model_zip_is_read_once_and_its_message_stays(monkeypatch):
    import apps.components.common as common
    reads = []
    real = common.from_zip
    monkeypatch.setattr(common, "from_zip", lambda data: reads.append(1) or real(data))
    card = {"task": "sentiment", "labels": ["a", "b"], "arch": {"kwargs": {}}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m.safetensors", b"\x02\x00\x00\x00\x00\x00\x00\x00{}")
        z.writestr("m.json", json.dumps(card))
    at = app("digits.py")
    at.sidebar.file_uploader(key="digits__load").set_value(("m.zip", buf.getvalue(), "application/zip")).run()
    at.run()
    at.run()
    assert len(reads) == 1
    assert any("Could not load that model" in e.value for e in at.sidebar.error)


def test_the_hand_steps_numbers_stay_short_however_large():
    from apps.components.lab_hand_ui import fixed
    assert fixed(0.15, 4) == "0.1500" and fixed(-2.5, 6) == "-2.500000"
    assert fixed(1e300, 4) == "1e+300" and fixed(float("nan"), 6) == "nan"     # was a 300-digit label
