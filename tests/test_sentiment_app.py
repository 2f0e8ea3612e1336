"""The Sentiment page under streamlit's AppTest: every tab on the shipped model,
and bad input (empty, 100,000 characters, emoji only, another script, CSVs without
a text column or with one label) gets a message, never a traceback."""
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown

TIMEOUT = 180


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_file(str(ROOT / "apps" / "sentiment.py"), default_timeout=TIMEOUT).run()


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def upload(at: AppTest, key: str, name: str, data: bytes | str) -> AppTest:
    data = data if isinstance(data, bytes) else data.encode()
    return at.file_uploader(key=key).set_value((name, data, "text/csv")).run()


def test_the_page_runs_on_the_shipped_model(at):
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Read a text", "Score a CSV", "RNN vs LSTM vs GRU", "Train on your data"]
    assert at.sidebar.radio[0].value == "Shipped model"
    assert any("Type or paste" in i.value for i in at.info) and not at.error


def test_a_review_gets_a_verdict_a_curve_and_word_colours(at):
    at.text_area(key="sent_text").input("The food was cold and the waiter was rude.").run()
    no_exception(at)
    md = markdown(at)
    assert "<span id='verdict'>negative</span>" in md
    assert "id='contributions'" in md and "rude" in md
    # the lexicon most people would otherwise use, on the same text
    assert any(c.value.startswith("VADER") and "**negative**" in c.value and "as the network does" in c.value for c in at.caption)


def test_an_example_fills_the_box(at):
    at.selectbox(key="sent_example").select_index(2).run()
    no_exception(at)
    assert at.text_area(key="sent_text").value.startswith("Battery lasts")
    assert "<span id='verdict'>positive</span>" in markdown(at)


@pytest.mark.parametrize("text, kind, message", [
    ("", "info", "Type or paste"),
    ("   ", "info", "Type or paste"),
    ("a" * 100_000, "error", "paste at most 20,000"),
    ("🙂🙂🙂", "warning", "None of these tokens"),
    ("这部电影很好看", "warning", "None of these tokens"),
    ("great " * 300, "warning", "first 128 tokens"),
], ids=["empty", "blank", "100k characters", "emoji only", "another script", "long"])
def test_bad_or_odd_text_gets_a_message(at, text, kind, message):
    at.text_area(key="sent_text").input(text).run()
    no_exception(at)
    assert any(message in e.value for e in getattr(at, kind)), [e.value for e in getattr(at, kind)]


def test_score_a_csv_and_bad_csvs(at):
    at = upload(at, "sent_score_file", "reviews.csv", "id,text\n1,I loved it\n2,Awful and boring\n3,\n")
    no_exception(at)
    assert any("Scored 2 texts" in s.value for s in at.success)
    df = at.dataframe[0].value
    assert list(df["predicted sentiment"][:2]) == ["positive", "negative"]
    assert not at.metric                      # no label column: scoring alone
    assert not at.warning
    # a comma in an unquoted text makes a row wider than the header: scored, and the user is told
    at = upload(at, "sent_score_file", "commas.csv", "id,text\n1,great, really great\n2,Awful and boring\n")
    no_exception(at)
    assert any("Scored 2 texts" in s.value for s in at.success)
    assert any("1 row of 2 has more values than the header's 2" in w.value for w in at.warning)
    assert list(at.dataframe[0].value.columns) == ["id", "text", "predicted sentiment", "probability"]
    # the file's own columns are kept: a repeated or blank name, and a "sentiment" column of its own
    at = upload(at, "sent_score_file", "own.csv", ",text,text,sentiment\n1,great film,x,negative\n")
    no_exception(at)
    df = at.dataframe[0].value
    assert list(df.columns) == ["column 1", "text", "text (2)", "sentiment", "predicted sentiment", "probability"]
    assert list(df["sentiment"]) == ["negative"] and list(df["predicted sentiment"]) == ["positive"]
    assert any(s.value.startswith("Scored 1 text.") for s in at.success)
    at = upload(at, "sent_score_file", "labelled.csv",
                "review,stars\nI loved it,5\nAwful and boring,1\nfine I guess,3\n\"great, just great. It broke\",1\n")
    no_exception(at)
    assert any("Scored 4 texts" in s.value for s in at.success)
    assert any("Your file has labels too" in m.value and "3 labelled rows" in m.value for m in at.markdown)
    assert [m.label for m in at.metric] == ["this network is right", "VADER is right"]
    # a TSV of reviews full of commas, and a .txt of them, one a line
    at = upload(at, "sent_score_file", "reviews.tsv", "id\ttext\n1\tgreat food, nice staff, cheap, fast\n")
    no_exception(at)
    assert list(at.dataframe[0].value["text"]) == ["great food, nice staff, cheap, fast"] and not at.warning
    at = upload(at, "sent_score_file", "reviews.txt", "great food, nice staff\nawful, slow, rude\n")
    no_exception(at)
    assert list(at.dataframe[0].value["predicted sentiment"]) == ["positive", "negative"]
    at = upload(at, "sent_score_file", "bad.csv", "id,words\n1,hi\n")
    no_exception(at)
    assert any("No text column" in e.value for e in at.error)


