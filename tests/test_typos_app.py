"""The Typos page under streamlit's AppTest: it corrects a word and a paragraph on
the shipped model, learns a taught typo, and bad input gets a message rather
than a traceback."""
import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, shown

TIMEOUT = 120


@pytest.fixture
def at() -> AppTest:
    return AppTest.from_file(str(ROOT / "apps" / "typos.py"), default_timeout=TIMEOUT).run()


def no_exception(at: AppTest):
    assert not at.exception, [e.value for e in at.exception]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_the_page_runs_on_the_shipped_model(at):
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Correct", "Teach it a typo", "Your own vocabulary", "Train"]
    assert at.sidebar.radio[0].value == "Shipped model"
    assert any("on real misspellings (codespell)" in shown(c.value) for c in at.sidebar.caption)
    # nothing typed yet: a hint, not an error
    assert any("Type a word" in i.value for i in at.info) and not at.error


def test_a_word_gets_its_correction_and_candidates(at):
    at.text_input(key="typos_word").input("sesert").run()
    no_exception(at)
    assert "<span id='correction'>desert</span>" in markdown(at)
    at.text_input(key="typos_word").input("desert").run()
    assert any("known word" in s.value for s in at.success)


def test_a_paragraph_comes_back_marked_with_the_changes_listed(at):
    at.text_area(key="typos_text").input("The sesert was wrold famous,\n<b>x</b> (thier) freind $5.").run()
    no_exception(at)
    html = next(m.value for m in at.markdown if "id='corrected'" in m.value)
    assert '<mark title="you typed: wrold · alternatives: world' in html
    assert "&lt;b&gt;x&lt;/b&gt; (<mark" in html and "&#36;5" in html    # the user's text is escaped, never run
    assert at.code[0].value == "The desert was world famous,\n<b>x</b> (their) friend $5."
    changes = at.dataframe[0].value
    assert list(changes["you typed"]) == ["sesert", "wrold", "thier", "freind"]
    assert list(changes["line"]) == [1, 1, 2, 2]


def test_the_page_says_where_candidates_came_from_and_why(at):
    at.text_input(key="typos_word").input("fotograf").run()
    no_exception(at)
    assert "<span id='correction'>photograph</span>" in markdown(at)
    found = at.dataframe[0].value
    assert found["found by"].iloc[0].startswith("sound") and found["candidate"].iloc[0] == "photograph"
    at.text_area(key="typos_text").input("We knew it form the start, and the sesert was hot.").run()
    no_exception(at)
    changes = at.dataframe[1].value
    assert list(changes["found by"]) == ["context", "edits"]
    assert "fits between its neighbours" in changes["why"].iloc[0]
    assert at.code[0].value == "We knew it from the start, and the desert was hot."


@pytest.mark.parametrize("text, kind, message", [
    ("", "info", "Paste or type a paragraph"),
    ("   ", "info", "Paste or type a paragraph"),
    ("a" * 100_000, "error", "correct at most 20,000 at once"),
    ("🙂🙂 ✓ Ωμέγα 日本語 3.14 https://x.org", "success", "No typos found"),
], ids=["empty", "blank", "100k characters", "emoji and other scripts"])
def test_bad_or_odd_text_gets_a_message(at, text, kind, message):
    at.text_area(key="typos_text").input(text).run()
    no_exception(at)
    assert any(message in e.value for e in getattr(at, kind)), [e.value for e in getattr(at, kind)]


@pytest.mark.parametrize("word", ["🙂", "日本語", "x" * 5_000], ids=["emoji", "other script", "5000 letters"])
def test_odd_words_pass_through(at, word):
    at.text_input(key="typos_word").input(word).run()
    no_exception(at)
    assert any("passes through unchanged" in i.value for i in at.info)


