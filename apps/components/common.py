"""What every page of the suite shares: page set-up, the shipped model (loaded
once per server), and each browser session's own trained models.

A session's models live in its st.session_state only: training in one browser
never touches the shipped weights on disk or another session's models.
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import re
from dataclasses import dataclass

import streamlit as st

from models.core.checkpoint import CheckpointError, from_zip
from models.core.export import export_onnx, onnx_zip
from models.core.predictor import Predictor
from models import get_task, load_predictor

SHIPPED = "Shipped model"


@functools.lru_cache(maxsize=8)
def favicon(title: str):
    """The tab's icon, drawn here: a ':material/…:' page icon is fetched by the browser from
    fonts.gstatic.com, which fails offline. A coloured disc with the page's initial, served by the app."""
    from PIL import Image, ImageDraw
    colour = FAVICON_COLOURS.get(title, "#4c78a8")
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.ellipse((2, 2, 62, 62), fill=colour)
    draw.text((32, 33), title[:1].upper(), fill="white", anchor="mm", font_size=40)
    return img


FAVICON_COLOURS = {"Digits": "#e4572e", "Typos": "#4c78a8", "Sentiment": "#54a24b", "Speech commands": "#b279a2",
                   "Backprop Lab": "#f58518", "Backprop Showcase": "#333333"}


def page_setup(title: str, icon: str) -> None:
    # `icon` (':material/…:') is for the page's heading and the navigation, drawn from Streamlit's own font
    try:
        st.set_page_config(page_title=f"{title} · Backprop Showcase", page_icon=favicon(title), layout="wide")
    except st.errors.StreamlitAPIException:
        pass  # a Streamlit that allows one call a run: the suite's home page set it


def app_header(task: str, title: str, icon: str, caption: str) -> tuple[str, Predictor, dict]:
    """The top of a task's page: title and caption, the sidebar's model picker and the model's figures.
    Returns the model in use as (name, predictor, card)."""
    page_setup(title, icon)
    st.title(f"{icon} {title}")
    st.caption(caption)
    name, predictor, card = model_picker(task)
    st.sidebar.caption(metric_line(card))
    return name, predictor, card


@st.cache_resource(show_spinner="Loading the shipped model…")
def shipped_predictor(task: str) -> Predictor:
    return load_predictor(task)


@dataclass
class SessionModel:
    name: str
    predictor: Predictor
    card: dict


def _store(task: str) -> dict[str, SessionModel]:
    return st.session_state.setdefault(f"{task}__models", {})


MAX_SESSION_MODELS = 6    # each holds its network (and Typos its index) for as long as the page is open


def add_session_model(task: str, predictor: Predictor, card: dict, what: str = "Your model") -> str:
    """Keeps a trained or loaded model in this session and makes it the one in use; past
    MAX_SESSION_MODELS the oldest is let go, so uploading one model after another cannot hold
    memory without end."""
    store = _store(task)
    while len(store) >= MAX_SESSION_MODELS:
        gone = store.pop(next(iter(store)))
        st.session_state.pop(f"{task}__picker_onnx_{gone.name}__onnx", None)     # its ONNX file, if made
    added = st.session_state[f"{task}__added"] = st.session_state.get(f"{task}__added", 0) + 1
    acc = card.get("metrics", {}).get("test_accuracy") or card.get("metrics", {}).get("val_accuracy")
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    name = f"{what} {added} ({stamp}" + (f", {acc:.1%})" if acc is not None else ")")
    store[name] = SessionModel(name, predictor, card)
    st.session_state[f"{task}__active"] = name
    return name


def active_model(task: str) -> tuple[str, Predictor, dict]:
    """(name, predictor, card) of the model this session is using now."""
    name = st.session_state.get(f"{task}__active", SHIPPED)
    store = _store(task)
    if name in store:
        m = store[name]
        return name, m.predictor, m.card
    p = shipped_predictor(task)
    return SHIPPED, p, p.card


