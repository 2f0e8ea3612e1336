"""Sentiment: a recurrent network reads a text word by word and says how positive it is;
RNN, LSTM and GRU trained side by side show backprop through time; retrain on your own CSV."""
import html

import altair as alt
import pandas as pd
import streamlit as st

from apps.components import charts
from apps.components.common import app_header, md_text
from apps.components.custom_data import missing_data, official_splits
from apps.components.training_panel import training_panel
from data.sentiment import datasets as sd
from data.core.errors import DataError, DatasetMissing
from data.core.uploads import column_names
from data.sentiment.text import MAX_CHARS, MAX_TOKENS
from models.sentiment import bptt as sentiment_bptt
from models.sentiment.eval import vader_verdict, versus_vader
from models.sentiment.task import TASK
from models.core.trainer import TrainConfig

name, predictor, card = app_header(
    "sentiment", "Sentiment", ":material/sentiment_satisfied:",
    "A recurrent network (an LSTM read both ways over GloVe word vectors, sub-word pieces and a "
    "sentiment lexicon) reads your text one token at a time, trained by backpropagation through time "
    "on human labels and on what five such networks agree on.")
PERCENT = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
FINE_TUNE = TrainConfig(epochs=4, batch_size=32, lr=1e-3, optimizer="adam", schedule="constant", clip_grad_norm=5.0)
EXAMPLES = ["The pasta was cold and the waiter was rude. Never again.",
            "Battery lasts all day and the screen is gorgeous — best phone I've owned!",
            "I expected to hate it, but honestly it's not bad at all.",
            "the plot is thin , but the performances are wonderful ."]


def colour(c: float, scale: float) -> str:
    """A word's contribution as a background: green pushes toward the verdict, red away."""
    a = min(abs(c) / scale, 1.0) * 0.75 if scale > 0 else 0.0
    return f"rgba(46,160,67,{a:.2f})" if c >= 0 else f"rgba(214,39,40,{a:.2f})"


