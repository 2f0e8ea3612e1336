"""Choosing what to train on: the task's official data, a zip of class folders the
user uploads, or examples the user collected in the app, optionally mixed with
the official data. Every app uses this unchanged; the task object does the
reading and validating, this component only shows it.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from apps.components.common import md_labels, md_text
from data.core import download
from data.core.errors import DataError, DatasetMissing
from models.core.tasks import Splits, Task

OFFICIAL, UPLOAD, COLLECTED = "official", "upload", "collected"


@st.cache_resource(show_spinner="Loading the official data set…")
def official_splits(task_name: str) -> Splits:
    from models import get_task
    return get_task(task_name).load_splits()


def _official(task: Task) -> tuple[Splits | None, DatasetMissing | list[str] | None]:
    """(splits, None), or (None, the names of the missing datasets, or the loader's error)."""
    missing = download.missing(task.name)      # checked first: the loaders would try to download them
    if missing:
        return None, missing
    try:
        return official_splits(task.name), None
    except DatasetMissing as e:
        return None, e


def missing_data(task: Task, key: str, error: DatasetMissing) -> None:
    """A loader's DatasetMissing, said as the training panels say it (any page that reads a task's
    official data): no command-line options, which an app's user has none of."""
    not_here(task, key, download.missing(task.name) or error)


def not_here(task: Task, key: str, problem: DatasetMissing | list[str]) -> None:
    """What is missing in one sentence, and the two ways to get it: download it now, or start the app
    with BACKPROP_DATA naming a folder that has it."""
    if isinstance(problem, DatasetMissing):     # there, but unreadable: no download mends it
        st.warning(problem.sentence)
        return
    titles = [download.DATASETS[n].title for n in problem]
    what = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    st.warning(f"{download.sentence_start(what)} {'is' if len(titles) == 1 else 'are'} not on this machine.")
    go, hint = st.columns([1, 3], vertical_alignment="center")
    clicked = go.button(f"Download it now ({download.size_text(problem)})", key=f"{key}__download")
    hint.caption("Or start the app with `BACKPROP_DATA=/path/to/datasets streamlit run apps/home.py`, "
                 "naming a folder that has it.")
    if not clicked:
        return
    bar, shown = st.progress(0.0, text=f"Downloading {what}…"), [-1]

    def progress(done: int, total: int) -> None:
        percent = min(100, done * 100 // max(1, total))
        if percent != shown[0]:      # a message to the browser per percent, not per 64 kB
            shown[0] = percent
            bar.progress(percent / 100, text=f"Downloading {what}: {done / 1024**2:,.1f} of "
                                             f"{total / 1024**2:,.1f} MB")
    try:
        download.fetch_task(task.name, progress=progress)
    except DatasetMissing as e:
        bar.empty()
        st.error(e.sentence)
        return
    official_splits.clear()
    st.rerun()


def _uploaded(task: Task, key: str, up, mix_with: Splits | None) -> Splits | None:
    cache_key = f"{key}__upload_cache"
    cached = st.session_state.get(cache_key)
    if cached is None or cached[0] != (up.file_id, mix_with is not None):
        with st.spinner("Reading your data…"):
            try:
                with tempfile.TemporaryDirectory(prefix="bps-") as tmp:
                    path = Path(tmp) / "upload.zip"
                    path.write_bytes(up.getvalue())
                    splits, report = task.load_custom(path, mix_with=mix_with)
                cached = ((up.file_id, mix_with is not None), splits, report, None)
            except DataError as e:
                cached = ((up.file_id, mix_with is not None), None, None, str(e))
        st.session_state[cache_key] = cached
    _, splits, report, error = cached
    if error:
        st.error(f"Cannot train on this upload: {md_text(error)}")
        return None
    counts = report.counts()
    st.success(f"Read {len(report.items)} examples in {len(counts)} classes.")
    st.dataframe(pd.DataFrame({"class": list(counts), "examples": list(counts.values())}), hide_index=True,
                 width=320)
    if report.skipped:
        with st.expander(f"{len(report.skipped)} file(s) skipped: they could not be read"):
            st.dataframe(pd.DataFrame(report.skipped, columns=["file", "why"]), hide_index=True)
    if report.ignored:
        st.caption(f"Ignored {len(report.ignored)} file(s) of other types, e.g. {md_text(report.ignored[0])}.")
    return splits


def choose_data(task: Task, key: str, collected: list | None = None,
                official_name: str = "the official data", upload_help: str = "",
                default: str = OFFICIAL) -> tuple[Splits | None, str]:
    """Returns (splits or None, a one-line description of them). `default` is the source chosen
    at first: a task whose official data takes long to load need not load it on every visit."""
    options = {OFFICIAL: f"Official data ({official_name})", UPLOAD: "Upload your own (zip of class folders)"}
    if collected is not None:
        # a fixed label: when a radio option's label changes (a count in it), the browser shows none selected
        options[COLLECTED] = "Examples you collected here"
    source = st.radio("Train on", list(options), format_func=options.get, key=f"{key}__source", horizontal=True,
                      index=list(options).index(default) if default in options else 0)
    if source == OFFICIAL:
        splits, problem = _official(task)
        if problem:
            not_here(task, key, problem)
            return None, ""
        return splits, _describe(splits)

    mix = st.checkbox(f"Also train on {official_name} for the labels both share (so the model does not forget)",
                      key=f"{key}__mix")
    mix_with = None
    if mix:
        mix_with, problem = _official(task)
        if problem:
            not_here(task, f"{key}__mix", problem)
    if source == UPLOAD:
        up = st.file_uploader("A .zip of one folder per label", type=["zip"], key=f"{key}__zip",
                              max_upload_size=200,
                              help=upload_help or "Each folder's name is the label; its files are the examples.")
        if up is None:
            st.info("Upload a zip whose folders are the labels, e.g. `cat/…`, `dog/…`.")
            return None, ""
        splits = _uploaded(task, key, up, mix_with)
        return splits, _describe(splits) if splits else ""
    try:
        splits = task.examples_to_splits(collected or [], mix_with=mix_with)
    except DataError as e:
        st.info(md_text(e))
        return None, ""
    return splits, _describe(splits)


def _describe(s: Splits) -> str:
    p = s.provenance
    parts = [f"{p.get('dataset', 'data')}: {len(s.train)} training examples"]
    if s.val is not None:
        parts.append(f"{len(s.val)} for validation")
    if s.test is not None and s.test is not s.val:
        parts.append(f"{len(s.test)} for testing")
    if p.get("mixed_with"):
        parts.append(f"mixed with {p['mixed_with']}")
    return ", ".join(parts) + f"; labels {md_labels(s.labels)}."