def model_picker(task: str) -> tuple[str, Predictor, dict]:
    """Sidebar: choose among the shipped model and this session's own; load a saved zip."""
    store = _store(task)
    names = [SHIPPED, *store]
    current = st.session_state.get(f"{task}__active", SHIPPED)
    with st.sidebar:
        st.subheader("Model")
        choice = st.radio("Model in use", names, index=names.index(current) if current in names else 0,
                          # a new key whenever a model is added, so the radio shows the new one chosen
                          key=f"{task}__picker_{st.session_state.get(f'{task}__added', 0)}",
                          label_visibility="collapsed")
        st.session_state[f"{task}__active"] = choice
        up = st.file_uploader("Load a model saved from this app (.zip)", type=["zip"], key=f"{task}__load",
                              max_upload_size=256)
        if up is not None and st.session_state.get(f"{task}__loaded") != up.file_id:
            # tried once a file: a refused one is not unpacked again on every rerun
            st.session_state[f"{task}__loaded"], st.session_state[f"{task}__refused"] = up.file_id, None
            try:
                state, card = from_zip(up.getvalue())
                # the card is checked against its weights before anything is built (models.core.cards)
                predictor = get_task(task).predictor_from_state(state, card)
                add_session_model(task, predictor, card, "Loaded model")
                st.rerun()
            except (CheckpointError, KeyError, RuntimeError, ValueError) as e:
                st.session_state[f"{task}__refused"] = f"Could not load that model: {md_text(e)}"
        if up is not None and st.session_state.get(f"{task}__refused"):
            st.error(st.session_state[f"{task}__refused"])
    name, predictor, card = active_model(task)
    with st.sidebar:
        onnx_download(task, predictor.model, card, key=f"{task}__picker_onnx_{name}")
    return name, predictor, card


def onnx_download(task: str, model, card: dict, key: str, where=st) -> None:
    """"Export to ONNX" prepares the file once per model (seconds: export and a check in onnxruntime),
    then offers a zip of model.onnx and model.json (the card with its "onnx" section) for download."""
    ready = st.session_state.get(f"{key}__onnx")
    if ready is None or ready[0] != id(model):
        if not where.button("Export to ONNX", key=f"{key}__onnx_go",
                            help="An ONNX file of this model for onnxruntime and other runtimes, with its model "
                                 "card and the preprocessing it expects; checked against PyTorch before it is offered"):
            return
        try:
            with st.spinner("Exporting to ONNX and checking it in onnxruntime…"):
                data, sidecar = export_onnx(task, model, card)
        except ValueError as e:         # ExportError: the exporter failed or the file disagreed with PyTorch
            where.error(f"Could not export this model: {md_text(e)}")
            return
        ready = st.session_state[f"{key}__onnx"] = (id(model), onnx_zip(data, sidecar))
    where.download_button("Download ONNX (.zip)", ready[1], file_name=f"{task}-model-onnx.zip",
                          mime="application/zip", key=f"{key}__onnx_dl",
                          help="model.onnx and model.json: the model card with the inputs, output and preprocessing")


# every ASCII punctuation mark markdown or Streamlit gives a meaning (emphasis, links, images, `$` maths,
# `:red[…]` and `:material/…:`), bar & < > which become entities; a backslash makes each one literal
_MD_MARKS = re.compile(r"([!#$%()*+\-./:;=?@\[\\\]^_`{|}~])")
# the renderer turns bare "http://…", "www.…" and "a@b.c" into links after escapes are read: a word
# joiner (invisible) inside each keeps them text
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.I)


def md_text(text) -> str:
    """Anything a user chose (a typed word, a file or class name, a label or figure from an uploaded model
    card, an error that quotes one) as literal text in Streamlit's markdown. Unescaped, a word typed as
    `![](http://…)` made the browser fetch that address, and a card's label could show a link."""
    marked = _MD_MARKS.sub(r"\\\1", _AUTOLINK.sub("\u2060", str(text)))
    return html.escape(marked, quote=False)


def md_labels(labels) -> str:
    """Labels for one markdown line, each literal (`_silence_` stays as written), on one line."""
    return ", ".join(md_text(" ".join(str(label).split())) for label in labels)


def metric_line(card: dict) -> str:
    m = card.get("metrics", {})
    parts = []
    if headline := card.get("evaluation", {}).get("headline"):
        parts.append(md_text(headline))     # the figure of the task's own evaluation command, not its training split's
    else:
        if "test_accuracy" in m:
            parts.append(f"test accuracy {m['test_accuracy']:.2%}")
        if "val_accuracy" in m:
            parts.append(f"validation {m['val_accuracy']:.2%}")
    data = card.get("data", {})
    if data.get("dataset"):
        parts.append(f"trained on {md_text(data['dataset'])}")
    return ", ".join(parts)
