"""The Typos app's data: English words, the noise model, real misspellings, user files, tokens."""
import re
from collections import Counter

import numpy as np
import pytest

from data.core.errors import DataError
from data.typos.spelling import (Vocabulary, codespell_pairs, is_word_like, load_vocabulary, read_pairs_csv, restore_case,
                           split_token)
from data.typos.noise import ERROR_TYPES, NEIGHBOURS, NoiseModel, pairs


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment): a swap of neighbours is one edit."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


# ---- vocabulary ----

def test_vocabulary_is_large_clean_and_ordered(vocab):
    assert len(vocab) > 30_000
    for w in ["the", "house", "desert", "separate", "occasion", "believe", "colour", "centre", "a", "i", "of"]:
        assert w in vocab, w
    for junk in ["pc", "pm", "cd", "ii", "iii", "xiv", "xxx", "mph", "ltd", "pkg", "b", "x", "can't"]:
        assert junk not in vocab, junk
    assert all(re.fullmatch(r"[a-z]+", w) for w in vocab.words)
    assert {w for w in vocab.words if len(w) == 1} == {"a", "i"}
    assert {w for w in vocab.words if len(w) == 2} == set("of to in is on by it or be at as an we us if my do no he "
                                                          "up so am me go hi ok vs".split())
    assert vocab.counts == sorted(vocab.counts, reverse=True)
    assert vocab.words[0] == "the" and vocab.index["the"] == 0
    c = lambda w: vocab.counts[vocab.index[w]]
    assert c("the") > c("house") > c("desert") > c("anemone")


def test_vocabulary_limits_and_log_prob(vocab):
    small = load_vocabulary(max_words=1000)
    assert len(small) == 1000 and small.words == vocab.words[:1000]
    assert min(load_vocabulary(min_count=10**8).counts) >= 10**8
    assert vocab.log_prob("the") > vocab.log_prob("desert") > vocab.log_prob("sesert") > -np.inf
    assert vocab.log_prob("sesert") == vocab.log_prob("qqqq")       # one floor for all unknown words


def test_sample_is_frequency_weighted_but_flattened(vocab):
    drawn = vocab.sample(20_000, np.random.default_rng(0))
    assert drawn == vocab.sample(20_000, 0)                           # a seed or a Generator
    seen = Counter(drawn)
    assert seen["the"] > seen.get("desert", 0)
    rare = sum(k for w, k in seen.items() if vocab.index[w] >= 10_000)
    assert rare > 0.2 * len(drawn)                                    # raw counts would give ~1%


def test_user_word_list_parses_counts_accents_and_headers():
    v = Vocabulary.from_user_list("word,count\nHaus\t10\nKatze,5\nÉcole 3\n\n# a comment\nhaus\nnaïve\n")
    assert v.words[:2] == ["haus", "katze"] and v.counts[:2] == [11, 5]
    assert "école" in v and "naïve" in v and len(v) == 4
    assert Vocabulary.from_user_list(b"\xef\xbb\xbfone\ntwo\n").words == ["one", "two"]
    # a spreadsheet's cp1252, and Excel's "Unicode Text" (UTF-16)
    assert Vocabulary.from_user_list(b"caf\xe9\nthe\n").words == ["café", "the"]
    assert Vocabulary.from_user_list("café 3\nthe 2\n".encode("utf-16")).words == ["café", "the"]


def test_user_word_lists_as_tools_write_them():
    # hermitdave/FrequencyWords: "i'm" is no word the corrector changes, so it is left out, not the list
    v = Vocabulary.from_user_list("you 22484400\ni 19975318\nthe 17594291\ni'm 5349123\n")
    assert v.words == ["you", "i", "the"] and v.skipped == [("line 4", "'i'm' is not a word of letters")]
    assert Vocabulary.from_user_list('"word","count"\n"hello",12\n"world",3\n').counts == [12, 3]   # R's write.csv
    assert Vocabulary.from_user_list("Hello,\nworld,\n").words == ["hello", "world"]      # one column and an empty one
    assert Vocabulary.from_user_list("term;freq\nhaus;3\nkatze;2\n").words == ["haus", "katze"]


def test_a_file_says_whether_it_holds_pairs_or_words():
    from data.typos.spelling import list_kind
    assert list_kind("word,count\nzorblax,500\nfoo,3\n") == "words"      # a word list saved as .csv
    assert list_kind("hello\nworld\n") == list_kind("you 224\ni 199\n") == "words"
    assert list_kind("teh -> the\nrecieve,receive\n") == list_kind("correct,misspelled\nthe,teh\n") == "pairs"


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("  \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("one\x01\x02\x03\x04two\n", "binary"),
    ("one\ntwo three four\n", "Line 2 has 3 fields"),
    ("one 12\ntwo 1.5\n", "Line 2: '1.5' is not a count"),
    ("teh,the\nrecieve,receive\n", "'the' is not a count.*typos and their corrections"),
    ("one\nc3po\nr2d2\n", "2 of the word list's 3 lines are no word of letters.*line 2: 'c3po'"),
    ("one\nc3po\n", "at least 2 different words; found 1"),
    ("one\nOne 4\n", "at least 2 different words; found 1"),
    ("a\n" * 500_001, "more than 500,000 lines"),
])
def test_user_word_list_rejects_bad_input(text, problem):
    with pytest.raises(DataError, match=problem):
        Vocabulary.from_user_list(text)


