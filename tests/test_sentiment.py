"""The Sentiment task: tokenizer, loaders (real data and generated CSVs), backprop
through time in the recurrent layer, the predictor on bad input, the CLIs, and
the shipped model's accuracy on SST-2 test beside the TF-IDF peer."""
import json
import os
import random
import re
from pathlib import Path

import pytest
import torch

from data.sentiment import datasets as sd
from data.core.errors import DataError
from data.sentiment.text import MAX_TOKENS, PIECES, encode, pieces, tokenize

HAVE_DATA = (Path(os.environ["BACKPROP_DATA"]) / "sentiment" / "sst2" / "stsa.binary.test.gz").exists()
needs_data = pytest.mark.skipif(not HAVE_DATA, reason="SST-2 not under BACKPROP_DATA")


# ---- tokenizer -------------------------------------------------------------
@pytest.mark.parametrize("text, tokens", [
    ("I don't LIKE it!!", ["i", "do", "n't", "like", "it", "!", "!"]),
    ("It's great, isn't it?", ["it", "'s", "great", ",", "is", "n't", "it", "?"]),
    ("can't won't", ["ca", "n't", "wo", "n't"]),
    ("see https://example.com/x?a=1 and www.foo.org @bob", ["see", "<url>", "and", "<url>", "<user>"]),
    ("sooooo good", ["soo", "good"]),
    ("Loved it 😍👍", ["loved", "it", "😍", "👍"]),
    ("Ce film était génial", ["ce", "film", "était", "génial"]),
    ("«Тhe» — “quoted”", ["«", "тhe", "»", "—", "“", "quoted", "”"]),
], ids=["case+contraction", "clitics", "special", "url+user", "elongation", "emoji", "accents", "quotes"])
def test_tokenizer_handles_what_people_type(text, tokens):
    assert tokenize(text) == tokens


@pytest.mark.parametrize("text", ["", "   ", "🙂" * 50, "这部电影很好看", "مرحبا بالعالم", "\u200d\ufe0f", "a" * 100_000,
                                  "\x00\x01 tab\t", "🏳️‍🌈 👨‍👩‍👧"])
def test_tokenizer_never_fails_on_any_script(text):
    toks = tokenize(text)
    assert all(t and " " not in t for t in toks)


# the bare-domain rule as it was, before it looked only from the start of a run: the reference
OLD_URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|io|co|uk|de)(?:/\S*)?\b", re.I)


def test_bare_domains_become_url_as_before_in_linear_time():
    from data.sentiment.text import normalise
    assert tokenize("see example.com, or .example.com and foo-bar.co.uk/x?y=1") == \
        ["see", "<url>", ",", "or", ".", "<url>", "and", "<url>"]
    rng = random.Random(0)
    alphabet = list("ab.-/ _:@co") + ["com", "uk", "é", "1", "De"]
    for _ in range(20_000):        # the same text as the old rule, whatever the dots and hyphens
        t = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        assert normalise(t) == normalise(OLD_URL_RE.sub(" <url> ", t)), t
    # dotted runs with no domain in them: the old rule took 12 s on the first
    for text in ("a." * 10_000, "a-" * 10_000, "ab.cd-" * 3_333):
        assert "<url>" not in tokenize(text)


@needs_data
def test_the_url_rule_reads_every_dataset_text_as_before():
    from data.sentiment.text import _URL_RE
    from models.sentiment.task import TASK
    parts = TASK.texts(os.environ["BACKPROP_DATA"])
    texts = [t for p in parts.values() if hasattr(p, "texts") for t in p.texts] + sd.load_phrasings()[0].texts
    new = [_URL_RE.sub(lambda m: f"{m.group('lead') or ''} <url> ", t) for t in texts]
    assert new == [OLD_URL_RE.sub(" <url> ", t) for t in texts]


