"""The Speech app under streamlit's AppTest: a WAV through st.audio_input and through the
uploader, bad recordings get messages, a long recording is scanned, words are taught and
trained on. (AppTest 1.67 drives st.audio_input with set_value((name, bytes, "audio/wav")).)"""
import io
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown
from data.speech.audio import wav_bytes

TIMEOUT = 120

pytestmark = pytest.mark.skipif(not (Path(os.environ["BACKPROP_DATA"]) / "fsdd").is_dir(),
                                reason="FSDD not under BACKPROP_DATA")


@pytest.fixture(scope="module")
def words():
    """Real held-out recordings: FSDD test takes (0-4) of one speaker, as 1-s 16 kHz clips."""
    from data.speech.datasets import load_fsdd
    clips = load_fsdd()
    out = {}
    for w, s, t, x in zip(clips.words, clips.speakers, clips.takes, clips.waves):
        if s == "theo" and t == 1:
            out[w] = x.numpy()
    return out


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "apps" / "speech.py"), default_timeout=TIMEOUT).run()


def texts(at: AppTest) -> str:
    return "\n".join(shown(e.value) for kind in ("markdown", "info", "error", "warning", "success", "caption")
                     for e in getattr(at, kind))


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


def heard(at: AppTest) -> str:
    lines = [m.value for m in at.markdown if "id='prediction'" in str(m.value)]
    assert lines, texts(at)
    return shown(lines[0].split("id='prediction'>")[1].split("<")[0])


def test_page_runs_on_the_shipped_model():
    at = app()
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Listen", "Teach it your words", "Train & retrain"]
    assert at.sidebar.radio[0].value == "Shipped model"


def test_a_recording_through_audio_input(words):
    at = app()
    at.audio_input(key="speech_record").set_value(("rec.wav", wav_bytes(words["seven"]), "audio/wav")).run()
    no_exception(at)
    assert heard(at) == "seven"


def test_an_8khz_stereo_upload_is_read_and_named(words):
    x = words["four"][::2]
    buf = io.BytesIO()
    sf.write(buf, np.stack([x, x], axis=1), 8000, format="WAV")
    at = app()
    at.file_uploader(key="speech_upload").set_value(("four.wav", buf.getvalue(), "audio/wav")).run()
    no_exception(at)
    assert heard(at) == "four"
    assert "averaged to mono" in texts(at) and "resampled to 16 kHz" in texts(at)


def many_channels(channels=64) -> bytes:
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", samplerate=16_000, channels=channels, format="OGG", subtype="VORBIS") as f:
        f.write(np.zeros((16_000, channels), np.float32))
    return buf.getvalue()


@pytest.mark.parametrize("name, data, message", [
    ("broken.wav", b"RIFF\x00\x00garbage", "not a readable audio file"),
    ("channels.ogg", many_channels(), "64 channels: recordings of up to 32"),
    ("notes.ogg", b"just some text", "not a readable audio file"),
    ("empty.wav", b"", "empty"),
])
def test_bad_uploads_get_messages(name, data, message):
    at = app()
    at.file_uploader(key="speech_upload").set_value((name, data, "audio/wav")).run()
    no_exception(at)
    assert any(message in shown(e.value) for e in at.error), texts(at)


def test_silence_is_reported_as_silence():
    at = app()
    at.audio_input(key="speech_record").set_value(("rec.wav", wav_bytes(np.zeros(16000)), "audio/wav")).run()
    no_exception(at)
    assert heard(at) == "_silence_" and any("silent" in i.value for i in at.info)


def test_a_long_recording_is_scanned_for_keywords(words):
    gap = np.zeros(8000, np.float32)
    rec = np.concatenate([gap, words["two"], gap, words["eight"], gap])
    at = app()
    at.audio_input(key="speech_record").set_value(("rec.wav", wav_bytes(rec), "audio/wav")).run()
    no_exception(at)
    assert heard(at) == "two · eight"
    assert at.dataframe[0].value["keyword"].tolist() == ["two", "eight"]


