"""The Speech page's sample shelf, and how reliable each keyword is on voices never heard.

The shelf holds ten real Speech Commands recordings (CC BY 4.0; apps/samples/speech/
ATTRIBUTION.md) of speakers the shipped model never trained on, so that a visitor with no
microphone can hear one and send it to the model with one click.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import streamlit as st

from apps.components import charts
from apps.components.common import md_labels, md_text
from data.core.errors import DataError
from data.speech.audio import read_audio
from models.speech.task import LABELS

SHELF = Path(__file__).resolve().parents[1] / "samples" / "speech"
CHOSEN = "speech_sample"


@st.cache_data(show_spinner=False)
def samples() -> list[dict]:
    if not (SHELF / "samples.csv").exists():
        return []
    with open(SHELF / "samples.csv", newline="") as f:
        return [row for row in csv.DictReader(f) if (SHELF / row["file"]).exists()]


def forget_sample() -> None:
    """A new recording or upload takes over from a sample sent earlier."""
    st.session_state.pop(CHOSEN, None)


def sample_shelf() -> None:
    """Each sample: its word, a player, and a button that sends it to the model."""
    rows = samples()
    if not rows:
        return
    st.markdown("**No microphone?** Real recordings of people the model never heard:")
    cols = st.columns(2)
    for i, row in enumerate(rows):
        with cols[i % 2]:
            word, file = row["word"], SHELF / row["file"]
            if st.button(f"“{word}”", key=f"speech_shelf_{i}", help=f"Send this recording of “{word}” to the model",
                         icon=":material/send:", width="stretch"):
                st.session_state[CHOSEN] = row["file"]
            st.audio(file.read_bytes(), format="audio/flac")
    st.caption("Speech Commands v0.02 (Warden 2018), CC BY 4.0: see apps/samples/speech/ATTRIBUTION.md.")


def chosen_sample() -> tuple[tuple, str] | None:
    """((waveform, rate), what to call it) of the sample last sent, or None."""
    name = st.session_state.get(CHOSEN)
    row = next((r for r in samples() if r["file"] == name), None)
    if row is None:
        return None
    try:
        return read_audio(SHELF / row["file"]), f"The sample “{row['word']}”"
    except DataError as e:
        st.error(md_text(e))
        return None


def reliability(card: dict) -> None:
    """Per keyword, how often the model is right on voices it never heard, and what it confuses."""
    evaluation = card.get("evaluation")
    held = evaluation.get("held_out") if isinstance(evaluation, dict) else None
    if not held:
        if list(card.get("labels") or []) == list(LABELS):
            st.caption("This model has no held-out figures: `python -m models.evaluate speech --weights … --record` "
                       "measures them.")
        else:       # taught words of its own: the held-out speakers said none of them
            st.caption("This model knows words of its own, so it has no held-out figures: `python -m "
                       "models.evaluate speech --weights … --custom FOLDER` measures it on recordings of them.")
        return
    try:
        _reliability(held)
    except (KeyError, TypeError, ValueError, AttributeError):    # an uploaded card's figures are its author's
        st.caption("This model's held-out figures cannot be read.")


def _reliability(held: dict) -> None:
    st.markdown(f"Measured on **{len(held['held_out_speakers'])} Speech Commands speakers the model never "
                f"trained on**: commands {held['commands']:.1%}, digits {held['digits']:.1%}, other words "
                f"answered `_unknown_` {held['unknown_rejection']:.1%}, background noise answered "
                f"`_silence_` {held['silence']:.1%}.")
    per = held["per_keyword"]
    rows = [{"word": w, "right": per[w], "clips": held["clips"].get(w, 0)} for w in per]
    rows += [{"word": "other words → _unknown_", "right": held["unknown_rejection"],
              "clips": held["clips"].get("_unknown_", 0)},
             {"word": "noise → _silence_", "right": held["silence"], "clips": held["clips"].get("_silence_", 0)}]
    df = pd.DataFrame(rows).sort_values("right")
    weak = [r["word"] for r in rows if r["right"] < 0.85 and r["clips"] >= 5]
    if weak:
        st.caption("Least reliable (under 85%, from 5 or more clips): " + md_labels(weak) + ".")
    st.dataframe(df.assign(right=df["right"].map(lambda v: f"{v:.0%}")), hide_index=True, width=420,
                 height=min(38 * (len(df) + 1), 560))
    st.caption("Digits and other words have only a few held-out clips each: their figures move a lot "
               "with one clip. FSDD's official test split: "
               + (f"{held['fsdd_test']:.1%}." if held.get("fsdd_test") is not None else "not measured."))
    charts.confusion_chart(held["confusion"], held["labels"])
