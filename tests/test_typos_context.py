"""Candidates that reach further than two edits, poor spellers' noise, and the words
around a typo (models/typos/context.py, models/typos/sentences.py)."""
import random

import pytest
from editdistpy import damerau_osa

from data.typos import spelling
from data.typos.context import CONTRACTIONS, confusion_sets, inject_errors, split_of
from data.typos.noise import NoiseModel
from data.typos.phonetic import drop_syllable, respell
from data.typos.sounds import SoundIndex, consonant_key, sound_key
from models import load_predictor
from models.typos import context


@pytest.fixture(scope="module")
def predictor():
    return load_predictor("typos")


def test_phonetic_keys_match_what_poor_spellers_write():
    assert sound_key("fotograf") == sound_key("photograph")
    assert sound_key("nollij") == sound_key("knowledge")
    assert consonant_key("bisnes") == consonant_key("business") == "bsns"
    assert consonant_key("") == sound_key("") == ""


def test_sound_index_reaches_words_many_edits_away():
    counts = {"photograph": 900, "autograph": 50, "knowledge": 800, "business": 700, "enough": 1000,
              "desert": 300, "dessert": 200}
    index = SoundIndex(counts)
    for typo, word in [("fotograf", "photograph"), ("nollij", "knowledge"), ("bisnes", "business"),
                       ("enuff", "enough")]:
        assert damerau_osa.distance(typo, word, 2) < 0            # out of a two-edit search's reach
        found = index.lookup(typo, n=3)
        assert word in found.words, (typo, found)
        assert found.distances[found.words.index(word)] >= 3
    assert index.lookup("fotograf", exclude={"photograph"}).words == ["autograph"]
    assert index.lookup("").words == [] and index.lookup("zzzzzz").words == []


def test_the_shipped_index_has_the_far_candidates(predictor):
    for typo, word in [("fotograf", "photograph"), ("acomodashun", "accommodation"), ("enuff", "enough")]:
        c = predictor.index.lookup(typo)
        assert word in c.words and c.sources[c.words.index(word)] in ("sound", "consonants"), (typo, c)
    c = predictor.index.lookup("sesert")                          # a common word one slip away: edits only
    assert set(c.sources) == {"edits"} and "desert" in c.words


def test_poor_spellers_noise_writes_words_as_they_sound():
    rng = random.Random(0)
    seen = {respell("photograph", rng) for _ in range(200)}
    assert "fotograf" in seen
    assert "speshal" in {respell("special", rng) for _ in range(200)}
    assert "intresting" in {drop_syllable("interesting", rng) for _ in range(200)}
    assert respell("a", rng) is None and drop_syllable("cat", rng) is None
    noise = NoiseModel(seed=1)
    far = sum(damerau_osa.distance(w, noise.by_ear(w)[0], 2) < 0
              for w in ["photograph", "accommodation", "knowledge", "necessary", "schizophrenic"] * 40)
    assert far > 40                                                # often three or more edits away


def test_the_shipped_model_corrects_poor_spellers_words(predictor):
    got = {w: r["label"] for w, r in zip(["fotograf", "acomodashun", "sesert"],
                                         predictor.predict(["fotograf", "acomodashun", "sesert"]))}
    assert got == {"fotograf": "photograph", "acomodashun": "accommodation", "sesert": "desert"}


def test_context_scorer_prefers_the_word_that_fits():
    lm = context.scorer()
    assert lm.context("a", "piece", "of") > lm.context("a", "peace", "of")
    assert lm.context("it", "from", "the") > lm.context("it", "form", "the")
    assert lm.real_word("form", "it", "the")[0] == "from"
    assert lm.real_word("from", "it", "the") is None               # a right word stays
    assert lm.real_word("desert", None, None) is None              # no context, no change
    ranked = lm.rerank([("snuff", 0.6), ("enough", 0.4)], "good", None)
    assert ranked[0]["word"] == "enough" and ranked[0]["context"] == 0.0


def test_confusion_sets_are_symmetric_and_contractions_score_as_two_words():
    sets = confusion_sets()
    assert "piece" in sets["peace"] and "peace" in sets["piece"] and "they're" in sets["their"]
    assert all(w in sets[p] for w, ps in sets.items() for p in ps)
    assert CONTRACTIONS["they're"] == ("they", "are")