def test_unseen_words_get_sub_word_pieces_not_one_unknown():
    a, b = pieces("unwatchable"), pieces("unbearable")
    assert len(a) == PIECES and set(a) & set(b)          # they share "<un" and "able>"
    assert pieces("zzqx") != pieces("qqzx")
    e = encode(["an unwatchablish mess", ""], __import__("data.sentiment.text", fromlist=["Vocabulary"]).Vocabulary(
        ["<pad>", "<unk>", "an", "mess"]))
    assert e.ids[0].tolist() == [2, 1, 3] and e.lengths.tolist() == [3, 1]
    assert (e.pieces[0, 1] > 0).sum() == PIECES           # the unknown word still has all its pieces


def test_wordllama_columns_read_the_wheels_files_and_place_words_by_meaning(monkeypatch):
    import numpy as np
    from data.sentiment.vectors import word_vectors
    from models.sentiment import task
    v = word_vectors(["good", "great", "table", "underwhelming", ""], 64, mean_norm=4.0)
    assert v.shape == (5, 64) and not v[4].any() and v[3].any()     # a rare word is the mean of its pieces
    assert np.linalg.norm(v[:4], axis=1).mean() == pytest.approx(4.0, rel=1e-5)
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cos(v[0], v[1]) > cos(v[0], v[2]) + 0.2
    monkeypatch.setattr(task, "WORDLLAMA_DIMS", 16)          # the try used 128; 16 builds the same way
    task.word_table.cache_clear()
    try:
        words, table = task.word_table()
        assert table.shape == (len(words), 66) and not table[0].any()
        assert task.TASK.build_model().config["word_dim"] == 66
    finally:
        task.word_table.cache_clear()


def test_long_text_is_capped():
    e = encode(["good " * 1000], __import__("data.sentiment.text", fromlist=["Vocabulary"]).Vocabulary(["<pad>", "<unk>"]))
    assert e.lengths.item() == MAX_TOKENS


# ---- loaders -----------------------------------------------------------------
def test_csv_with_word_labels_and_three_classes():
    data = "review,stars\n\"great, really\",good\nawful,bad\nmeh,neutral\n,good\nfine,\nok,neutral\n"
    t = sd.read_labelled(data)
    assert t.labels == ["bad", "good", "neutral"] and t.texts[0] == "great, really"
    assert t.targets == [1, 0, 2, 2] and len(t.skipped) == 2


def test_tsv_with_numeric_labels_and_bom():
    data = "\ufeffsentence\tlabel\nnice\t1\nbad\t0\nok\t1.0\n".encode("utf-8")
    t = sd.read_labelled(data)
    assert t.labels == ["0", "1"] and t.targets == [1, 0, 1]


@pytest.mark.parametrize("data, message", [
    ("", "empty"),
    ("words,label\nhi,1\n", "No text column"),
    ("text,value\nhi,1\nho,2\n", "No label column"),
    ("text,label\nhi,pos\nho,pos\n", "at least two different labels"),
    ("text,label\n", "at least one row"),
    (b"\x00\x01PK binary", "not a text file"),
    ("text,label\n\"unclosed,1\nok,0\n", "No row has both"),
], ids=["empty", "no text column", "no label column", "one label", "header only", "binary", "malformed"])
def test_bad_csv_gets_a_clear_error(data, message):
    with pytest.raises(DataError, match=message):
        sd.read_labelled(data)


def test_the_header_decides_the_separator():
    # reviews hold commas and a header does not: a TSV of reviews with more commas than tabs had
    # been read as a CSV ("No text column: the header has 'text\tlabel'")
    tsv = "text\tlabel\n" + "great food, nice staff, cheap, fast\tpositive\nawful, slow, rude, cold\tnegative\n" * 3
    t = sd.read_labelled(tsv)
    assert t.texts[:2] == ["great food, nice staff, cheap, fast", "awful, slow, rude, cold"] and not t.skipped
    header, rows, ti = sd.read_texts(tsv)
    assert header == ["text", "label"] and rows[0][ti] == "great food, nice staff, cheap, fast"
    assert sd.read_labelled("text;label\nnice, really;1\nbad;0\n").texts == ["nice, really", "bad"]
    # a header with more of a value's commas than tabs is still a CSV where it says so
    assert sd.read_labelled('"a, b",text,label\n1,nice,1\n2,bad,0\n').texts == ["nice", "bad"]


