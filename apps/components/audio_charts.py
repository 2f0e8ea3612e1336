"""Charts of sound: a waveform, the log-mel spectrogram the network sees, and the
keywords a scan found along a recording."""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from data.speech.audio import HOP, SAMPLE_RATE


def waveform_chart(wave: np.ndarray, sr: int, marks: list[dict] | None = None, height: int = 160) -> None:
    """The envelope (min and max per column) of a recording, with found keywords marked."""
    wave = np.asarray(wave, np.float32)
    cols = min(len(wave), 1200)
    edges = np.linspace(0, len(wave), cols + 1).astype(int)
    lo = np.array([wave[a:b].min() if b > a else 0 for a, b in zip(edges[:-1], edges[1:])])
    hi = np.array([wave[a:b].max() if b > a else 0 for a, b in zip(edges[:-1], edges[1:])])
    df = pd.DataFrame({"time": edges[:-1] / sr, "low": lo, "high": hi})
    chart = alt.Chart(df).mark_area(color="#4c78a8").encode(
        x=alt.X("time:Q", title="seconds"), y=alt.Y("low:Q", title="amplitude", scale=alt.Scale(domain=[-1, 1])),
        y2="high:Q")
    if marks:
        m = pd.DataFrame(marks)
        band = alt.Chart(m).mark_rect(opacity=0.15, color="#e4572e").encode(x="start:Q", x2="end:Q")
        text = alt.Chart(m).mark_text(dy=-height / 2 + 12, fontWeight="bold", color="#e4572e").encode(
            x="time:Q", text="label:N")
        chart = band + chart + text
    st.altair_chart(chart, width="stretch", height=height)


def logmel_chart(mel: np.ndarray, height: int = 220) -> None:
    """Mel bands (rows, low at the bottom) against time, in dB below the clip's loudest cell."""
    bands, frames = mel.shape
    b, f = np.meshgrid(np.arange(bands), np.arange(frames), indexing="ij")
    df = pd.DataFrame({"band": b.ravel(), "time": (f.ravel() * HOP / SAMPLE_RATE).round(3), "dB": mel.ravel()})
    chart = alt.Chart(df).mark_rect().encode(
        x=alt.X("time:O", title="seconds", axis=alt.Axis(values=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0], labelAngle=0)),
        y=alt.Y("band:O", sort="descending", title="mel band (20 Hz – 4 kHz)", axis=alt.Axis(values=[0, 10, 20, 30, 39])),
        color=alt.Color("dB:Q", scale=alt.Scale(scheme="magma", domain=[-80, 0]), legend=alt.Legend(title="dB")),
        tooltip=["time", "band", alt.Tooltip("dB:Q", format=".1f")])
    st.altair_chart(chart, width="stretch", height=height)


def windows_chart(windows: list[dict], height: int = 200) -> None:
    """What each 1-s window of a scan was taken for, and how sure the network was."""
    df = pd.DataFrame([{"time": (w["start"] + w["end"]) / 2, "label": w["label"], "score": w["score"]}
                       for w in windows])
    chart = alt.Chart(df).mark_circle(size=80).encode(
        x=alt.X("time:Q", title="window centre (s)"), y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("label:N", legend=alt.Legend(orient="bottom", title=None, columns=8)),
        tooltip=["time", "label", alt.Tooltip("score:Q", format=".2f")])
    st.altair_chart(chart, width="stretch", height=height)
