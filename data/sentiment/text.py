"""Text to the sentiment network's inputs: tokens, vocabulary ids, sub-word pieces
and a lexicon signal for every token.

The tokenizer splits what people type the way SST-2 was tokenised (lowercase,
"don't" -> "do n't", "it's" -> "it 's", punctuation apart), so that a pasted tweet
and a treebank sentence meet the network in the same form. URLs and @mentions
become one placeholder token each; emoji, numbers and words of any script are
tokens of their own. A word the vocabulary lacks is not a blank `<unk>`: it still
has its sub-word pieces (hashed prefixes and suffixes, fastText style) and, for
emoji, the valence VADER's emoji lexicon gives its description.
"""
from __future__ import annotations

import os
import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from data.core.errors import DataError

PAD, UNK = "<pad>", "<unk>"
URL, USER = "<url>", "<user>"
MAX_CHARS = 20_000        # longer texts are refused with a message, not read
MAX_TOKENS = 128          # the network reads at most this many tokens of a text
PIECES = 7                # whole word + 3 prefixes + 3 suffixes
BUCKETS = 20_000          # hashed sub-word pieces share this many embeddings

# a bare domain is looked for only from the start of a run of word characters, dots and hyphens (after
# any dots and hyphens that open it, kept as they were): from every word start in it, as `\b` did, a
# 20,000-character "a.a.a..." took 12 s, each start scanning to the run's end for a ".com"
_URL_RE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.-])(?P<lead>[.-]*)\w[\w.-]*\.(?:com|org|net|io|co|uk|de)(?:/\S*)?\b",
                     re.I)
_USER_RE = re.compile(r"(?<!\w)@\w+")
# SST-2's contractions: "do n't", "it 's", "we 're", "i 'm", "they 've", "you 'll", "he 'd"
_NT_RE = re.compile(r"(\w)n't\b")
_CLITIC_RE = re.compile(r"(\w)'(s|re|m|ve|ll|d)\b")
_SPECIAL = {"cannot": "can not", "can't": "ca n't", "won't": "wo n't", "ain't": "ai n't"}
_TOKEN_RE = re.compile(r"<url>|<user>|n't|'(?:s|re|m|ve|ll|d)\b|[^\W_]+(?:-[^\W_]+)*|\S")
_REPEAT_RE = re.compile(r"(\w)\1{2,}")          # "sooooo" -> "soo": one spelling for every elongation


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("`", "'")
    text = _URL_RE.sub(lambda m: f"{m.group('lead') or ''} {URL} ", text)
    text = _USER_RE.sub(f" {USER} ", text)
    text = text.lower()
    for word, split in _SPECIAL.items():
        text = text.replace(word, split)
    text = _NT_RE.sub(r"\1 n't", text)
    text = _CLITIC_RE.sub(r"\1 '\2", text)
    return _REPEAT_RE.sub(r"\1\1", text)


def tokenize(text: str) -> list[str]:
    """Tokens of any text: never fails, never returns a token with spaces."""
    tokens = []
    for tok in _TOKEN_RE.findall(normalise(text)):
        # a word with a hyphen the vocabulary may lack stays whole here; pieces cover it
        if unicodedata.category(tok[0]) in ("Mn", "Me", "Cf", "Cc"):
            continue     # joiners, variation selectors, combining marks alone carry nothing
        tokens.append(tok)
    return tokens


def check_text(text) -> str:
    """The text, or a DataError a person can act on."""
    if text is None or not str(text).strip():
        raise DataError("There is no text: type or paste a sentence.")
    text = str(text)
    if len(text) > MAX_CHARS:
        raise DataError(f"The text is {len(text):,} characters long; paste at most {MAX_CHARS:,} at once "
                        "(a few paragraphs).")
    return text


@lru_cache(maxsize=200_000)
def pieces(token: str) -> tuple[int, ...]:
    """Hashed sub-word pieces of a token (bucket ids 1..BUCKETS-1; 0 pads): the word
    itself and its 3/4/5-letter prefixes and suffixes, so "unwatchable" shares
    "un" and "able" pieces with words the training data had."""
    w = f"<{token}>"
    found = [w] + [w[:n] for n in (4, 5, 6) if len(w) > n + 1] + [w[-n:] for n in (4, 5, 6) if len(w) > n + 1]
    return tuple(1 + zlib.crc32(p.encode()) % (BUCKETS - 1) for p in found)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, float]:
    """VADER's valence lexicon (MIT; words, emoticons and slang, -4..4) scaled to -1..1,
    with every emoji given the mean valence of the words of its name."""
    import vaderSentiment
    folder = os.path.dirname(vaderSentiment.__file__)
    lex: dict[str, float] = {}
    with open(os.path.join(folder, "vader_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                lex[parts[0].lower()] = float(parts[1]) / 4
    with open(os.path.join(folder, "emoji_utf8_lexicon.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                vals = [lex[w] for w in parts[1].lower().split() if w in lex]
                if vals:
                    lex[parts[0]] = sum(vals) / len(vals)
    return lex


@dataclass
class Vocabulary:
    words: list[str]

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def id(self, token: str) -> int:
        return self.index.get(token, 1)


@dataclass
class Encoded:
    ids: torch.Tensor        # (N, T) vocabulary ids, 0 = padding, 1 = not in the vocabulary
    pieces: torch.Tensor     # (N, T, PIECES) hashed sub-word buckets, 0 = none
    lex: torch.Tensor        # (N, T) lexicon valence in -1..1, 0 where unknown
    lengths: torch.Tensor    # (N,) tokens read, at least 1

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return self.ids, self.pieces, self.lex, self.lengths


def encode_tokens(token_lists: Sequence[Sequence[str]], vocab: Vocabulary, max_tokens: int = MAX_TOKENS,
                  index=np.int64) -> Encoded:
    """index: the dtype of ids and pieces. A training set is held whole, padded to its longest text, and
    int32 halves it (a 200,000-row CSV's pieces were 1.4 GB as int64); a prediction keeps int64, the
    exported files' input type."""
    lex = lexicon()
    lists = [list(t)[:max_tokens] or [UNK] for t in token_lists]   # an empty text reads as one unknown token
    width = max([1] + [len(t) for t in lists])
    # each distinct token is looked up once; the grid indexes into those rows (0 = padding)
    distinct: dict[str, int] = {}
    grid = np.zeros((len(lists), width), dtype=np.int32)       # rows of `distinct`: fewer than 2**31
    for i, toks in enumerate(lists):
        grid[i, :len(toks)] = [distinct.setdefault(t, len(distinct) + 1) for t in toks]
    words = list(distinct)
    ids = np.array([0] + [vocab.index.get(t, 1) for t in words], dtype=index)
    val = np.array([0.0] + [lex.get(t, 0.0) for t in words], dtype=np.float32)
    pcs = np.array([(0,) * PIECES] + [_padded_pieces(t) for t in words], dtype=index)
    return Encoded(torch.from_numpy(ids[grid]), torch.from_numpy(pcs[grid]), torch.from_numpy(val[grid]),
                   torch.tensor([len(t) for t in lists], dtype=torch.long))


@lru_cache(maxsize=200_000)
def _padded_pieces(token: str) -> tuple[int, ...]:
    p = pieces(token)
    return p + (0,) * (PIECES - len(p))


def encode(texts: Sequence[str], vocab: Vocabulary, max_tokens: int = MAX_TOKENS, index=np.int64) -> Encoded:
    return encode_tokens([tokenize(t) for t in texts], vocab, max_tokens, index)