@pytest.mark.parametrize("header, text, label", [
    ("reviewText,overall", "reviewText", "overall"),                 # Amazon reviews
    ("review_body\tstar_rating", "review_body", "star_rating"),     # Amazon US reviews
    ("Id,ProductId,Score,Summary,Text", "Text", "Score"),            # Amazon fine food
    ("content,score", "content", "score"),                           # Google Play
    ("airline_sentiment,text", "text", "airline_sentiment"),
    ("id,product,category,rating,review", "review", "rating"),       # a rating before a category
    ("text,predicted sentiment,label", "text", "label"),             # predictions are no labels
])
def test_columns_are_found_as_datasets_name_them(header, text, label):
    names = sd.header_row(header + "\n")
    ti, li = sd.guess_columns(names)
    assert (names[ti], names[li]) == (text, label)


def test_a_tsv_quote_left_open_does_not_swallow_the_rows_after_it():
    data = ('id\tsentiment\ttweet\n1\tpositive\tloving the new album\n2\tnegative\t"@bob: worst service ever\n'
            '3\tpositive\tgreat game\n4\tnegative\tawful\n')
    t = sd.read_labelled(data)
    assert t.texts == ["loving the new album", '"@bob: worst service ever', "great game", "awful"]
    # quoted as Excel writes a cell of two lines, a TSV's text keeps its line break
    assert sd.read_labelled('text\tlabel\n"two lines,\n""quoted"""\t1\nok\t0\n').texts == ['two lines,\n"quoted"', "ok"]


def test_polarity_sets_labels_are_read():
    two = sd.read_labelled("text,label\ngood,2\nbad,1\n")
    assert sd.as_polarity(two)[0].targets == [1, 0]
    s140, how = sd.as_polarity(sd.read_labelled("text,target\ngood,4\nbad,0\nmeh,2\n"))
    assert s140.targets == [1, 0] and "Sentiment140" in how and "1 neutral row left out" in how


def test_a_txt_is_one_text_a_line_whatever_it_holds():
    data = 'Great food, nice staff\n\r\n"Awful", slow service\r\n  \nfine'
    assert sd.read_texts(data, plain=True) == (["text"], [["Great food, nice staff"], ['"Awful", slow service'],
                                                         ["fine"]], 0)
    with pytest.raises(DataError, match="give a .txt file of one text a line"):
        sd.read_texts("Great food, nice staff\nAwful, slow service\n")      # the same lines as a CSV
    with pytest.raises(DataError, match="more than 3 texts"):
        sd.read_texts("a\n\nb\nc\nd\n", plain=True, max_rows=3)
    with pytest.raises(DataError, match="empty"):
        sd.read_texts(" \n\r\n", plain=True)


def test_texts_to_score_with_or_without_a_header():
    header, rows, ti = sd.read_texts("id,text\n1,good\n2,bad\n")
    assert header == ["id", "text"] and ti == 1 and rows[1] == ["2", "bad"]
    header, rows, ti = sd.read_texts("good movie\nbad movie\n")
    assert rows == [["good movie"], ["bad movie"]]
    with pytest.raises(DataError, match="No text column"):
        sd.read_texts("a,b\n1,2\n")
    # scoring asks for texts alone: a binary file is not told that it lacks labels
    with pytest.raises(DataError, match="a column of texts") as e:
        sd.read_texts(b"\x00\x01PK binary")
    assert "labels" not in str(e.value)


@needs_data
def test_official_splits_never_train_on_test_sentences():
    from models.sentiment.task import official_texts
    p = official_texts()
    assert (len(p["dev"]), len(p["test"])) == (872, 1821)
    trained = {sd.key(t) for t in p["train"].texts}
    for name in ("dev", "test"):
        assert not {sd.key(t) for t in p[name].texts} & trained
    rt_test = set().union(*(sd.sentence_keys(t) for t in p["rt_test"].texts))
    assert not rt_test & trained
    assert p["rt_dropped"] > 2000 and len(p["rt_test"]) > 800          # the overlap the README describes
    # beyond film: the VADER study's tweets and editorials, split once by a hash of each text
    for kind in sd.VADER_FILES:
        val, test = {sd.key(t) for t in p[f"{kind}_val"].texts}, {sd.key(t) for t in p[f"{kind}_test"].texts}
        assert len(val) > 350 and len(test) > 350 and not val & test
        assert not (val | test) & trained
        # all of the train share is trained on, but for short texts that a held-out one repeats ("wow")
        share = {sd.key(t) for t in p[f"{kind}_train"].texts}
        assert len(share & trained) >= 0.98 * len(share)


