"""Per-word vectors from WordLlama (MIT): a 256-column table of Llama 2's 32,000 token pieces, trained
from the token embeddings of Llama 2 70B and Phi-3 medium for sentence similarity; more dimensions
to read a word by than GloVe's 50.

Read from the files the `wordllama` wheel ships, with safetensors and tokenizers only; WordLlama's
own loader would try to download its tokenizer. Needed only to build a new SentiNet's word table:
the shipped model carries its rows inside its weights.
"""
from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Sequence

import numpy as np

from data.core.errors import DataError

WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


def available() -> bool:
    return find_spec("wordllama") is not None


def _folder() -> Path:
    spec = find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("WordLlama is not installed: pip install wordllama==0.4.0.post1")
    return Path(next(iter(spec.submodule_search_locations)))


def word_vectors(words: Sequence[str], dims: int, mean_norm: float | None = None) -> np.ndarray:
    """(len(words), dims): each word's WordLlama vector, the mean of its Llama pieces' rows
    ("underwhelming" is ▁under·wh·el·ming), first `dims` columns (the table was trained so that its
    leading columns stand alone), scaled to rows of `mean_norm` on average when given (beside
    another table, neither starts out louder). A word with no pieces gets zeros."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    folder = _folder()
    table = load_file(str(folder / WEIGHTS))["embedding.weight"][:, :dims].astype(np.float32)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
    out = np.zeros((len(words), dims), np.float32)
    for i, encoding in enumerate(tokenizer.encode_batch(list(words), add_special_tokens=False)):
        if encoding.ids:
            out[i] = table[encoding.ids].mean(0)
    if mean_norm is not None:
        out *= mean_norm / np.linalg.norm(out, axis=1)[out.any(1)].mean()
    return out