def along_chart(tokens: list[str], probs: list[float], label: str) -> None:
    """P(label) after each token, the tokens along the x axis in reading order."""
    df = pd.DataFrame({"i": range(len(tokens)), "token": [f"{i + 1}·{t}" for i, t in enumerate(tokens)],
                       "p": probs})
    # every word labelled (the axis skipped every other one) while they fit; a long text's are thinned
    x = alt.X("token:N", sort=list(df["token"]), title=None,
              axis=alt.Axis(labelAngle=-50, labelLimit=110, labelOverlap=len(tokens) > 40))
    line = alt.Chart(df).mark_line(point=True).encode(
        x=x, y=alt.Y("p:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=f"P({label})"),
        tooltip=["token", alt.Tooltip("p:Q", format=".1%")])
    middle = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(strokeDash=[4, 4], color="grey").encode(y="y:Q")
    # room on the right and below for the last word's slanted label
    st.altair_chart((line + middle).properties(padding={"left": 5, "top": 5, "right": 30, "bottom": 10}),
                    width="stretch", height=280)


def read_text(text: str) -> None:
    if not text.strip():
        st.info("Type or paste a review, a tweet or a paragraph, then press Ctrl+Enter.")
        return
    try:
        r = predictor.explain(text)
    except DataError as e:
        st.error(md_text(e))
        return
    st.markdown(f"#### Verdict: <span id='verdict'>{md_text(r['label'])}</span> · {r['score']:.1%}",
                unsafe_allow_html=True)
    if list(predictor.labels) == sd.LABELS:     # a model retrained on other labels has no VADER to agree with
        said, compound = vader_verdict(text)
        agree = "as the network does" if said == r["label"] else "where the network does not"
        st.caption(f"VADER, the rule-based lexicon most people reach for first, says **{said}** (compound "
                   f"{compound:+.2f}), {agree}.", help=(
                   "VADER adds up the valence of the words in its lexicon with rules for negation, "
                   "'but', capitals and '!'. Positive here when its compound score is 0 or more, as in "
                   "python -m models.sentiment.eval."))
    if r["truncated"]:
        st.warning(f"The text is long: the network read its first {MAX_TOKENS} tokens.")
    if not any(r["known"]):
        st.warning("None of these tokens is an English word the model knows (emoji, symbols or another script): "
                   "it reads only their sub-word pieces and lexicon valence, so treat the verdict with care.")
    left, right = st.columns([1, 1.4], gap="large")
    with left:
        charts.probability_chart(r["probs"], highlight=r["label"], height=220)
    with right:
        lab = "positive" if "positive" in r["along"] else r["label"]
        st.markdown(f"**What the network thinks after each word:** P({md_text(lab)}) of the text so far")
        along_chart(r["tokens"], r["along"][lab], lab)
    scale = max([abs(c) for c in r["contribution"]] + [1e-6])
    spans = "".join(f"<span title='{html.escape(t, quote=True)}: {c:+.3f}' style='background:{colour(c, scale)};"
                    f"padding:2px 3px;margin:1px;border-radius:3px'>{html.escape(t)}</span> "
                    for t, c in zip(r["tokens"], r["contribution"]))
    st.markdown(f"**Each word's contribution to “{md_text(r['label'])}”** (occlusion: how far the probability "
                "falls without it; green for, red against; hover for the number)")
    st.markdown(f"<div id='contributions' style='line-height:2.1'>{spans.replace('$', '&#36;')}</div>",
                unsafe_allow_html=True)


def choose_columns(up, key: str, labels: bool) -> tuple[int | None, int | None] | str:
    """The text (and label) column of an uploaded table, guessed from its header's names and shown to
    be changed: (text, label) indices, or an error message."""
    # read once a file: the choosers are drawn on every rerun of the page, and the header read decodes
    # the whole upload (20 MB at most) to guess its encoding
    held = st.session_state.get(f"{key}__header")
    if held is None or held[0] != up.file_id:
        try:
            held = (up.file_id, sd.header_row(up.getvalue()), None)
        except DataError as e:
            held = (up.file_id, None, f"Cannot read {md_text(up.name)}: {md_text(e)}")
        st.session_state[f"{key}__header"] = held
    header, error = held[1], held[2]
    if error:
        return error
    text_guess, label_guess = sd.guess_columns(header)
    if len(header) < 2:
        return text_guess, label_guess
    names = [(h.strip()[:60] or f"column {i + 1}") + ("…" if len(h.strip()) > 60 else "") for i, h in enumerate(header)]
    left, right = st.columns(2)
    # keyed by the file: another file's columns are other choices
    text = left.selectbox("Text column", range(len(header)), index=text_guess, format_func=names.__getitem__,
                          key=f"{key}_text_col_{up.file_id}", placeholder="choose the column of texts")
    label = label_guess
    if labels:
        label = right.selectbox("Label column", range(len(header)), index=label_guess,
                                format_func=names.__getitem__, key=f"{key}_label_col_{up.file_id}",
                                placeholder="choose the column of labels")
    return text, label


def score_csv() -> None:
    up = st.file_uploader("A CSV or TSV with a text column, or a .txt of one text a line", type=["csv", "tsv", "txt"], max_upload_size=20,
                          key="sent_score_file")
    if up is None:
        st.caption("Each row gets a label and its probability; download the file scored.")
        return
    # scored once a file and model: every rerun of the page (a word typed in the first tab, training's
    # refresh) had scored the whole file again, VADER's pass included, 3 s for 5,000 rows
    plain = up.name.lower().endswith(".txt")
    chosen = (None, None) if plain else choose_columns(up, "sent_score", labels=False)
    if isinstance(chosen, str):
        st.error(chosen)
        return
    text_col = chosen[0]
    held = st.session_state.get("sent_score__held")
    if held is None or held[0] != (up.file_id, name, text_col):
        held = st.session_state["sent_score__held"] = ((up.file_id, name, text_col), scored(up, plain, text_col))
    result = held[1]
    if "error" in result:
        st.error(result["error"])
        return
    df, prob, wide, rows = result["df"], result["prob"], result["wide"], len(result["df"])
    if wide:
        st.warning(f"{wide:,} row{'s' * (wide > 1)} of {rows:,} {'have' if wide > 1 else 'has'} more values than "
                   f"the header's {result['width']} (a comma inside a text that is not in quotes?): what is past "
                   "the last column is left out, of the text too if it was cut there.")
    n, skipped = result["n"], result["skipped"]
    st.success(f"Scored {n:,} text{'' if n == 1 else 's'}" + (f"; {skipped:,} empty or over {MAX_CHARS:,} characters "
                                                             "left unscored" if skipped else "") + ".")
    st.dataframe(df.head(200), hide_index=True, column_config={prob: PERCENT})
    st.download_button("Download the scored file (.csv)", df.to_csv(index=False), file_name="scored.csv",
                       mime="text/csv", key="sent_score_download")
    comparison = result["versus"]
    if isinstance(comparison, str):
        st.caption(comparison)
    elif comparison:
        show_comparison(*comparison)


def scored(up, plain: bool, text_col: int | None) -> dict:
    """An uploaded file scored by the model in use: the table with its two new columns, what was left
    out, and (when it has labels) how the network and VADER do on them; or the error."""
    try:
        header, rows, ti = sd.read_texts(up.getvalue(), text_column=text_col, plain=plain)
        texts = [r[ti] if ti < len(r) else "" for r in rows]
        ok = [i for i, t in enumerate(texts) if t.strip() and len(t) <= MAX_CHARS]
        with st.spinner(f"Scoring {len(ok):,} texts…"):
            out = predictor.predict([texts[i] for i in ok]) if ok else []
    except DataError as e:
        return {"error": f"Cannot score {md_text(up.name)}: {md_text(e)}"}
    width = len(header)
    # "predicted": a file scored here and uploaded again is not graded against its own predictions
    own, (said, prob) = column_names(header, ["predicted sentiment", "probability"])   # theirs are never overwritten
    df = pd.DataFrame([(r + [""] * width)[:width] for r in rows], columns=own)
    labels, probs = [""] * len(rows), [float("nan")] * len(rows)
    for i, r in zip(ok, out):        # whole columns at once: a .loc per row took 70 s for 50,000 rows
        labels[i], probs[i] = r["label"], r["score"]
    df[said], df[prob] = labels, probs
    return {"df": df, "prob": prob, "width": width, "wide": sum(len(r) > width for r in rows), "n": len(ok),
            "skipped": len(texts) - len(ok),
            "versus": None if plain else labelled_comparison(up.getvalue(), header, ti, {
                texts[i].strip(): r["label"] for i, r in zip(ok, out)})}


def labelled_comparison(data: bytes, header: list[str], ti: int, ours: dict[str, str]) -> tuple[dict, str] | str | None:
    """When the scored file has labels too: how often the network and VADER are right on them; why
    not, when a column looks like labels that cannot be read as negative and positive."""
    if list(predictor.labels) != sd.LABELS:
        return None                 # a model retrained on other labels: nothing to hold VADER against
    li = sd.guess_columns(header, ti)[1]
    if li is None:
        return None                 # no label column: scoring alone
    try:
        found, how = sd.as_polarity(sd.read_labelled(data, text_column=ti, label_column=li))
    except DataError as e:
        return f"Column {md_text(repr(header[li]))} looks like labels but is not compared with VADER: {md_text(e)}"
    with st.spinner("Reading your labelled rows with VADER too…"):
        r = versus_vader(found, ours)
    return (r, how) if r["n"] else None


def show_comparison(r: dict, how: str) -> None:
    which = f"its first {r['n']:,} labelled rows (the rest are left out: VADER is slow on long files)" \
        if r["cut"] else f"its {r['n']:,} labelled rows"
    st.markdown(f"**Your file has labels too** (read as {how}): on {which}")
    ours_col, vader_col = st.columns(2)
    lead = 100 * (r['model'] - r['vader'])
    ours_col.metric("this network is right", f"{r['model']:.1%}", f"{lead:+.1f} points vs VADER",
                    delta_color="normal" if round(lead, 1) else "off")     # a tie is no green arrow
    vader_col.metric("VADER is right", f"{r['vader']:.1%}")


def compare_cells() -> None:
    st.markdown("Three small one-way recurrent networks (plain RNN, LSTM, GRU) learn the same sentences with the "
                "common trainer and classify from their **final state**, so the error must flow back through "
                "every time step to reach the first words. Then autograd measures ‖∂loss/∂x_t‖, the gradient "
                "reaching each earlier time step, on sentences of equal length.")
    try:
        splits = official_splits("sentiment")
    except DatasetMissing as e:
        missing_data(TASK, "sent_bptt", e)
        return
    c1, c2, c3 = st.columns(3)
    n = c1.select_slider("Training sentences", [500, 1000, 1500, 3000, 6000], value=1500, key="sent_bptt_n")
    epochs = c2.number_input("Epochs", 1, 10, 2, key="sent_bptt_epochs")
    clip_mode = c3.radio("Gradient clipping", ["on (1.0) and off", "on (1.0)", "off"], key="sent_bptt_clip")
    clips = {"on (1.0) and off": (1.0, None), "on (1.0)": (1.0,), "off": (None,)}[clip_mode]
    if st.button("Train RNN, LSTM and GRU", type="primary", key="sent_bptt_start"):
        bar = st.progress(0.0, text="training…")
        total = 3 * len(clips)
        done = []

        def tick(run):
            done.append(run)
            bar.progress(len(done) / total, text=f"{len(done)}/{total} trained ({run.cell})")

        st.session_state["sent_bptt_runs"] = sentiment_bptt.compare(TASK, splits, clips=clips, n_train=int(n),
                                                                     epochs=int(epochs), on_run=tick)
    runs = st.session_state.get("sent_bptt_runs")
    if not runs:
        st.caption("Takes 10–60 s on two cores.")
        return
    label = lambda r: f"{r.cell.upper()}" + (f", clip {r.clip:g}" if r.clip else ", no clip")  # noqa: E731
    rows = [{"network": label(r), "validation accuracy": r.val_accuracy, "seconds": round(r.seconds, 1),
             "∂loss/∂x at the first step": r.step_grads[0] if r.step_grads else None,
             "at the last step": r.step_grads[-1] if r.step_grads else None,
             "first ÷ last": (r.step_grads[0] / r.step_grads[-1]) if r.step_grads else None} for r in runs]
    tiny = st.column_config.NumberColumn(format="%.2e")      # 1.2e-11, not 0.00000000001
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "validation accuracy": PERCENT, "∂loss/∂x at the first step": tiny, "at the last step": tiny,
        "first ÷ last": tiny})
    left, right = st.columns(2)
    with left:
        charts.series_chart({label(r): r.step_grads for r in runs}, "time step (1 = first word)",
                            "‖∂loss/∂x_t‖", title="Gradient reaching each time step (log scale)")
    with right:
        charts.runs_chart({label(r): r.history for r in runs}, y="loss", title="Training loss per batch",
                          x_title="batch")
    charts.runs_chart({label(r): r.history for r in runs}, y="grad_norm", log=True, x_title="batch",
                      title="Gradient norm of each update (before clipping), log scale")
    best = max(r.val_accuracy for r in runs)
    # the text follows the run: clipping is named only when a run clipped, and a run where none learnt says so
    st.caption(("" if best >= 0.6 else f"None of the three learnt much this time (at best {best:.0%}): more "
                "sentences or epochs help. The gradients still show the difference. ")
               + "A plain RNN's gradient shrinks by orders of magnitude on its way back to the first words "
               "(the column first ÷ last): it learns mostly from the end of the sentence. The LSTM's cell state "
               "and the GRU's update gate carry far more of it back."
               + (" Clipping caps the size of each update (the spikes in the last chart), not the vanishing."
                  if any(r.clip for r in runs) else ""))