@needs_data
def test_official_texts_are_cached_by_the_data_root_not_by_its_absence(tmp_path, monkeypatch):
    """A page that finds no data must say so even after this process read the data from another root."""
    from data.core.errors import DatasetMissing
    from models.sentiment.task import official_texts
    assert len(official_texts()["test"]) == 1821
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path))
    monkeypatch.setenv("BACKPROP_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DatasetMissing):
        official_texts()


def test_generated_sentences_are_balanced_seeded_and_never_a_written_test_sentence():
    from data.sentiment import idioms, lexicon
    texts, targets = idioms.sentences(4000, seed=0)
    assert (texts, targets) == idioms.sentences(4000, seed=0) and texts != idioms.sentences(4000, seed=1)[0]
    assert sum(targets) == 2000 and len(set(texts)) > 2500
    texts += lexicon.sentences(9000, seed=0)[0]
    words = lambda t: " ".join(re.findall(r"[a-z0-9']+", t.lower()))
    generated = {words(t) for t in texts}
    written = [words(t) for t in sd.load_phrasings()[0].texts]
    assert not [w for w in written if w in generated]
    # nor inside one, for the written sentences long enough to be more than a stock phrase
    assert not [w for w in written if len(w.split()) >= 3 and any(w in g for g in generated)]


@needs_data
def test_vader_texts_are_cut_at_half_a_point_and_split_the_same_everywhere():
    tweets = sd.load_vader("tweets")
    assert (len(tweets), tweets.counts()) == (3362, {"negative": 1062, "positive": 2300})  # the data README's cut
    assert all("&amp;" not in t for t in tweets.texts)                       # HTML entities decoded
    a, b = sd.vader_split(tweets), sd.vader_split(sd.Texts(tweets.texts[::-1], tweets.targets[::-1], sd.LABELS))
    assert {n: sorted(v.texts) for n, v in a.items()} == {n: sorted(v.texts) for n, v in b.items()}
    assert 0.6 < len(a["train"]) / len(tweets) < 0.8
    neutral = sd.vader_neutral("tweets")                  # the middle the cut leaves out, split by the same hash
    assert sum(map(len, neutral.values())) == 4200 - 3362
    assert all(sd.vader_share(t) == name for name, texts in neutral.items() for t in texts)
    assert not {sd.key(t) for t in neutral["train"]} & {sd.key(t) for t in a["val"].texts + a["test"].texts}


# ---- the network and BPTT ------------------------------------------------------
def small_model(cell="lstm", **kw):
    from models.sentiment.net import SentiNet
    torch.manual_seed(0)
    return SentiNet(vocab_size=50, cell=cell, hidden=16, word_dim=8, piece_dim=8, **kw)


def batch(n=6, t=12):
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(3, t + 1, (n,), generator=g)
    lengths[0] = t
    ids = torch.randint(2, 50, (n, t), generator=g) * (torch.arange(t) < lengths[:, None])
    pcs = torch.randint(1, 1000, (n, t, PIECES), generator=g) * (ids > 0)[..., None]
    return ids, pcs, torch.zeros(n, t), lengths


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pool", ["last", "maxmean"])
def test_gradients_reach_the_first_time_step(cell, pool):
    m = small_model(cell, pool=pool, bidirectional=False, dropout=0.0)
    ids, pcs, lex, lengths = batch()
    x = m.embed(ids, pcs, lex).detach().requires_grad_(True)
    m.classify(x, lengths)[:, 1].sum().backward()
    g = x.grad.norm(dim=-1)
    assert g[0, 0] > 0 and torch.isfinite(g).all()
    assert (g[1:, :][torch.arange(12)[None, :].expand(5, -1) >= lengths[1:, None]] == 0).all()   # padding: none


def test_padding_does_not_change_the_prediction():
    m = small_model(dropout=0.0).eval()
    ids, pcs, lex, lengths = batch()
    wide = [torch.cat([v, torch.zeros_like(v[:, :5])], 1) for v in (ids, pcs, lex)]
    assert torch.allclose(m(ids, pcs, lex, lengths), m(*wide, lengths), atol=1e-5)


def test_clipping_bounds_the_update_norm():
    from torch.utils.data import TensorDataset
    from models.core.trainer import TrainConfig, Trainer
    ids, pcs, lex, lengths = batch(32)
    data = TensorDataset(ids, pcs, lex, lengths, torch.randint(0, 2, (32,)))
    m = small_model("rnn", bidirectional=False, pool="last")
    with torch.no_grad():
        m.rnn.weight_hh_l0.mul_(8)          # an exploding recurrence
    t = Trainer(m, config=TrainConfig(epochs=1, batch_size=8, lr=1e-3, clip_grad_norm=0.01))
    t.fit(data)
    after = [torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in m.parameters() if p.grad is not None]))]
    assert max(r["grad_norm"] for r in t.history.batches) > 0.01     # the raw norm is reported...
    assert after[0] <= 0.01 * 1.001                                   # ...and the applied one is clipped


