"""The VADER peer in linear time (models/sentiment/vader.py) scores every text exactly as
vaderSentiment 3.3.2 does: on its rules' own cases, on the written sentences, on every VADER-study
text and SST-2 dev sentence when the datasets are there, and on texts long enough that the
original's quadratic time shows."""
import os
import random
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from data.sentiment.datasets import load_phrasings
from models.sentiment.vader import LinearVader, analyzer

DATA = Path(os.environ["BACKPROP_DATA"])
needs_data = pytest.mark.skipif(not (DATA / "sentiment" / "sst2" / "stsa.binary.dev.gz").exists(),
                                reason="SST-2 not under BACKPROP_DATA")

ORIGINAL = SentimentIntensityAnalyzer()
# each rule the three rewritten helpers hold: negation one, two and three words back, "never so",
# "without doubt", idioms before and after the word, "kind of", "at least", and "but" with repeated scores
RULES = [
    "not good", "not very good", "isn't really that good at all", "never so happy", "never this good",
    "without a doubt great", "without doubt the best", "the food was the bomb", "it was the shit",
    "a kind of good film", "it sort of works, good though", "at least it was cheap, not great",
    "good but bad", "good good good but bad bad good", "but", "nice but but nice", "GREAT but awful!!",
    "no good", "no love lost", "not bad at all :)", "I don't think it's good, but it's fine 😀",
    "cut the mustard, hand to mouth", "yeah right, great", "the bomb 💣 but 😡😡", "",
    "good 🙂🙂🙂 but 🙁 good, never so good without doubt kind of bad",
]


def same(text):
    assert analyzer().polarity_scores(text) == ORIGINAL.polarity_scores(text), text


@pytest.mark.parametrize("text", RULES)
def test_rules_score_as_the_original(text):
    same(text)


def test_written_sentences_score_as_the_original():
    for text in load_phrasings()[0].texts:
        same(text)


@needs_data
def test_every_vader_study_text_and_sst2_dev_sentence_scores_as_the_original():
    from models.sentiment.task import TASK
    parts = TASK.texts(DATA)
    texts = [t for name in ("dev", "tweets_val", "editorials_val", "tweets_test", "editorials_test")
             for t in parts[name].texts] + parts["train"].texts[::5]
    mine = analyzer()
    diff = [t for t in texts if mine.polarity_scores(t) != ORIGINAL.polarity_scores(t)]
    assert not diff, diff[:5]


def test_long_texts_score_as_the_original():
    # the original takes seconds on these (it is quadratic); at 20,000 emoji it took minutes
    rng = random.Random(0)
    words = ["good", "bad", "not", "but", "never", "so", "kind", "of", "the", "bomb", "🙂", "🙁", "very", "least"]
    for n in (300, 1500):
        same(" ".join(rng.choice(words) for _ in range(n)))
    same("🙂" * 400 + " but " + "🙁" * 100)


def test_but_check_rewrites_the_same_positions_as_the_original():
    rng = random.Random(1)
    for _ in range(500):
        n = rng.randint(1, 30)
        scores = [rng.choice([0, 0.0, -0.0, 1.5, -2.0, 0.75, 3.0, 1.125]) for _ in range(n)]
        words = [rng.choice(["a", "b", "But", "c"]) for _ in range(n)]
        ours = LinearVader._but_check(words, list(scores))
        theirs = SentimentIntensityAnalyzer._but_check(words, list(scores))
        assert ours == theirs, (words, scores)


def test_a_text_of_twenty_thousand_emoji_is_read():
    # 20,000 characters is the most the app takes; the original spent over six minutes on this
    assert analyzer().polarity_scores("🙂" * 20_000)["compound"] > 0.9