def test_teach_a_typo_then_compare_before_and_after(at):
    at.text_area(key="typos_pairs").input("sesert -> dessert").run()
    no_exception(at)
    now = at.dataframe[0].value
    assert list(now["you type"]) == ["sesert"] and "dessert" not in now["now"][0]
    assert len(at.dataframe[1].value) == 12                     # the control set
    at.number_input(key="typos_teach__epochs").set_value(1)
    at.button(key="typos_teach__start").click().run()
    no_exception(at)
    job = at.session_state["typos_teach__job"]
    job.wait(TIMEOUT)
    assert not job.running
    at.run()
    no_exception(at)
    assert at.session_state["typos__active"].startswith("Your model 1")
    assert "Before and after teaching" in markdown(at)
    taught, control = (d.value for d in at.dataframe[-2:])
    assert taught["after"][0].startswith("✓ dessert") and not taught["before"][0].startswith("✓")
    assert sum(a.startswith("✓") for a in control["after"]) >= 11       # it did not forget


def test_teaching_a_word_it_cannot_learn_is_explained(at):
    at.text_area(key="typos_pairs").input("typo,correction\nqwzx,qwzxqwzx").run()
    no_exception(at)
    assert any("Not in the vocabulary" in shown(e.value) for e in at.error)
    assert at.button(key="typos_teach__start").disabled
    at.text_area(key="typos_pairs").input("teh the").run()
    assert any("expected two: typo,correction" in shown(e.value) for e in at.error)


def test_bad_uploads_get_clear_errors(at):
    at.file_uploader(key="typos_pairs_file").set_value(("pairs.csv", b"teh,the\nrecieve,receive,x\n", "text/csv"))
    at.file_uploader(key="typos_vocab_file").set_value(("words.txt", b"hello\nw0rd\nc3po\n", "text/plain")).run()
    no_exception(at)
    errors = [shown(e.value) for e in at.error]
    assert any(e.startswith("pairs.csv: Line 2 has 3 columns") for e in errors), errors
    assert any(e.startswith("words.txt: 2 of the word list's 3 lines are no word") for e in errors), errors
    assert at.button(key="typos_vocab__prepare").disabled and at.button(key="typos_vocab_eval").disabled


def test_uploaded_pairs_are_read_and_evaluated(at):
    at.file_uploader(key="typos_vocab_file").set_value(("words.txt", b"zorbl 50\nqwixle 20\nthe\ni'm 9\n", "text/plain"))
    at.file_uploader(key="typos_pairs_file").set_value(
        ("pairs.csv", b"typo,correction\nteh,the\nwrold,world\nzorbel,zorbl\n", "text/csv")).run()
    no_exception(at)
    assert any("Read 3 words; 2 of them are new" in s.value for s in at.success)
    assert any(shown(w.value).startswith("1 line left out") and "line 4: 'i'm' is not a word" in shown(w.value)
               for w in at.warning), [w.value for w in at.warning]
    assert any("Read 3 pairs" in s.value for s in at.success)
    at.button(key="typos_vocab_eval").click().run()
    no_exception(at)
    assert next(m for m in at.metric if m.label == "Accuracy").value == "66.7%"
    assert any("not in the model's vocabulary" in c.value and "your word list holds them" in c.value
               for c in at.caption)


def test_home_lists_typos():
    at = AppTest.from_file(str(ROOT / "apps" / "home.py"), default_timeout=TIMEOUT).run()
    no_exception(at)
    assert any("Typos" in s.value for s in at.subheader)
    assert any(m.value == "TypoNet" for m in at.metric)


def test_the_changes_table_shows_the_alternatives_in_full(at):
    """The table of changes spans the page, the alternatives come before the long "why" and get a
    wide column: squeezed into the text's column, they were cut off."""
    import json
    at.text_area(key="typos_text").input("The sesert was wrold famous").run()
    no_exception(at)
    table = at.dataframe[0]
    assert list(table.proto.column_order) == ["you typed", "corrected to", "network's probability",
                                              "alternatives", "found by", "why"]
    assert json.loads(table.proto.columns)["alternatives"]["width"] == "large"
    assert table.value["alternatives"].iloc[0].startswith("desert ")
    correct_tab = at.tabs[0]
    assert len(correct_tab.dataframe) == 1 and all(len(col.dataframe) == 0 for col in correct_tab.columns)