@needs_data
def test_cell_comparison_trains_through_the_common_trainer():
    from models.sentiment import bptt as sentiment_bptt
    from models.sentiment.task import TASK
    splits = TASK.load_splits()
    runs = sentiment_bptt.compare(TASK, splits, cells=("rnn", "lstm"), clips=(1.0,), n_train=128, epochs=1, steps=20)
    assert [r.cell for r in runs] == ["rnn", "lstm"]
    for r in runs:
        assert len(r.step_grads) == 20 and all(g > 0 for g in r.step_grads) and r.history
    rnn, lstm = runs
    # vanishing: the plain RNN's first step gets a far smaller share of the gradient than the LSTM's
    assert rnn.step_grads[0] / rnn.step_grads[-1] < lstm.step_grads[0] / lstm.step_grads[-1]


# ---- predictor and CLIs ----------------------------------------------------------
@pytest.fixture(scope="module")
def predictor():
    from models import load_predictor
    return load_predictor("sentiment")


def test_predictor_api(predictor):
    out = predictor.predict(["A wonderful, moving film.", "Dull, lifeless and far too long."])
    assert [r["label"] for r in out] == ["positive", "negative"]
    assert all(0.5 < r["score"] <= 1 for r in out) and predictor.labels == ["negative", "positive"]


# written for this test, never trained on: what people paste beyond movie reviews
OUT_OF_DOMAIN = [
    ("The food was delicious and the staff were friendly.", 1), ("Terrible customer service, my order arrived broken.", 0),
    ("I love this phone, the battery lasts forever! 😍", 1), ("worst purchase ever. total waste of money", 0),
    ("not bad at all, actually quite good", 1), ("The pasta was cold and the waiter was rude. Never again.", 0),
    ("Battery lasts all day and the screen is gorgeous — best phone I've owned!", 1),
    ("I expected to hate it, but honestly it's not bad at all.", 1),
    ("The waiter was rude and the soup was cold. What a disappointing evening.", 0),
    ("An absolute delight from start to finish, I loved every minute!", 1), ("great service", 1), ("🙂🙂🙂", 1),
    ("😡😡", 0), ("Shipping took 3 weeks and the box was damaged", 0), ("Five stars, would buy again", 1),
    ("The hotel room was spotless and the view was amazing", 1),
    ("My package never arrived and nobody answers the phone", 0), ("Best burger in town, friendly staff", 1),
    ("The app keeps crashing after the update", 0), ("Totally worth the money", 1),
    ("Cheap plastic, broke on day two", 0), ("Can't recommend this place enough!", 1),
    ("so disappointed with this purchase", 0), ("Loving the new update, super smooth", 1),
    ("The staff ignored us for 30 minutes", 0), ("@united lost my bag again, thanks for nothing", 0),
    ("Fast delivery and great quality https://shop.example.com", 1), ("The room smelled and the bed was dirty", 0),
    ("Our guide was knowledgeable and fun", 1), ("Overpriced and bland. Skip it.", 0),
]