def render_mistakes(mistakes: list[dict], data) -> None:
    texts = getattr(data, "texts", None)
    rows = [{"text": texts[m["index"]] if texts else m["index"], "true": m["true"], "predicted": m["predicted"],
             "confidence": m["score"]} for m in mistakes]
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={"confidence": PERCENT,
                 "text": st.column_config.TextColumn(width="large")})


def custom_training() -> None:
    st.markdown("Upload texts with labels (any labels: words or numbers, two classes or more) and fine-tune the "
                "model in use, or train one from scratch. The new model is used at once; the shipped one is never "
                "changed. Download it as a zip and load it again from the sidebar.")
    up = st.file_uploader("A CSV or TSV with a text column and a label column", type=["csv", "tsv", "txt"], max_upload_size=20,
                          key="sent_train_file")
    if up is None:
        st.info("e.g. a header `text,label`, then one row per example. At least two different labels.")
        training_panel(TASK, "sent_custom", None, defaults=FINE_TUNE)
        return
    chosen = choose_columns(up, "sent_train", labels=True)
    if isinstance(chosen, str):
        st.error(chosen)
        training_panel(TASK, "sent_custom", None, defaults=FINE_TUNE)
        return
    held = st.session_state.get("sent_train__read")
    if not held or held[0] != (up.file_id, chosen):
        try:
            if None not in chosen and chosen[0] == chosen[1]:
                raise DataError("the text and the labels are the same column: choose two.")
            found = sd.read_labelled(up.getvalue(), *chosen)
            held = ((up.file_id, chosen), found, polarity_of(found), None)
        except DataError as e:
            held = ((up.file_id, chosen), None, None, f"Cannot train on {md_text(up.name)}: {md_text(e)}")
        st.session_state["sent_train__read"] = held
    _, found, polar, error = held
    if error:
        st.error(error)
        training_panel(TASK, "sent_custom", None, defaults=FINE_TUNE)
        return
    # stars or 0/1 read as the shipped model's two classes keep a sentiment model one: five star classes
    # from a few hundred reviews had made a model far worse than the shipped one, and taken over the page
    if polar is not None and st.checkbox(f"Read the labels as negative / positive, the shipped model's classes: "
                                         f"{polar[1]}", value=True, key=f"sent_train_polar_{up.file_id}"):
        found = polar[0]
    splits_held = st.session_state.get("sent_train__splits")
    if not splits_held or splits_held[0] is not found:
        splits_held = (found, TASK.splits_from_texts(found, source=up.name))
        st.session_state["sent_train__splits"] = splits_held
    splits = splits_held[1]
    counts = found.counts()
    st.success(f"Read {len(found):,} texts in {len(counts)} classes: "
               + ", ".join(f"{md_text(k)} ({v:,})" for k, v in counts.items()))
    if found.skipped:
        st.caption(f"{len(found.skipped)} row(s) skipped, e.g. {found.skipped[0][0]}: {found.skipped[0][1]}.")
    training_panel(TASK, "sent_custom", splits, render_mistakes=render_mistakes, defaults=FINE_TUNE,
                   data_note=f"{splits.provenance['train']:,} for training, {splits.provenance['val']:,} for "
                             "validation and the evaluation below.")


def polarity_of(found: sd.Texts) -> tuple[sd.Texts, str] | None:
    """The texts with their labels read as negative / positive, and how; None when they cannot be, or
    already are."""
    if list(found.labels) == sd.LABELS:
        return None
    try:
        return sd.as_polarity(found)
    except DataError:
        return None


read_tab, csv_tab, bptt_tab, train_tab = st.tabs(["Read a text", "Score a CSV", "RNN vs LSTM vs GRU",
                                                  "Train on your data"])
with read_tab:
    st.caption(f"Model: {name}")
    st.selectbox("Or try an example", [""] + EXAMPLES, key="sent_example", format_func=lambda e: e or "—",
                 on_change=lambda: st.session_state.update(sent_text=st.session_state["sent_example"]))
    read_text(st.text_area("Text", key="sent_text", height=120, placeholder="The pasta was cold and the waiter was rude.",
                           help=f"Up to {MAX_CHARS:,} characters; the network reads the first {MAX_TOKENS} tokens."))
with csv_tab:
    score_csv()
with bptt_tab:
    compare_cells()
with train_tab:
    custom_training()