def test_teach_two_words_and_train_on_them(words):
    at = app()
    for word, clips in (("hot", [words["one"], words["three"], words["five"]]),
                        ("cold", [words["six"], words["eight"], words["zero"]])):
        at.text_input(key="speech_word").set_value(word).run()
        files = [(f"{word}{i}.wav", wav_bytes(c), "audio/wav") for i, c in enumerate(clips)]
        rnd = at.session_state["speech_teach_round"] if "speech_teach_round" in at.session_state else 0
        at.file_uploader(key=f"speech_teach_files_{rnd}").set_value(files).run()
        next(b for b in at.button if b.label == "Add these files").click().run()
        no_exception(at)
    assert len(at.session_state["speech_examples"]) == 6
    at.radio(key="speech__source").set_value("collected").run()
    at.number_input(key="speech__epochs").set_value(3)
    at.radio(key="speech__mode").set_value("Train from scratch")
    at.button(key="speech__start").click().run()
    no_exception(at)
    job = at.session_state["speech__job"]
    job.wait(TIMEOUT)
    at.run()
    no_exception(at)
    assert any("Trained 3 epochs" in s.value for s in at.success)
    active = at.session_state["speech__active"]
    assert at.session_state["speech__models"][active].predictor.labels == ["_silence_", "cold", "hot"]
    card = at.session_state["speech__models"][active].card
    assert card["data"]["dataset"] == "6 recordings made in the app and 8 clips of generated silence as _silence_"
    # the header names the twenty keywords: the page says the model in use knows others
    assert any("knows its own words: _silence_, cold, hot" in shown(i.value) for i in at.info)
    at.sidebar.radio[0].set_value("Shipped model").run()        # the shipped model is still there
    no_exception(at)
    assert not any("knows its own words" in shown(i.value) for i in at.info)


def test_bootstrap_a_word_with_synthetic_voices():
    from data.speech.synth import engines_available
    if not engines_available():
        pytest.skip("no speech synthesiser installed")
    at = app()
    at.text_input(key="speech_word").set_value("banana").run()
    at.slider(key="speech_n_voices").set_value(4).run()
    next(b for b in at.button if b.label.startswith("Bootstrap with 4")).click().run()
    no_exception(at)
    assert [label for _, label in at.session_state["speech_examples"]] == ["banana"] * 4


def test_other_words_as_unknown_are_none_of_the_taught_ones():
    from data.speech.synth import engines_available, other_words
    assert "hello" not in other_words(["hello", "Banana"], 100)
    first, more = other_words([], 8), other_words([], 8, start=8)
    assert len(set(first + more)) == 16 and first == other_words([], 8)
    if not engines_available():
        pytest.skip("no speech synthesiser installed")
    at = app()
    assert not [b for b in at.button if "as `_unknown_`" in b.label and not b.disabled]   # nothing taught yet
    at.text_input(key="speech_word").set_value("hello").run()
    at.slider(key="speech_n_voices").set_value(6).run()
    next(b for b in at.button if b.label.startswith("Bootstrap with 6")).click().run()
    next(b for b in at.button if b.label.startswith("Add 18 clips of other words")).click().run()   # three times 6
    no_exception(at)
    labels = [label for _, label in at.session_state["speech_examples"]]
    assert labels == ["hello"] * 6 + ["_unknown_"] * 18
    assert "**_unknown_** 18" in texts(at)


def test_the_sample_shelf_sends_a_real_recording_with_one_click():
    at = app()
    shelf = [b for b in at.button if b.key and b.key.startswith("speech_shelf_")]
    assert len(shelf) == 10 and shelf[0].label == "“yes”"
    assert "Speech Commands v0.02" in texts(at) and "CC BY 4.0" in texts(at)
    shelf[0].click().run()
    no_exception(at)
    assert "The sample “yes”" in texts(at)
    assert heard(at) == "yes"
    # a recording made afterwards takes over from the sample
    at.audio_input(key="speech_record").set_value(("r.wav", wav_bytes(np.zeros(16000, np.float32)), "audio/wav")).run()
    no_exception(at)
    assert heard(at) == "_silence_"


def test_the_sidebar_says_how_reliable_each_word_is():
    at = app()
    no_exception(at)
    body = "\n".join(str(m.value) for m in at.sidebar.markdown) + "\n".join(str(c.value) for c in at.sidebar.caption)
    assert "25 Speech Commands speakers the model never trained on" in body
    assert "commands 95.3%" in body and "Least reliable" in body
    table = at.sidebar.dataframe[0].value
    assert {"yes", "stop", "other words → _unknown_", "noise → _silence_"} <= set(table["word"])