def test_train_on_a_csv_with_one_label_is_refused(at):
    at = upload(at, "sent_train_file", "one.csv", "text,label\ngood,pos\nnice,pos\n")
    no_exception(at)
    assert any("at least two different labels" in e.value for e in at.error)
    at = upload(at, "sent_train_file", "none.csv", "words,label\ngood,pos\nbad,neg\n")
    assert any("No text column" in e.value for e in at.error)


def test_the_columns_are_guessed_and_can_be_chosen(at):
    # a product's category had been trained on instead of its rating, the first label name found
    data = "id,product,category,rating,review\n" + "".join(
        f"{i},p{i},{'books' if i % 2 else 'tv'},{1 + 4 * (i % 3 == 0)},{'great' if i % 3 == 0 else 'awful'} {i}\n"
        for i in range(30))
    at = upload(at, "sent_train_file", "mine.csv", data)
    no_exception(at)
    text_box, label_box = (s for s in at.selectbox if s.key.startswith("sent_train_"))
    assert (text_box.value, label_box.value) == (4, 3)
    # stars are read as the shipped model's classes unless the box is unticked
    assert any("Read 30 texts in 2 classes: negative (20), positive (10)" in s.value for s in at.success)
    polar = next(c for c in at.checkbox if c.key.startswith("sent_train_polar_"))
    assert "stars: 1-2 negative, 4-5 positive" in polar.label
    polar.uncheck().run()
    assert any("Read 30 texts in 2 classes: 1 (20), 5 (10)" in s.value for s in at.success)
    label_box = next(s for s in at.selectbox if s.key.startswith("sent_train_label"))
    label_box.set_value(2).run()
    no_exception(at)
    assert any("2 classes: books (15), tv (15)" in s.value for s in at.success)
    assert not [c for c in at.checkbox if c.key.startswith("sent_train_polar_")]      # topics are no polarity
    label_box = next(s for s in at.selectbox if s.key.startswith("sent_train_label"))
    label_box.set_value(4).run()
    assert any("the same column" in e.value for e in at.error)
    # a header none of whose names says text: chosen by hand
    at = upload(at, "sent_train_file", "odd.csv", "a,b\n" + "".join(f"{w} {i},{y}\n" for i, (w, y) in
                                                                     enumerate([("good", 1), ("bad", 0)] * 10)))
    assert any("No text column" in e.value and "choose the column" in e.value for e in at.error)
    next(s for s in at.selectbox if s.key.startswith("sent_train_text")).set_value(0).run()
    next(s for s in at.selectbox if s.key.startswith("sent_train_label")).set_value(1).run()
    no_exception(at)
    assert any("Read 20 texts in 2 classes" in s.value for s in at.success)


