"""The classic correctors: Norvig's documented examples, obvious typos, evaluate().

All correctors share symspellpy's 82k vocabulary, as in a real comparison; building
SymSpell over it is the slow part (a few seconds), hence the module-scoped fixtures.
"""
import pytest

pytest.importorskip("symspellpy")

from models.typos.baselines import (  # noqa: E402  (after the skip on purpose)
    NORVIG_EXAMPLES,
    Norvig,
    PySpellCheckerBaseline,
    SymSpellBaseline,
    codespell_pairs,
    damerau_levenshtein,
    evaluate,
    oracle_coverage,
    reproduce_norvig,
    symspell_counts,
)

OBVIOUS = {"teh": "the", "recieve": "receive", "speling": "spelling"}
KNOWN = ["the", "receive", "spelling", "network", "quintessential"]


@pytest.fixture(scope="module")
def counts():
    return symspell_counts()


@pytest.fixture(scope="module")
def norvig(counts):
    return Norvig(counts)


@pytest.fixture(scope="module", params=["norvig", "symspellpy", "pyspellchecker", "pyspellchecker-en"])
def corrector(request, counts, norvig):
    if request.param == "norvig":
        return norvig
    if request.param == "symspellpy":
        return SymSpellBaseline(counts)
    pytest.importorskip("spellchecker")
    return PySpellCheckerBaseline(counts if request.param == "pyspellchecker" else None)


@pytest.mark.parametrize("typo, expected", NORVIG_EXAMPLES.items())
def test_norvig_documented_examples(norvig, typo, expected):
    assert norvig.correct(typo) == expected


def test_reproduce_norvig_reports_all_examples_passing():
    report = reproduce_norvig()
    assert report["ok"], report["failures"]
    assert report["passed"] == report["total"] == len(NORVIG_EXAMPLES)
    assert report["words"] > 10_000


def test_norvig_returns_unknown_word_without_candidates_as_is(norvig):
    assert norvig.correct("qqqqzzzzxxxx") == "qqqqzzzzxxxx"


def test_norvig_prefers_distance_one_over_a_more_frequent_distance_two():
    model = Norvig({"cat": 1, "the": 1_000_000})
    assert model.correct("cwt") == "cat"      # 'the' is two edits away, however frequent


def test_norvig_breaks_equal_count_ties_the_same_way_every_time():
    model = Norvig({"bat": 5, "cat": 5, "hat": 5})
    assert model.correct("xat") == "bat"


@pytest.mark.parametrize("typo, expected", OBVIOUS.items())
def test_baseline_corrects_obvious_typos(corrector, typo, expected):
    assert corrector.correct(typo) == expected


def test_baseline_returns_known_words_unchanged(corrector):
    assert corrector.correct_many(KNOWN) == KNOWN


def test_baseline_returns_hopeless_word_as_is(corrector):
    assert corrector.correct("zqxjkv") == "zqxjkv"


def test_evaluate_counts_hits_misses_and_speed(norvig):
    pairs = [("teh", "the"), ("recieve", "receive"), ("speling", "spelling"), ("word", "word"),
             ("thier", "nonsense")]
    result = evaluate(norvig, pairs)
    assert result["n"] == 5
    assert result["accuracy"] == pytest.approx(4 / 5)
    assert result["misses"] == [("thier", "nonsense", "their")]
    assert result["seconds"] > 0 and result["words_per_s"] > 0


def test_evaluate_keeps_at_most_max_misses(norvig):
    pairs = [("teh", "nope")] * 7
    result = evaluate(norvig, pairs, max_misses=3)
    assert result["accuracy"] == 0 and len(result["misses"]) == 3


def test_evaluate_refuses_an_empty_set(norvig):
    with pytest.raises(ValueError):
        evaluate(norvig, [])


@pytest.mark.parametrize("a, b, d", [
    ("teh", "the", 1), ("", "abc", 3), ("word", "word", 0), ("kitten", "sitting", 3),
    ("ca", "abc", 2),       # unrestricted: an insert inside the transposed pair (OSA says 3)
])
def test_damerau_levenshtein(a, b, d):
    assert damerau_levenshtein(a, b) == d == damerau_levenshtein(b, a)


def test_oracle_coverage_is_cumulative():
    cover = oracle_coverage([("teh", "the"), ("peotryy", "poetry"), ("xyz", "abc")])
    assert cover == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3), 3: 1.0}


def test_codespell_pairs_are_fixed_and_filtered(counts):
    pytest.importorskip("codespell_lib")
    pairs = codespell_pairs(counts, n=50, seed=0)
    assert pairs == codespell_pairs(counts, n=50, seed=0)
    assert len(pairs) == 50
    for typo, fix in pairs:
        assert typo.isalpha() and typo.islower() and fix in counts and typo not in counts


@pytest.mark.parametrize("make", ["aspell", "hunspell"])
def test_aspell_and_hunspell_through_their_pipe_mode(make):
    import shutil
    from models.typos import baselines
    if shutil.which(make) is None:
        pytest.skip(f"{make} is not installed")
    checker = getattr(baselines, make)()
    words = ["wrold", "hello", "teh", "-fpyproject.toml", "accomodation", ""]
    got = checker.correct_many(words)
    assert got[0] == "world" and got[1] == "hello" and got[2] == "the" and got[4] == "accommodation"
    assert got[3] == "-fpyproject.toml" and got[5] == ""         # not words: never sent, returned as they were
    result = baselines.evaluate(checker, [("wrold", "world"), ("teh", "the")])
    assert result["accuracy"] == 1.0 and result["words_per_cpu_s"] < float("inf")