def test_merged_adds_a_users_words(vocab):
    base = load_vocabulary(max_words=5000)
    mine = Vocabulary.from_user_list("gemütlich 3\nthe 1\n")
    both = base.merged(mine, weight=0.1)
    assert "gemütlich" in both and len(both) == len(base) + 1
    assert both.counts[both.index["the"]] > base.counts[base.index["the"]]
    assert sum(both.counts) == pytest.approx(1.1 * sum(base.counts), rel=1e-6)
    assert both.counts == sorted(both.counts, reverse=True)


# ---- noise model ----

def test_every_error_type_appears_with_bounded_distance(vocab):
    noise, seen = NoiseModel(seed=1), Counter()
    for word in vocab.sample(6000, 1):
        typo, kinds = noise.corrupt(word)
        assert typo != word and typo.isalpha() and typo == typo.lower(), (word, typo)
        assert 1 <= len(kinds) <= 3 and set(kinds) <= set(ERROR_TYPES)
        # a word written by ear changes at every place its rules apply: "philadelphia" -> "filadelfia"
        bound = 2 * len(kinds) + (len(word) if {"phonetic", "syllable"} & set(kinds) else 0)
        assert distance(word, typo) <= bound, (word, typo, kinds)
        seen.update(kinds)
    assert set(seen) == set(ERROR_TYPES), set(ERROR_TYPES) - set(seen)


def test_mostly_one_error_sometimes_two_or_three():
    noise = NoiseModel(seed=3)
    n = Counter(len(noise.corrupt("international")[1]) for _ in range(2000))
    assert 0.6 < n[1] / 2000 < 0.8 and n[2] > 300 and n[3] > 80
    assert all(len(noise.corrupt("cat")[1]) == 1 for _ in range(200))   # short words get one error


def test_desert_becomes_sesert_by_a_keyboard_slip():
    assert "s" in NEIGHBOURS["d"] and "d" in NEIGHBOURS["s"] and "q" not in NEIGHBOURS["d"]
    noise = NoiseModel(seed=0)
    found = {(typo, tuple(kinds)) for typo, kinds in (noise.corrupt("desert") for _ in range(3000))}
    assert ("sesert", ("keyboard_sub",)) in found


@pytest.mark.parametrize("kind, word, expected", [
    ("silent", "knife", "nife"), ("silent", "wrong", "rong"), ("silent", "lamb", "lam"),
    ("silent", "castle", "casle"), ("misdouble", "occasion", "ocassion"), ("vowel", "separate", "seperate"),
    ("ie_ei", "believe", "beleive"), ("ph_f", "physical", "fysical"), ("able_ible", "possible", "possable"),
    ("ance_ence", "independence", "independance"), ("tion_sion", "nation", "nasion"),
    ("c_k_s", "music", "musik"), ("y_i", "rhythm", "rhithm"), ("undouble", "occasion", "ocasion"),
    ("double", "until", "untill"), ("transpose", "receive", "recieve"), ("delete", "desert", "dsert"),
    ("keyboard_insert", "desert", "dessert"),
])
def test_each_error_type_makes_the_classic_mistakes(kind, word, expected):
    noise = NoiseModel(seed=0)
    assert expected in {noise.apply(kind, word) for _ in range(300)}


def test_errors_apply_only_where_they_can():
    noise = NoiseModel(seed=0)
    assert noise.apply("ph_f", "desert") is None and noise.apply("ie_ei", "desert") is None
    assert noise.apply("undouble", "desert") is None and noise.apply("silent", "cold") is None
    assert noise.apply("delete", "do") is None
    assert NoiseModel(seed=0, weights={"ie_ei": 1}).corrupt("believe") == ("beleive", ["ie_ei"])
    with pytest.raises(ValueError):
        NoiseModel(seed=0, weights={"ie_ei": 1}).corrupt("desert")
    with pytest.raises(ValueError):
        NoiseModel(weights={"typo": 1})
    for word in ["a", "i", "naïve", "œuvre"]:
        typo, _ = NoiseModel(seed=0).corrupt(word)
        assert typo != word and typo.isalpha()


def test_pairs_are_deterministic_and_keep_some_identities(vocab):
    a, b = pairs(vocab, 2000, seed=7), pairs(vocab, 2000, seed=7)
    assert a == b and a != pairs(vocab, 2000, seed=8) and len(a) == 2000
    same = sum(t == w for t, w in a)
    assert 40 < same < 180                                           # ~5% (word, word)
    assert all(w in vocab and (t == w or t not in vocab) for t, w in a)
    assert pairs(vocab, 500, seed=1, identity=0.0) and all(t != w for t, w in pairs(vocab, 500, 1, identity=0.0))


