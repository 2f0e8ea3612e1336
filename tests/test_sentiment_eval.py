"""python -m models.sentiment.eval --custom: the model beside VADER (and the TF-IDF peers, with the
datasets) on a user's own labelled texts, and a clear error for files it cannot compare on."""
import pytest

from data.core.errors import DataError
from data.sentiment import datasets as sd
from models.sentiment import eval as se


@pytest.mark.parametrize("labels, targets, left_out", [
    (["positive", "negative", "positive"], [1, 0, 1], 0),
    (["POS", "neg", "neutral"], [1, 0], 1),
    (["1", "0", "1.0"], [1, 0, 1], 0),
    (["-1", "0", "1"], [0, 1], 1),
    (["5", "1", "3", "2", "4"], [1, 0, 0, 1], 1),
    (["good", "bad"], [1, 0], 0),
], ids=["names", "short names and neutral", "0/1", "-1/0/1", "stars", "good/bad"])
def test_labels_are_read_as_negative_or_positive(labels, targets, left_out):
    rows = "\n".join(f"text {i},{lab}" for i, lab in enumerate(labels))
    texts, how = sd.as_polarity(sd.read_labelled(f"text,label\n{rows}\n"))
    assert texts.labels == ["negative", "positive"] and texts.targets == targets
    assert len(texts) == len(labels) - left_out
    assert ("neutral row" in how) == bool(left_out)


@pytest.mark.parametrize("data, message", [
    ("text,label\na,sports\nb,politics\n", "Label the rows negative/positive"),
    ("text,label\na,5\nb,4\n", "only one of the two is left"),
    ("text,label\na,neutral\nb,positive\n", "only one of the two is left"),
    ("text,label\na,7\nb,9\n", "Label the rows"),
], ids=["topics", "all positive stars", "neutral and positive", "not stars"])
def test_labels_it_cannot_read_are_a_clear_error(data, message):
    with pytest.raises(DataError, match=message):
        sd.as_polarity(sd.read_labelled(data))


def test_without_the_datasets_it_compares_with_vader_on_your_texts(tmp_path, capsys):
    mine = tmp_path / "mine.csv"
    mine.write_text("review,stars\n\"Works perfectly, I love it\",5\nBroke after a day. Useless.,1\nIt's fine,3\n"
                    f"{'a' * 30_000},5\n,4\n")
    assert se.main(["--data", str(tmp_path / "nothing"), "--custom", str(mine), "--repeats", "1"]) == 0
    out = capsys.readouterr()
    rows = [line.split()[0] for line in out.out.splitlines()[2:4]]
    assert rows == ["SentiNet", "VADER"] and "your texts" in out.out
    assert "SST-2 is missing" in out.out and "n = 2 your texts" in out.out
    assert "1 neutral row left out" in out.err and "30,000 characters" in out.err and "no text" in out.err


def test_the_columns_can_be_named(tmp_path, capsys):
    mine = tmp_path / "mine.csv"
    mine.write_text("id,product,category,rating,notes,review\n1,a,books,tv,x,awful stuff\n2,b,tv,books,y,great thing\n")
    argv = ["--data", str(tmp_path / "nothing"), "--custom", str(mine), "--repeats", "1"]
    assert se.main(argv) == 2                              # 'rating' holds no stars here
    assert "Label the rows" in capsys.readouterr().err
    mine.write_text("id,verdict,notes\n1,awful stuff,bad\n2,great thing,good\n")
    assert se.main(argv + ["--text-column", "Verdict", "--label-column", "notes"]) == 0
    assert "n = 2 your texts" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("text,label\na,sports\nb,politics\n", "Label the rows"),
    ("", "empty"),
    (None, "cannot read"),
    ("text,label\n" + "good,1\nbad,0\n" * 10, "is over"),
], ids=["topics", "empty", "missing", "too big"])
def test_files_it_cannot_compare_on_are_a_clear_error(tmp_path, capsys, monkeypatch, content, message):
    monkeypatch.setattr(sd, "MAX_FILE_BYTES", 100)     # training reads through the same bound
    path = tmp_path / "mine.csv"
    if content is not None:
        path.write_text(content)
    assert se.main(["--data", str(tmp_path), "--custom", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_a_model_that_does_not_say_negative_or_positive_is_refused(tmp_path, capsys, monkeypatch):
    class Topics:
        labels = ["politics", "sports"]
    monkeypatch.setattr(se, "load_predictor", lambda task, weights: Topics())
    (tmp_path / "x.csv").write_text("text,label\ngood,1\nbad,0\n")
    assert se.main(["--weights", "runs/topics", "--custom", str(tmp_path / "x.csv")]) == 2
    assert "negative or positive" in capsys.readouterr().err


def test_written_sentences_are_counted_by_kind():
    found = sd.Texts(["great", "awful", "meh", "ok :/"], [1, 0, 0, 0], ["negative", "positive"])
    kinds = ["idiom", "idiom", "hedge", "emoticon"]
    said = {"model": ["positive", "negative", "positive", "negative"],
            "vader": ["positive", "positive", "negative", "negative"]}
    counts = se.by_kind(kinds, found, said)
    assert counts == {"emoticon": {"n": 1, "model": 1, "vader": 1}, "hedge": {"n": 1, "model": 0, "vader": 1},
                      "idiom": {"n": 2, "model": 2, "vader": 1}}
    r = {"weights": "shipped", "sets": {"phrasings": 4}, "train_sentences": None, "threads": 2, "notes": [],
         "rows": {"model": {"phrasings": 0.75, "sentences_per_s": 1.0}, "vader": {"phrasings": 0.75, "sentences_per_s": 1.0}},
         "margins_over_best_peer_points": {"phrasings": 0.0}, "written_by_kind": counts}
    lines = se.table(r).splitlines()
    assert lines[-4].split()[-2:] == ["SentiNet", "VADER"] and lines[-1].split() == ["idiom", "2", "2", "1"]


def test_the_comparison_with_vader_reads_a_bounded_share_of_a_long_file():
    found = sd.Texts(["good fun", "awful", "great " * 10, "bad"], [1, 0, 1, 0], ["negative", "positive"])
    ours = {"good fun": "positive", "awful": "negative", "great " * 10: "negative", "bad": "negative"}
    r = se.versus_vader(found, ours)
    assert r == {"n": 4, "cut": False, "model": 0.75, "vader": 1.0}
    r = se.versus_vader(found, ours, max_chars=20)       # the rows up to 20 characters: the first two
    assert r["n"] == 2 and r["cut"] and r["model"] == 1.0
    assert se.versus_vader(found, ours, max_chars=1)["n"] == 1     # at least one row, however long