@pytest.mark.parametrize("typed, meant", [
    ("I red the book yesterday.", "I read the book yesterday."),
    ("Their going home now.", "They're going home now."),
    ("We knew it form the start.", "We knew it from the start."),
    ("It was a peace of cake.", "It was a piece of cake."),
])
def test_real_word_errors_are_fixed_in_context(predictor, typed, meant):
    result = predictor.correct_text(typed)
    assert result["text"] == meant
    assert [c["source"] for c in result["changes"]] == ["context"]
    assert "fits between its neighbours" in context.why(result["changes"][0])


@pytest.mark.parametrize("text", [
    "I have a piece of advice.", "They are there, and their dog is too.", "Mr. Cuomo met Dr. Dinkins.",
    "The PBS show aired on TV in the neighborhood theater.", "It was quite quiet.",
])
def test_right_words_names_and_acronyms_stay(predictor, text):
    assert predictor.correct_text(text)["text"] == text
    assert predictor.correct_text(text, use_context=False)["text"] == text


def test_changes_say_where_their_candidates_came_from(predictor):
    changes = predictor.correct_text("The sesert fotograf was good.")["changes"]
    assert [(c["correction"], c["source"]) for c in changes] == [("desert", "edits"), ("photograph", "sound")]
    assert all(set(context.SOURCES) >= {c["source"]} and context.why(c) for c in changes)


def test_injected_errors_are_known_and_the_rest_untouched():
    sentence = "The piece of land was sold to their neighbours for a separate price."
    case = inject_errors(sentence, {"separate": ["seperate"]}, random.Random(0), rate=1.0)
    kinds = dict(zip([m for m, _ in case.truth], case.kinds))
    assert [meant for _, meant in case.truth][:3] == ["The", "piece", "of"]
    assert "seperate" in case.text and kinds["seperate"] == "misspelling"
    assert any(k == "real-word" for k in case.kinds)
    assert inject_errors(sentence, {}, random.Random(0), rate=0.0).text == sentence
    assert split_of(sentence) in ("dev", "test") and split_of(sentence) == split_of(sentence)


def test_sentence_evaluation_counts_fixes_and_breakages(predictor):
    from models.typos.sentences import error_sentences, run, score
    cases = error_sentences("test", n=60, seed=0)
    perfect = score(cases, [" ".join(meant for _, meant in c.truth) for c in cases])
    untouched = score(cases, [c.text for c in cases])
    assert perfect["correct_changed"] == 0 and perfect["real_word_fixed"] == perfect["real_word_errors"]
    assert untouched["real_word_fixed"] == untouched["misspellings_fixed"] == 0
    assert untouched["correct_changed"] == 0 and untouched["real_word_errors"] > 0
    result = run(split="test", n=60, peers=False)
    ours = result["rows"]["TypoNet + context"]
    assert ours["real_word_fixed"] > 0 and ours["misspellings_fixed"] > result["rows"]["TypoNet alone"]["misspellings_fixed"] - 3
    assert ours["correct_changed"] / ours["correct_words"] < 0.02


def test_the_evaluation_has_a_hard_split_with_its_oracle():
    from models.typos.eval import candidate_report, compare, table
    result = compare(sample=120, hard_sample=80, baselines=("symspellpy",))
    hard = result["splits"]["hard"]
    assert hard["pairs"] > 60 and set(hard["skipped"]) == {"Norvig", "pyspellchecker"}
    assert hard["rows"]["symspellpy"]["accuracy"] == 0.0             # all three or more edits away
    assert hard["rows"]["TypoNet (ours)"]["accuracy"] > 0.3
    assert "misspellings 3+ edits away" in table(result)
    report = candidate_report(sample=120, hard_sample=80)
    assert report["hard"]["oracle"]["edits (two-edit search)"] == 0.0
    assert report["hard"]["oracle"]["edits + sound + consonants (all)"] > 0.5
    assert report["common"]["oracle"]["edits + sound + consonants (all)"] > 0.95


def test_the_typos_commands_refuse_bad_weights_with_a_message(tmp_path, capsys):
    from models.typos import eval as typos_eval, sentences
    missing = str(tmp_path / "nope")
    assert typos_eval.main(["--weights", missing, "--candidates"]) == 2
    assert "No weights at" in capsys.readouterr().err
    assert sentences.main(["--weights", missing, "--n", "5"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
