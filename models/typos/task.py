"""The Typos task: TypoNet chooses among a word's candidate corrections.

Training pairs are made on the fly from the vocabulary by the noise model (how
people really err), plus any pairs a user supplies. The vocabulary travels with
the model: the shipped one is symspellpy's English list, cleaned (rebuilt by
data.typos.spelling.load_vocabulary); a custom model's added words are in its card.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import torch
from torch.utils.data import TensorDataset

from data.typos import noise as typo_noise, spelling
from data.core.errors import DataError
from data.core.uploads import read_file, read_text_file
from data.typos.features import CandidateIndex, featurize, to_batch
from models.core.checkpoint import CheckpointError
from models.core.predictor import Predictor
from models.core.tasks import Splits, Task
from models.core.trainer import TrainConfig
from models.typos import context
from models.typos.net import TypoNet

MAX_WORD = 40         # longer tokens are not words anyone mistyped: passed through
MAX_TEXT = 20_000     # characters correct_text takes at once
NAME_CONFIDENCE = 0.9  # how sure the model must be to correct a capitalised word mid-sentence
ACRONYM_CONFIDENCE = 0.97   # ... and a word in capitals
WHITESPACE = re.compile(r"(\s+)")


def build_index(card: dict | None = None) -> CandidateIndex:
    """The candidate index of a model: English plus the words its card says were added (a loaded
    card's were checked by check_added_words first)."""
    added = (card or {}).get("data", {}).get("vocabulary_added", {})
    return _index(tuple(sorted((w, int(c)) for w, c in added.items())))


def check_added_words(card: dict) -> None:
    """The card's data.vocabulary_added, checked as a word list upload is before any index is built
    from it: an uploaded card of 32 MB could name 3 million made-up words (over 10 GB of index) or
    words a million letters long."""
    data = card.get("data") or {}
    added = (data.get("vocabulary_added") or {}) if isinstance(data, dict) else None
    if not isinstance(added, dict):
        raise CheckpointError("The model card's data.vocabulary_added must be an object of words and counts.")
    if len(added) > spelling.MAX_LIST_LINES:
        raise CheckpointError(f"The model card adds {len(added):,} words; a word list is at most "
                              f"{spelling.MAX_LIST_LINES:,}.")
    for w, c in added.items():
        if not (0 < len(w) <= spelling.MAX_WORD_CHARS and spelling.is_word_like(w)):
            raise CheckpointError(f"The model card adds {w[:40]!r}, which is not a word of at most "
                                  f"{spelling.MAX_WORD_CHARS} letters.")
        if type(c) is not int or not 0 <= c < 10**18:
            raise CheckpointError(f"The model card gives {w!r} the count {str(c)[:20]!r}, not a whole number of 0 or more.")


@lru_cache(maxsize=4)
def _index(added: tuple[tuple[str, int], ...]) -> CandidateIndex:
    # building the edit-distance index takes seconds: once per vocabulary, shared by predictors
    vocab = spelling.load_vocabulary()
    counts = dict(zip(vocab.words, vocab.counts))
    for w, c in added:
        counts[w] = max(counts.get(w, 0), c)
    return CandidateIndex(counts)


def examples(pairs: Sequence[tuple[str, str]], index: CandidateIndex) -> tuple[TensorDataset | None, int]:
    """Tensors for (typo, intended) pairs whose intended word is among the candidates;
    returns the data set and how many pairs had to be dropped (intended word not
    generated: more than two edits away, or not in the vocabulary)."""
    typos, cands, targets = [], [], []
    for typo, word in pairs:
        c = index.lookup(typo)
        if word not in c.words:
            continue
        typos.append(typo)
        cands.append(c)
        targets.append(c.words.index(word))
    if not typos:
        return None, len(pairs)
    b = to_batch(featurize(typos, cands, index))
    return (TensorDataset(b.typo, b.cand, b.ops, b.numeric, b.mask, torch.tensor(targets)),
            len(pairs) - len(typos))


class TyposPredictor(Predictor):
    """Items are single words. `label` is the correction, `score` its probability,
    `top` the best candidates. Known words are kept as they are unless
    keep_known=False."""

    batch_size = 256

    def __init__(self, model, card, index: CandidateIndex | None = None):
        super().__init__(model, card)
        self.index = index or build_index(card)

    @torch.inference_mode()
    def predict(self, items: Sequence[str], k: int = 3, keep_known: bool = True) -> list[dict]:
        if not isinstance(items, (list, tuple)):
            raise TypeError("predict takes a list of words; wrap a single word as [word]")
        results: list[dict | None] = [None] * len(items)
        todo = []
        for i, item in enumerate(items):
            word = str(item).strip().lower()
            if not word:
                raise DataError("An empty word cannot be corrected: type a word.")
            known = keep_known and (word in self.index.counts or word in spelling.ABBREVIATIONS)
            if known or len(word) > MAX_WORD or not spelling.is_word_like(word):
                # numbers, URLs, emoji and other scripts pass through untouched
                results[i] = {"label": word, "score": 1.0, "top": [(word, 1.0)]}
                continue
            c = self.index.lookup(word)
            if not c.words:
                results[i] = {"label": word, "score": 0.0, "top": [], "unknown": True}
                continue
            todo.append((i, word, c))
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s:s + self.batch_size]
            b = to_batch(featurize([w for _, w, _ in chunk], [c for _, _, c in chunk], self.index))
            probs = torch.softmax(self.model(b.typo, b.cand, b.ops, b.numeric, b.mask), dim=1)
            for (i, _, c), p in zip(chunk, probs):
                p = p[:len(c.words)]
                kk = min(k, len(c.words))
                vals, idx = p.topk(kk)
                top = [(c.words[j], float(v)) for v, j in zip(vals.tolist(), idx.tolist())]
                sources = {c.words[j]: c.sources[j] for j in idx.tolist()}
                results[i] = {"label": top[0][0], "score": top[0][1], "top": top, "sources": sources}
        return results

    def correct_text(self, text: str, use_context: bool = True) -> dict:
        """Correct a text word by word, keeping case and punctuation; numbers, URLs and
        other scripts pass through. With use_context, the neighbouring words choose among
        a misspelled word's candidates and replace a real word that the context rejects
        for its easily confused partner ("a peace of cake"): models/typos/context.py.
        Returns the text, the list of changes and the text's pieces (words at even
        positions, the whitespace between them at odd ones); a change's index is its
        piece, its `source` what found the correction ("edits", "sound", "consonants"
        or "context") and `candidates` how each candidate scored."""
        if not text or not text.strip():
            raise DataError("There is no text to correct: type a word or a sentence.")
        if len(text) > MAX_TEXT:
            raise DataError(f"The text is {len(text):,} characters long; correct at most {MAX_TEXT:,} at once.")
        # words at even positions, the whitespace between them (spaces, tabs, line breaks) kept as it was
        pieces = WHITESPACE.split(text)
        slots = []
        for i in range(0, len(pieces), 2):
            lead, core, trail = spelling.split_token(pieces[i])
            # initials ("J. Smith") and two capitals ("TV", "UK") are no misspellings anyone could fix
            initial = len(core) == 1 and core not in "aAI" or len(core) == 2 and core.isupper()
            if core and spelling.is_word_like(core) and len(core) <= MAX_WORD and not initial:
                slots.append(context.Slot(i, lead, core, trail, core.lower()))
        out = self.predict([s.word for s in slots], k=5) if slots else []
        best = [r["label"] for r in out]
        notes: list[dict | None] = [None] * len(slots)
        if use_context and slots:
            lm = context.scorer()
            context.neighbours(slots, best)
            for j, (s, r) in enumerate(zip(slots, out)):
                if r["label"] != s.word and len(r["top"]) > 1:
                    ranked = lm.rerank(r["top"], s.left, s.right)
                    best[j] = ranked[0]["word"]
                    notes[j] = {"candidates": ranked, "by_context": best[j] != r["label"]}
            context.neighbours(slots, best)
            for j, s in enumerate(slots):
                if best[j] == s.word and (found := lm.real_word(s.word, s.left, s.right)):
                    best[j] = found[0]
                    notes[j] = {"candidates": [{"word": found[0], "context": 0.0}, {"word": s.word, "context": -found[1]}],
                                "by_context": True, "real_word": True}
        changes = []
        for j, (s, r) in enumerate(zip(slots, out)):
            if best[j] == s.word:
                continue
            # an unknown capitalised word mid-sentence is a name, most likely, and one in capitals an
            # acronym ("PBS", "HIV"): changed only when the network is all but sure ("TEH")
            sure = dict(r["top"]).get(best[j], 1.0)
            if (s.core.isupper() and len(s.core) > 1 and sure < ACRONYM_CONFIDENCE
                    or context.looks_like_name(slots, j) and sure < NAME_CONFIDENCE):
                continue
            fixed = spelling.restore_case(s.core, best[j])
            pieces[s.index] = s.lead + fixed + s.trail
            note = notes[j] or {}
            real_word = bool(note.get("real_word"))
            source = "context" if real_word else r.get("sources", {}).get(best[j], "edits")
            # a real word's alternatives are the words it is confused with (no network probability)
            alts = [(w, None) for w in (s.word, *context.scorer().confusions[s.word]) if w != best[j]] \
                if real_word else r["top"]
            changes.append({"index": s.index, "original": s.core, "correction": fixed,
                            "score": None if real_word else dict(r["top"]).get(best[j], 0.0), "alternatives": alts,
                            "source": source, "by_context": bool(note.get("by_context")),
                            "candidates": note.get("candidates", [])})
        return {"text": "".join(pieces), "changes": changes, "pieces": pieces}


