"""What an ONNX copy of TypoNet takes, and what its caller must do first (models/core/export.py).

Only the network leaves: the candidate search (the symmetric-delete index over 81,875 words, the
Metaphone and consonant keys) and the features of each (typo, candidate) pair are Python
(data/typos/features.py) and stay with the caller, as the card says.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from data.typos.features import MAX_LEN, N_NUMERIC, OP_BUCKETS, featurize, to_batch
from models.core.export import ExportSpec

SAMPLE_TYPOS = ["sesert", "fotograf", "recieve", "teh", "bisnes", "acomodashun", "wierd", "intresting"]


class ExportableTypoNet(nn.Module):
    """TypoNet's scores without its speed-ups, which have data-dependent shapes: every candidate
    row is encoded (not only the distinct ones) over all MAX_LEN columns (not cut to the longest
    word: the cut columns are padding, which changes nothing), and the bag of edit operations is
    an embedding summed under a mask."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def encode(self, ids):
        enc = self.net.chars
        pad = (ids == 0).unsqueeze(1)
        x = enc.embed(ids).transpose(1, 2)
        x = F.relu(enc.conv2(F.relu(enc.conv1(x))))
        return x.masked_fill(pad, -1e4).amax(dim=2).clamp(min=0)

    def forward(self, typo, cand, ops, numeric, mask):
        B, K, L = cand.shape
        t = self.encode(typo).unsqueeze(1)
        c = self.encode(cand.reshape(B * K, L)).view(B, K, -1)
        bag = self.net.ops
        o = (F.embedding(ops, bag.weight) * (ops != 0).unsqueeze(-1).to(bag.weight.dtype)).sum(2)
        x = torch.cat([t * c, (t - c).abs(), o, numeric], dim=2)
        score = self.net.output(F.relu(self.net.hidden(x))).squeeze(2)
        return score.masked_fill(~mask, -1e4)


def batch_for(words: list[str], index) -> tuple[torch.Tensor, ...]:
    """The network's five inputs for typed words, as the predictor builds them."""
    b = to_batch(featurize(words, [index.lookup(w) for w in words], index))
    return b.typo, b.cand, b.ops, b.numeric, b.mask


def export_spec(model, card: dict) -> ExportSpec:
    from models.typos.task import build_index
    index = build_index(card)
    samples = [batch_for(SAMPLE_TYPOS, index), batch_for(["sesert"], index), batch_for(["helo", "wrld"], index)]
    return ExportSpec(
        module=ExportableTypoNet(model), names=["typo", "cand", "ops", "numeric", "mask"], example=samples[0],
        dynamic={"typo": {0: "batch"}, "cand": {0: "batch", 1: "candidates"},
                 "ops": {0: "batch", 1: "candidates", 2: "operations"},
                 "numeric": {0: "batch", 1: "candidates"}, "mask": {0: "batch", 1: "candidates"}},
        samples=samples,
        meaning={"typo": f"int64 (batch, {MAX_LEN}): the typed word's character ids, 0-padded "
                         "(data.typos.features.char_row)",
                 "cand": f"int64 (batch, candidates, {MAX_LEN}): each candidate's character ids, 0-padded; "
                         "all-zero rows where a word has fewer candidates",
                 "ops": f"int64 (batch, candidates, operations): hashed edit operations typo -> candidate, ids "
                        f"1..{OP_BUCKETS - 1}, 0-padded (data.typos.features.pair_ops)",
                 "numeric": f"float32 (batch, candidates, {N_NUMERIC}): frequency, edit distance and the other "
                            "pair features (data.typos.features.pair_features)",
                 "mask": "bool (batch, candidates): True where a candidate exists"},
        output="one score per candidate, -10000 where mask is False; softmax over a word's candidates gives "
               "P(candidate is the intended word); the labels are the candidates themselves",
        caller_must={
            "summary": "Python-only: the candidate search and the pair features are this project's code; "
                       "the ONNX file is the network over them",
            "python_only": True,
            "steps": ["lower-case the typed word; known words, numbers and URLs need no correction",
                      "find its candidates: data.typos.features.CandidateIndex(counts).lookup(word) over the "
                      "model's vocabulary (models.typos.task.build_index(card): symspellpy's English list plus "
                      "the card's data.vocabulary_added), known words within two edits and, unless a common word "
                      "is one edit away, words that sound or are spelt alike",
                      "build the five inputs: data.typos.features.to_batch(featurize(words, candidates, index)), "
                      "as models/typos/export.py's batch_for does",
                      "run the file; the candidate with the highest score is the correction"],
            "not_exported": "the sentence-level context (models/typos/context.py: a word-pair language model that "
                            "reranks candidates and fixes real-word errors) is Python too and not in the file",
            "candidates": card.get("preprocessing", {}).get("candidates", ""),
            "features": card.get("preprocessing", {}).get("features", "")})