# ---- real misspellings (evaluation only) ----

def test_codespell_pairs_load_and_exclude(vocab):
    every = codespell_pairs()
    assert len(every) > 10_000 and ("teh", "the") in every
    assert all(re.fullmatch(r"[a-z]+", t) and re.fullmatch(r"[a-z]+", c) for t, c in every)
    typos = {t for t, _ in every}
    assert "abbout" not in typos                 # "abbout->about, abbot," has two answers
    assert "1nd" not in typos and "__attribyte__" not in typos
    mine = codespell_pairs(vocab)
    assert 10_000 < len(mine) < len(every)
    assert all(c in vocab and t not in vocab for t, c in mine)
    some = codespell_pairs(vocab, sample=300, seed=1)
    assert len(some) == 300 and some == codespell_pairs(vocab, sample=300, seed=1)
    assert some != codespell_pairs(vocab, sample=300, seed=2) and set(some) <= set(mine)


# ---- a user's pairs ----

def test_pairs_csv_reads_every_separator():
    text = ("typo,correction\nteh,the\nrecieve\treceive\n\nadress -> address\nWrold → World\n"
            "\"acheive\",\"achieve\"\n")
    assert read_pairs_csv(text) == [("teh", "the"), ("recieve", "receive"), ("adress", "address"),
                                    ("wrold", "world"), ("acheive", "achieve")]
    assert read_pairs_csv("\ufeffteh,the\n".encode()) == [("teh", "the")]


@pytest.mark.parametrize("text", [
    "typo;correction\r\nteh;the\r\nrecieve;receive\r\n",            # Excel where the comma is a decimal mark
    "teh,the,\nrecieve,receive,\n",                                 # an empty column after them
    ",typo,correction\n0,teh,the\n1,recieve,receive\n",              # pandas' index
    "correct,misspelled\nthe,teh\nreceive,recieve\n",                # the header says which is which
    "Misspelling,Intended word\nteh,the\nrecieve,receive\n",
    "word,misspelling\nthe,teh\nreceive,recieve\n",
])
def test_pairs_as_spreadsheets_write_them(text):
    assert read_pairs_csv(text) == [("teh", "the"), ("recieve", "receive")]


@pytest.mark.parametrize("data, problem", [
    ("", "empty"),
    (b"\x00\x01\x02binary\x00", "binary"),
    ("teh,the\nrecieve,receive,received\n", "Line 2 has 3 columns"),
    ("teh,the\njust one\n", "Line 2 has 1 column"),
    ("teh,the\n,the\n", "Line 2 has an empty typo"),
    ("teh,\n", "Line 1 has an empty correction"),
    ("a,b\nc,d\ne,f\n", "More than 2 pairs"),
    ("typo,correction\n", "no pairs"),
    ("zorblax,500\n", "the correction '500' is a number: is this a word list"),
])
def test_pairs_csv_rejects_bad_input(data, problem):
    with pytest.raises(DataError, match=problem):
        read_pairs_csv(data, max_rows=2)


# ---- tokens in running text ----

@pytest.mark.parametrize("token, parts, word_like", [
    ("Sesert,", ("", "Sesert", ","), True),
    ("(Hello)", ("(", "Hello", ")"), True),
    ("DESERT!", ("", "DESERT", "!"), True),
    ("3.14", ("", "3.14", ""), False),
    ("https://x.org", ("", "https://x.org", ""), False),
    ("me@x.org", ("", "me@x.org", ""), False),
    ("naïve", ("", "naïve", ""), True),
    ("cafe\u0301.", ("", "cafe\u0301", "."), True),
    ("日本語", ("", "日本語", ""), False),
    ("🙂", ("🙂", "", ""), False),
    ("e-mail", ("", "e-mail", ""), False),
    ("abc123", ("", "abc123", ""), False),
    ("...", ("...", "", ""), False),
    ("", ("", "", ""), False),
])
def test_split_token_and_is_word_like(token, parts, word_like):
    assert split_token(token) == parts and "".join(parts) == token
    assert is_word_like(parts[1]) is word_like


@pytest.mark.parametrize("original, corrected, restored", [
    ("sesert", "desert", "desert"), ("Sesert", "desert", "Desert"), ("SESERT", "desert", "DESERT"),
    ("iPhne", "iphone", "iphone"), ("I", "i", "I"), ("A", "a", "A"), ("Teh", "the", "The"), ("", "a", "a"),
])
def test_restore_case(original, corrected, restored):
    assert restore_case(original, corrected) == restored


def test_tokens_never_crash_on_any_unicode():
    for token in ["🙂🙂", "\u200b", "a\u0301", "👍🏽x", "\U0001f600abc\U0001f600", "Ωmega", "١٢٣", "\x00", "ǅ",
                  "\ud800"]:
        lead, core, trail = split_token(token)
        assert lead + core + trail == token
        is_word_like(core)
        restore_case(core, "x")