@dataclass
class CustomReport:
    """What the command line reports about a user's file (as for class folders)."""
    items: list
    classes: list[str]
    _counts: dict
    skipped: list = field(default_factory=list)

    def counts(self) -> dict:
        return self._counts


# a person's pairs in one training set, repeats included: an example's candidates and features take
# about 16 KB, and 20,000 pairs taken 20 times each had come to 8.4 GB
MAX_TAUGHT_EXAMPLES = 40_000


def repeated(pairs: Sequence[tuple[str, str]], times: int) -> list[tuple[str, str]]:
    """A person's pairs `times` over, so that training meets them among the noise model's, or fewer
    times where they are many; more pairs than one training set takes are refused."""
    if len(pairs) > MAX_TAUGHT_EXAMPLES:
        raise DataError(f"{len(pairs):,} pairs to learn; at most {MAX_TAUGHT_EXAMPLES:,} can be taught at once.")
    return list(pairs) * max(1, min(times, MAX_TAUGHT_EXAMPLES // max(1, len(pairs))))


class TyposTask(Task):
    name = "typos"
    title = "Typos"
    predictor_class = TyposPredictor
    min_labels = 0            # it picks among each word's candidates, not among labels
    arch_limits = {"dim": (1, 1024), "op_dim": (1, 1024), "hidden": (1, 4096)}
    probe_item = "teh"

    def build_model(self, labels: Sequence[str] = (), **arch) -> TypoNet:
        arch.pop("num_classes", None)
        return TypoNet(**arch)

    def default_config(self) -> TrainConfig:
        return TrainConfig(epochs=6, batch_size=128, lr=3e-3, optimizer="adam", schedule="onecycle")

    def preprocessing(self) -> dict:
        return {"candidates": "known words within 2 edits (symspellpy index), at most 16, closest and "
                              "most common first (one edit for words of up to 4 letters); unless a common "
                              "word is one edit away, up to 10 more whose Metaphone key or consonants are "
                              "within one edit of the typo's",
                "features": "characters of typo and candidate, hashed edit operations, log frequency, "
                            "edit distance, length difference, first/last letter match"}

    def load_splits(self, root=None, val_fraction: float = 0.1, seed: int = 0, n_pairs: int = 60_000,
                    extra_pairs: Sequence[tuple[str, str]] = (), added_vocab: dict[str, int] | None = None,
                    index: CandidateIndex | None = None) -> Splits:
        """Pairs made by the noise model from the vocabulary (nothing downloaded), plus a
        user's pairs; validation pairs come from another seed. added_vocab: a user's words
        (word -> count), weighted as heavily as all of English so training meets them."""
        vocab = spelling.load_vocabulary()
        added: dict[str, int] = {}
        if added_vocab:
            user = spelling.Vocabulary(list(added_vocab), [int(c) for c in added_vocab.values()])
            vocab = vocab.merged(user, weight=1.0)
            added = {w: int(vocab.counts[vocab.index[w]]) for w in user.words}
        index = index or build_index({"data": {"vocabulary_added": added}})
        n_val = int(n_pairs * val_fraction)
        train_pairs = typo_noise.pairs(vocab, n_pairs - n_val, seed=seed) + repeated(extra_pairs, 20)
        val_pairs = typo_noise.pairs(vocab, n_val, seed=seed + 10_000)
        train, dropped = examples(train_pairs, index)
        val, _ = examples(val_pairs, index)
        if train is None:
            raise DataError("None of the training pairs can be learnt: every correction is missing from the "
                            "vocabulary or more than two edits away.")
        provenance = {"dataset": "noise-model pairs from symspellpy's English frequency list (cleaned)"
                                 + (f" and {len(added):,} words of yours" if added else ""),
                      "train": len(train), "val": len(val) if val else 0, "dropped": dropped,
                      "user_pairs": len(extra_pairs), "seed": seed, "vocabulary_added": added}
        return Splits(train, val, val, [], provenance)

    def load_custom(self, path, val_fraction: float = 0.1, seed: int = 0, mix_with=None):
        """From the command line: a word list (word [count] per line) to add to the vocabulary, or
        typo,correction pairs to train on; which of them, the file's lines say, not its name."""
        data = read_file(path, spelling.MAX_LIST_BYTES,
                         f"a word list or CSV of at most {spelling.MAX_LIST_BYTES // 2**20} MB")
        text = spelling.decode_list(data, "word list or pairs file")
        if spelling.list_kind(text) == "pairs":
            pairs = spelling.read_pairs_csv(text)
            splits = self.load_splits(val_fraction=val_fraction, seed=seed, extra_pairs=pairs)
            return splits, CustomReport([p[0] for p in pairs], ["pairs"], {"pairs": len(pairs)})
        user = spelling.Vocabulary.from_user_list(text)
        splits = self.load_splits(val_fraction=val_fraction, seed=seed,
                                  added_vocab=dict(zip(user.words, user.counts)))
        return splits, CustomReport(user.words, ["words"], {"words": len(user.words)}, user.skipped)

    def splits_from_pairs(self, taught: Sequence[tuple[str, str]], replay: int = 2000, seed: int = 0,
                          index: CandidateIndex | None = None, added_vocab: dict | None = None) -> Splits:
        """Fine-tuning data for "teach it a typo": the taught pairs, repeated, among
        fresh noise-model pairs so that the model does not forget what it knew.
        Validation is the taught pairs themselves."""
        index = index or build_index()
        taught = [(t.strip().lower(), c.strip().lower()) for t, c in taught]
        unknown = [c for _, c in taught if c not in index.counts]
        if unknown:
            raise DataError(f"Not in the vocabulary, so it cannot be a correction: {', '.join(unknown[:5])}. "
                            "Add the words to the vocabulary first (a word list, in the *Your own vocabulary* "
                            "tab, or --custom with a word list on the command line).")
        far = [f"{t} → {c}" for t, c in taught if c not in index.lookup(t).words]
        if far:
            raise DataError(f"More than two edits apart and not sounding alike, so the candidates never "
                            f"include the correction: {', '.join(far[:5])}.")
        vocab = spelling.load_vocabulary()
        train, _ = examples(repeated(taught, 50) + typo_noise.pairs(vocab, replay, seed=seed + 77), index)
        val, _ = examples(taught, index)
        # the words a model was taught before stay in its card, so its index keeps them
        return Splits(train, val, val, [], {"dataset": f"{len(taught)} taught pairs among {replay} noise-model "
                                                       "pairs", "taught": [list(p) for p in taught],
                                            "vocabulary_added": dict(added_vocab or {})})

    def read_input(self, path) -> str:
        """A text file named on the command line: its text, to be corrected as correct_text does."""
        return read_text_file(path, 4 * MAX_TEXT, f"at most {MAX_TEXT:,} characters to correct at once")

    def check_card(self, card) -> None:
        super().check_card(card)
        check_added_words(card)    # the index is built from them, after the network

    def predictor_from_state(self, state: dict, card: dict) -> TyposPredictor:
        return self.probed(TyposPredictor(self.model_from_state(state, card), card))


TASK = TyposTask()
