"""How KeywordNet does on voices it never heard: the Speech Commands speakers held out of
training (data.speech.datasets.validation_speaker), the held-out end of every background-noise
recording, and FSDD's official test split. The figures README, the model card and the app show.

    python -m models.evaluate speech          # prints this report as JSON
"""
from __future__ import annotations

import statistics
from typing import Callable

import torch

from data.core.errors import DatasetMissing
from data.speech.audio import SAMPLE_RATE
from data.speech.datasets import (COMMANDS, DIGIT_WORDS, FSDD_TEST_TAKES, SILENCE, UNKNOWN, background_noise_split,
                                  load_fsdd, load_speech_commands, speech_commands_folder, validation_speaker)
from models.core.predictor import Predictor


def truth(word: str, labels: list[str]) -> str:
    """What a clip of `word` should be called: itself if the model knows it, else `_unknown_`."""
    return word if word in labels else UNKNOWN


def predict_labels(predictor: Predictor, waves: torch.Tensor, batch: int = 256) -> list[str]:
    # the predictor's own path (silence gate included): the answers a user would get
    out = []
    for i in range(0, len(waves), batch):
        probs = predictor.probabilities([(w.numpy(), SAMPLE_RATE) for w in waves[i:i + batch]])
        out += [predictor.labels[j] for j in probs.argmax(1).tolist()]
    return out


def report(predictor: Predictor, root=None, log: Callable[[str], None] | None = None) -> dict:
    labels = predictor.labels
    sc = load_speech_commands(root)
    held = sc.subset([validation_speaker(s) for s in sc.speakers])
    _, noise = background_noise_split(speech_commands_folder(root))
    if log:
        log(f"{len(held)} clips of {len(set(held.speakers))} held-out speakers, {len(noise)} s of held-out noise")
    said = predict_labels(predictor, held.waves)
    heard_in_noise = predict_labels(predictor, noise)
    per_word: dict[str, list[bool]] = {}
    for word, answer in zip(held.words, said):
        per_word.setdefault(truth(word, labels), []).append(answer == truth(word, labels))
    per_word.setdefault(SILENCE, []).extend(a == SILENCE for a in heard_in_noise)
    n = len(labels)
    confusion = torch.zeros(n, n, dtype=torch.long)
    for word, answer in [*zip(held.words, said), *((SILENCE, a) for a in heard_in_noise)]:
        t = truth(word, labels)
        if t in labels:
            confusion[labels.index(t), labels.index(answer)] += 1

    def share(words) -> float | None:
        hits = [h for w in words for h in per_word.get(w, [])]
        return sum(hits) / len(hits) if hits else None

    result = {
        "held_out_speakers": sorted(set(held.speakers)),
        "clips": {w: len(v) for w, v in sorted(per_word.items())},
        "per_keyword": {w: sum(v) / len(v) for w, v in per_word.items() if w not in (UNKNOWN, SILENCE)},
        "commands": share(COMMANDS),
        "digits": share(DIGIT_WORDS),
        "unknown_rejection": share([UNKNOWN]),      # other words answered `_unknown_`
        "silence": share([SILENCE]),                # background noise answered `_silence_`
        "all": sum(confusion.diag().tolist()) / max(1, int(confusion.sum())),
        "confusion": confusion.tolist(),
        "labels": labels,
    }
    try:
        fsdd = load_fsdd(root)
        test = fsdd.subset([t in FSDD_TEST_TAKES for t in fsdd.takes])
        result["fsdd_test"] = statistics.mean(a == w for a, w in zip(predict_labels(predictor, test.waves), test.words))
    except DatasetMissing:
        result["fsdd_test"] = None
    return result


def headline(result: dict) -> str:
    """The one line the apps show for the model."""
    return (f"voices it never heard: commands {result['commands']:.1%}, digits {result['digits']:.1%}, "
            f"other words rejected {result['unknown_rejection']:.1%}; FSDD test {result['fsdd_test']:.1%}")