def test_beyond_movie_reviews(predictor):
    out = predictor.predict([t for t, _ in OUT_OF_DOMAIN])
    right = [r["label"] == ("positive" if y else "negative") for (_, y), r in zip(OUT_OF_DOMAIN, out)]
    misses = [t for (t, _), ok in zip(OUT_OF_DOMAIN, right) if not ok]
    assert sum(right) / len(right) >= 0.75, misses


def test_written_sentences_beyond_film(predictor):
    """data/sentiment/phrasings.tsv: contrast, negation and hedging, idioms and slang, product
    aspects, emphasis and emoji, support messages; written for the tests, never trained on."""
    from models.sentiment.eval import VaderPeer
    texts, kinds = sd.load_phrasings()
    assert len(texts) >= 75 and set(kinds) >= {"contrast", "negation", "hedge", "idiom", "aspect", "emphasis"}
    ours = [r["label"] == texts.labels[y] for r, y in zip(predictor.predict(texts.texts), texts.targets)]
    vader = [p == y for p, y in zip(VaderPeer().predict(texts.texts), texts.targets)]
    misses = [t for t, ok in zip(texts.texts, ours) if not ok]
    # the shipped model: 135 of 177 (76.3%; round 3's 40 plain statements, added after it, 24; round 4's
    # 16 emoticons, 12), VADER 110
    assert sum(ours) / len(ours) >= 0.75, misses
    assert sum(ours) >= sum(vader) + 0.10 * len(ours), (sum(ours), sum(vader))


@pytest.mark.parametrize("text", ["", "   ", "a" * 100_000])
def test_bad_text_is_a_clear_error(predictor, text):
    with pytest.raises(DataError):
        predictor.predict([text])


@pytest.mark.parametrize("text", ["🙂🙂🙂", "这部电影很好看", "!!!", "x" * 5000])
def test_odd_text_still_gets_an_answer(predictor, text):
    r = predictor.explain(text)
    assert r["label"] in predictor.labels and len(r["along"]["positive"]) == len(r["tokens"])


def test_explain_reads_word_by_word(predictor):
    r = predictor.explain("The acting was awful but the ending was wonderful")
    assert len(r["contribution"]) == len(r["tokens"]) == 9
    c = dict(zip(r["tokens"], r["contribution"]))
    assert c["wonderful"] > c["awful"]