def test_a_scored_file_uploaded_again_is_not_graded_by_its_own_predictions(at):
    at = upload(at, "sent_score_file", "reviews.csv", "text\nI loved it\nAwful and boring\n")
    scored = at.dataframe[0].value.to_csv(index=False)
    at = upload(at, "sent_score_file", "scored.csv", scored)
    no_exception(at)
    assert not at.metric                   # its "predicted sentiment" column is no label column
    assert list(at.dataframe[0].value.columns) == ["text", "predicted sentiment", "probability",
                                                   "predicted sentiment (model)", "probability (model)"]
    # labels that cannot be read as negative / positive: said, not silently dropped
    at = upload(at, "sent_score_file", "topics.csv", "text,category\ngreat phone,tech\nawful pasta,food\n")
    assert any("'category' looks like labels but is not compared with VADER" in shown(c.value) for c in at.caption)
    # Amazon polarity's 1/2 and Sentiment140's 0/4 are compared
    at = upload(at, "sent_score_file", "polarity.csv", "text,label\nI loved it,2\nAwful and boring,1\n")
    assert any("1 negative, 2 positive" in m.value for m in at.markdown)
    at = upload(at, "sent_score_file", "s140.csv", "text,target\nI loved it,4\nAwful and boring,0\nmeh,2\n")
    assert any("as in Sentiment140" in m.value for m in at.markdown)


def test_epochs_follow_a_small_data_set_until_set_by_hand(at):
    assert at.number_input(key="sent_custom__epochs").value == 4
    rows = ["text,label"] + [f"{w} service,{lab}" for w, lab in [("great", "yay"), ("slow", "nay")] * 30]
    at = upload(at, "sent_train_file", "small.csv", "\n".join(rows))     # 48 to train on: 2 batches of 32
    assert at.number_input(key="sent_custom__epochs").value == 30
    assert any("30 epochs of 48 training examples in batches of 32: 60 weight updates" in c.value
               for c in at.caption)
    at.number_input(key="sent_custom__epochs").set_value(7).run()
    at = upload(at, "sent_train_file", "more.csv", "\n".join(rows + rows[1:]))
    assert at.number_input(key="sent_custom__epochs").value == 7          # the user's choice stays
    no_exception(at)


def test_fine_tune_on_a_csv_then_use_it(at):
    rows = ["text,label"] + [f"{w} service,{lab}" for w, lab in [("great", "yay"), ("kind", "yay"),
                                                                 ("slow", "nay"), ("rude", "nay")] * 5]
    at = upload(at, "sent_train_file", "mine.csv", "\n".join(rows))
    no_exception(at)
    assert any("Read 20 texts in 2 classes" in s.value for s in at.success)
    at.number_input(key="sent_custom__epochs").set_value(1)
    at.button(key="sent_custom__start").click().run()
    job = at.session_state["sent_custom__job"]
    job.wait(120)
    at.run()
    at.run()
    no_exception(at)
    assert at.sidebar.radio[0].value.startswith("Your model 1")
    at.button(key="sent_custom__evaluate").click().run()
    no_exception(at)
    assert any(m.label == "Validation accuracy" for m in at.metric)      # your data: no test set of its own
    at.text_area(key="sent_text").input("great service").run()
    assert "<span id='verdict'>yay</span>" in markdown(at) or "<span id='verdict'>nay</span>" in markdown(at)


@pytest.mark.skipif(not (Path(os.environ["BACKPROP_DATA"]) / "sentiment" / "sst2").is_dir(),
                    reason="SST-2 not under BACKPROP_DATA: the comparison trains on it")
def test_rnn_lstm_gru_comparison(at):
    at.select_slider(key="sent_bptt_n").set_value(500)
    at.number_input(key="sent_bptt_epochs").set_value(1)
    at.radio(key="sent_bptt_clip").set_value("on (1.0)")
    at.button(key="sent_bptt_start").click().run()
    no_exception(at)
    runs = at.session_state["sent_bptt_runs"]
    assert [r.cell for r in runs] == ["rnn", "lstm", "gru"]
    table = at.dataframe[0].value
    assert list(table["network"]) == ["RNN, clip 1", "LSTM, clip 1", "GRU, clip 1"]
    # the text follows the run: these runs clipped, so clipping is explained
    assert any("Clipping caps the size of each update" in c.value for c in at.caption)