def test_cli_predict_and_bad_files(tmp_path, capsys):
    from models import predict
    good, empty = tmp_path / "good.txt", tmp_path / "empty.txt"
    good.write_text("What a delightful, funny film.")
    empty.write_text("  ")
    assert predict.main(["sentiment", str(good), str(empty), str(tmp_path / "missing.txt")]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["label"] == "positive" and "no text" in lines[1]["error"] and "cannot read" in lines[2]["error"]
    # a file is read no further than a text can be long: a pipe or /dev/zero says its size is 0
    huge = tmp_path / "huge.txt"
    huge.write_text("great " * 20_000)
    assert predict.main(["sentiment", str(huge), "--text", "What a delightful, funny film.", "--text", "x" * 30_000]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "over 80,003 bytes" in lines[0]["error"]
    assert lines[1]["input"] == "What a delightful, funny film." and lines[1]["label"] == "positive"
    assert len(lines[2]["input"]) == 80 and "paste at most 20,000" in lines[2]["error"]
    for argv in (["digits", "--text", "seven"], ["sentiment"]):        # a usage error, exit code 2
        with pytest.raises(SystemExit) as e:
            predict.main(argv)
        assert e.value.code == 2
    assert "--text is for sentiment and typos" in capsys.readouterr().err


def test_cli_train_on_a_csv_then_evaluate(tmp_path, capsys):
    from models import evaluate, train
    rows = ["text,label"] + [f"\"{w} food, {w} service\",{lab}" for w, lab in
                             [("great", "good"), ("lovely", "good"), ("awful", "bad"), ("cold", "bad")] * 8]
    csv = tmp_path / "mine.csv"
    csv.write_text("\n".join(rows))
    assert train.main(["sentiment", "--custom", str(csv), "--init", "shipped", "--out", str(tmp_path / "m"),
                       "--epochs", "2", "--threads", "1"]) == 0
    card = json.loads((tmp_path / "m.json").read_text())
    assert card["labels"] == ["bad", "good"] and card["task"] == "sentiment" and card["arch"]["vocabulary"]
    # the card says what the 32 texts were learnt on top of, not only "a previous model"
    assert card["hyperparameters"]["fine_tuned_from"].startswith("the shipped model (trained on SST-2 train")
    assert "test_accuracy" not in card["metrics"]          # your file has no test set of its own
    assert evaluate.main(["sentiment", "--weights", str(tmp_path / "m"), "--custom", str(csv)]) == 0
    capsys.readouterr()
    (tmp_path / "one.csv").write_text("text,label\na,x\nb,x\n")
    assert train.main(["sentiment", "--custom", str(tmp_path / "one.csv"), "--out", str(tmp_path / "n")]) == 2
    assert "at least two different labels" in capsys.readouterr().err


@needs_data
def test_shipped_model_beats_its_peers_on_film_editorials_and_written_sentences():
    from models.sentiment.eval import compare
    mine = sd.Texts(["the battery died in a week", "lovely staff, spotless room"], [0, 1], list(sd.LABELS))
    r = compare(repeats=1, peers=("tfidf_logreg", "vader"), custom=mine)    # --custom: one more column
    ours, tfidf, vader = r["rows"]["model"], r["rows"]["tfidf_logreg"], r["rows"]["vader"]
    assert r["sets"]["custom"] == 2 and all(0 <= row["custom"] <= 1 for row in (ours, tfidf, vader)), r
    assert ours["test"] >= tfidf["test"] + 0.02, r
    assert ours["test"] >= 0.825, r          # the shipped (distilled) model measured 83.5%
    assert ours["rt_test"] >= 0.81, r         # 82.9%
    # beyond film, ahead of both peers (measured: editorials +7.8 points; the 177 written sentences +5.1,
    # 135 against TF-IDF's 126: round 3's plain statements are as hard for the network as for TF-IDF)
    assert ours["editorials_val"] >= max(tfidf["editorials_val"], vader["editorials_val"]) + 0.05, r
    assert ours["phrasings"] >= max(tfidf["phrasings"], vader["phrasings"]) + 0.04, r
    assert ours["tweets_val"] >= tfidf["tweets_val"] + 0.02, r   # VADER was built on these tweets
    assert r["sst2_test"] == 1821
    # the written sentences by kind: the same predictions, counted per kind
    kinds = r["written_by_kind"]
    assert sum(k["n"] for k in kinds.values()) == r["sets"]["phrasings"]
    assert sum(k["model"] for k in kinds.values()) == round(ours["phrasings"] * r["sets"]["phrasings"])
    assert {"contrast", "negation", "emoticon"} <= set(kinds) and set(kinds["negation"]) == {"n", "model", "tfidf_logreg", "vader"}


def test_a_training_set_holds_its_indices_as_int32():
    # held whole and padded to the longest text: int64 pieces of a 200,000-row CSV were 1.4 GB
    from models.sentiment.task import TASK, dataset
    texts = ["great food, rude staff", "meh", "not bad at all " * 20]
    d = dataset(texts, [0, 1, 1], TASK.vocab())
    wide = encode(texts, TASK.vocab()).tensors()
    assert [t.dtype for t in d.tensors[:2]] == [torch.int32, torch.int32] and wide[1].dtype == torch.int64
    assert all(torch.equal(a.long() if a.dtype == torch.int32 else a, b) for a, b in zip(d.tensors[:4], wide))
    model = TASK.build_model()
    model.eval()
    assert torch.allclose(model(*d.tensors[:4]), model(*wide))
