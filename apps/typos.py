"""Typos: TypoNet picks the word you meant among a typo's candidates, corrects text,
learns a typo you teach it and retrains on your own vocabulary."""
import html

import pandas as pd
import streamlit as st

from apps.components import charts
from apps.components.common import active_model, app_header, md_labels, md_text
from apps.components.training_panel import training_panel
from data.typos import spelling
from data.core.errors import DataError
from data.typos.features import ALPHABET
from models.core.trainer import TrainConfig
from models.typos import context
from models.typos.task import MAX_TEXT, MAX_WORD, TASK
from models.typos.baselines import evaluate
from models.typos.eval import Ours

name, predictor, card = app_header(
    "typos", "Typos", ":material/spellcheck:",
    "Classic indexes find the known words within two edits of what you typed and those that sound "
    "like it; TypoNet, a small network trained by backpropagation, scores them and picks the word you "
    "meant, and in a sentence the words around it have their say.")
if card.get("data", {}).get("vocabulary_added"):
    st.sidebar.caption(f"Knows {len(card['data']['vocabulary_added']):,} words of yours besides English.")

# typos every English speaker makes: the shipped model gets them right, and a
# fine-tuned one should still, so they show whether teaching made it forget
CONTROL = [("teh", "the"), ("recieve", "receive"), ("wrold", "world"), ("becuase", "because"),
           ("thier", "their"), ("freind", "friend"), ("adress", "address"), ("definately", "definitely"),
           ("goverment", "government"), ("seperate", "separate"), ("untill", "until"), ("wich", "which")]
PERCENT = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
# fine-tuning nudges a model that already works: a low, constant rate and few epochs
FINE_TUNE = TrainConfig(epochs=2, batch_size=64, lr=1e-3, optimizer="adam", schedule="constant")
PAIR_COUNTS = [2_000, 5_000, 10_000, 20_000, 40_000]


def known_words(new: dict | None = None) -> dict | None:
    """The words the model in use was given (its card keeps them) and any new ones: training on a second
    word list, or on noise pairs alone, had dropped the first list's words from the model it made. The
    card keeps counts already weighed against English; they are brought to the new list's scale, so
    that neither list drowns the other when the two are weighed together again."""
    old = card.get("data", {}).get("vocabulary_added") or {}
    if old and new:
        scale = (sum(new.values()) / len(new)) / (sum(old.values()) / len(old))
        old = {w: max(1, round(c * scale)) for w, c in old.items()}
    return {**old, **(new or {})} or None


def short(text: str, n: int = 60) -> str:
    """A typed word for a message line: at most n characters, and literal (see md_text)."""
    return md_text(text if len(text) <= n else text[:n] + "…")


def show_word(word: str) -> None:
    """The correction of one word, its probability and its best candidates."""
    if not word.strip():
        st.info("Type a word, e.g. *sesert*, and the network picks the word you meant.")
        return
    if len(word.split()) > 1:
        st.info("One word here: put a sentence in the text box below.")
        return
    r = predictor.predict([word.strip()], k=5)[0]
    typed = word.strip().lower()
    if r.get("unknown"):
        st.warning(f"No known word is within two edits of “{short(word.strip())}” or sounds like it: it is left as it is.")
    elif r["score"] == 1.0 and r["label"] == typed:
        if spelling.is_word_like(typed) and typed in predictor.index.counts:
            st.success(f"“{short(word.strip())}” is a known word: it is kept as it is.")
        elif len(typed) > MAX_WORD:
            st.info(f"“{short(word.strip())}” is longer than any word: it passes through unchanged.")
        else:
            st.info(f"“{short(word.strip())}” is not a word of Latin letters (a number, a link, an emoji or "
                    "another script…): it passes through unchanged.")
    else:
        st.markdown(f"#### Correction: <span id='correction'>{md_text(r['label'])}</span> · {r['score']:.1%}",
                    unsafe_allow_html=True)
        st.caption("Probability of each candidate, P(meant word | what you typed):")
        charts.probability_chart(dict(r["top"]), highlight=r["label"], height=220)
        found = pd.DataFrame([{"candidate": w, "probability": p, "found by": context.SOURCES[r["sources"][w]]}
                              for w, p in r["top"]])
        st.dataframe(found, hide_index=True, column_config={"probability": PERCENT})
        st.caption("Candidates come from three searches: known words one or two edits away, words that "
                   "sound alike (a Metaphone key), and words with the same consonants; in a sentence, the "
                   "words around a word weigh in too (type one below).")


# the alternatives before the long "why", so that they are in sight on a narrow screen
CHANGE_COLUMNS = ["line", "you typed", "corrected to", "network's probability", "alternatives", "found by", "why"]


def alternatives(change: dict, least: float = 0.005, keep: int = 2) -> str:
    """The candidates worth reading: those the network gives at least half a percent (at least two
    shown); a list of "0%"s pushed the telling ones out of the column."""
    alts = change["alternatives"]
    shown = [(w, p) for i, (w, p) in enumerate(alts) if i < keep or p is None or p >= least]
    more = f" (+{len(alts) - len(shown)} under {least:.1%})" if len(shown) < len(alts) else ""
    return ", ".join(w if p is None else f"{w} {p:.0%}" for w, p in shown) + more


def marked(result: dict) -> str:
    """The corrected text as HTML, each corrected word in a <mark> whose tooltip names the alternatives."""
    pieces = [html.escape(p) for p in result["pieces"]]
    for c in result["changes"]:
        lead, core, trail = spelling.split_token(result["pieces"][c["index"]])
        tip = html.escape(f"you typed: {c['original']} · alternatives: {alternatives(c)} · why: {context.why(c)}",
                          quote=True)
        pieces[c["index"]] = f"{html.escape(lead)}<mark title=\"{tip}\">{html.escape(core)}</mark>{html.escape(trail)}"
    # line breaks kept; '$' would start maths in Streamlit's markdown
    return "".join(pieces).replace("\n", "<br>").replace("$", "&#36;")


def show_text(text: str) -> dict | None:
    """The text with its corrections marked; the result, for `show_changes` below."""
    if not text.strip():
        st.info("Paste or type a paragraph, e.g. *The sesert was wrold famous*, and press Ctrl+Enter.")
        return None
    try:
        result = predictor.correct_text(text)
    except DataError as e:
        st.error(md_text(e))
        return None
    # one HTML block (no blank lines in it), so the user's text is never read as markdown
    st.markdown(f"<div id='corrected' style='line-height:1.9'>{marked(result)}</div>", unsafe_allow_html=True)
    changes = result["changes"]
    if not changes:
        st.success("No typos found: every word is known, or is not a word to correct (numbers, links, "
                   "emoji, other scripts).")
        return None
    st.caption(f"{len(changes)} word{'s' * (len(changes) > 1)} corrected; hover over a marked word "
               "for the alternatives, or read them in the table below.")
    return result


def show_changes(result: dict, text: str) -> None:
    """Each change with its alternatives and why, across the whole page (in a column, the table's
    right-hand columns, the alternatives among them, were out of sight); then the corrected text."""
    changes, corrected, pieces = result["changes"], result["text"], result["pieces"]
    rows = [{"line": 1 + sum(p.count("\n") for p in pieces[:c["index"]]), "you typed": c["original"],
             "corrected to": c["correction"], "found by": context.SOURCES[c["source"]].split(":")[0],
             "why": context.why(c),
             # a real word replaced by the context was never the network's candidate: no probability
             "network's probability": c["score"],
             "alternatives": alternatives(c)}
            for c in changes]
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
                 "line": st.column_config.NumberColumn(width="small"), "network's probability": PERCENT,
                 "alternatives": st.column_config.TextColumn(width="large"),
                 "why": st.column_config.TextColumn(width="large")},
                 column_order=[k for k in CHANGE_COLUMNS if k != "line" or "\n" in text.strip()])
    st.markdown("**The corrected text** (copy button at the top right)")
    st.code(corrected, language=None, wrap_lines=True)
    st.download_button("Download the corrected text (.txt)", corrected, file_name="corrected.txt",
                       mime="text/plain", key="typos_download")


def answers(pairs: list[tuple[str, str]], models: dict) -> tuple[pd.DataFrame, dict[str, int]]:
    """Each model's answer for each (typed, meant) pair, and how many it gets right."""
    rows = [{"you type": t, "you mean": m} for t, m in pairs]
    right = {}
    for label, p in models.items():
        out = p.predict([t for t, _ in pairs])
        right[label] = sum(r["label"] == m for r, (_, m) in zip(out, pairs))
        for row, r, (_, m) in zip(rows, out, pairs):
            row[label] = f"{'✓' if r['label'] == m else '✗'} {r['label']} ({r['score']:.0%})"
    return pd.DataFrame(rows), right


def answer_tables(pairs: list[tuple[str, str]], models: dict) -> None:
    left, right = st.columns(2)
    for col, title, rows in ((left, "Your pairs", pairs), (right, "Control set: common typos", CONTROL)):
        if not rows:
            continue
        df, n = answers(rows, models)
        col.markdown(f"**{title}** · " + " · ".join(f"{k}: {v}/{len(rows)} right" for k, v in n.items()))
        col.dataframe(df, hide_index=True, height=min(38 + 35 * len(df), 600))   # the whole control set, unscrolled


def decode(ids) -> str:
    # character ids are offset by 2 (0 pads, 1 is an unknown character)
    return "".join(ALPHABET[i - 2] if i >= 2 else "?" for i in ids.tolist() if i)


def render_mistakes(mistakes: list[dict], data) -> None:
    tensors = getattr(data, "tensors", None)
    rows = []
    for m in mistakes:
        if tensors is None:     # no words to show: just the candidate positions
            rows.append({"example": m["index"], "meant (candidate)": m["true"], "chosen (candidate)": m["predicted"],
                         "confidence": m["score"]})
            continue
        typo, cands = tensors[0][m["index"]], tensors[1][m["index"]]
        rows.append({"typed": decode(typo), "meant": decode(cands[m["true"]]),
                     "chosen": decode(cands[m["predicted"]]), "confidence": m["score"]})
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={"confidence": PERCENT})


def data_note(p: dict) -> str:
    note = f"{p['train']:,} training and {p['val']:,} validation pairs: {p['dataset']}"
    if p.get("user_pairs"):
        note += f"; your {p['user_pairs']:,} pairs are each shown 20 times"
    if p.get("dropped"):
        note += f"; {p['dropped']:,} pairs dropped (the meant word is not among the typo's candidates)"
    return note + "."


def prepared_splits(key: str, inputs: tuple, button: str, make, disabled: bool = False):
    """Splits made by make() when the button is pressed, kept while the inputs stay the same."""
    if st.button(button, key=f"{key}__prepare", disabled=disabled):
        with st.spinner("Making the training pairs and their candidates (10–40 s)…"):
            try:
                st.session_state[f"{key}__splits"] = (inputs, make())
            except DataError as e:
                st.session_state.pop(f"{key}__splits", None)
                st.error(md_text(e))
    held = st.session_state.get(f"{key}__splits")
    return held[1] if held and held[0] == inputs else None


def read_upload(label: str, key: str, types: list[str], read, help: str):
    """(file id, what read() made of the file) or None; errors shown. Parsed once per upload."""
    up = st.file_uploader(label, type=types, key=key, help=help, max_upload_size=20)
    if up is None:
        return None
    held = st.session_state.get(f"{key}__read")
    if not held or held[0] != up.file_id:
        try:
            held = (up.file_id, read(up.getvalue()), None)
        except DataError as e:
            held = (up.file_id, None, f"{md_text(up.name)}: {md_text(e)}")
        st.session_state[f"{key}__read"] = held
    if held[2]:
        st.error(held[2])
        return None
    return held[0], held[1]


correct_tab, teach_tab, vocab_tab, train_tab = st.tabs(["Correct", "Teach it a typo", "Your own vocabulary", "Train"])

with correct_tab:
    st.caption(f"Model: {name}")
    left, right = st.columns([1, 1.6], gap="large")
    with left:
        show_word(st.text_input("A word", key="typos_word", placeholder="sesert"))
    with right:
        text = st.text_area("Text to correct", key="typos_text", height=140, placeholder="The sesert was wrold famous",
                            help=f"Up to {MAX_TEXT:,} characters. Press Ctrl+Enter (or click away) to correct.")
        result = show_text(text)
    if result:
        show_changes(result, text)

with teach_tab:
    st.markdown("Teach the model a typo it gets wrong: a few seconds of fine-tuning on your pairs, mixed with "
                "2,000 ordinary typos so that it does not forget the rest. The new model is used at once; the "
                "shipped one is never changed.")
    text = st.text_area("Pairs, one a line: typo → meant word (or `->`, or a comma)", key="typos_pairs",
                        height=110, placeholder="sesert → desert\nteh -> the\nrecieve,receive", max_chars=20_000)
    pairs, teach_data = [], None
    if text.strip():
        try:
            pairs = spelling.read_pairs_csv(text)
            inputs = (tuple(pairs), id(predictor.index))
            held = st.session_state.get("typos_teach__splits")
            if not held or held[0] != inputs:
                held = (inputs, TASK.splits_from_pairs(
                    pairs, replay=2000, index=predictor.index,
                    added_vocab=known_words()))
                st.session_state["typos_teach__splits"] = held
            teach_data = held[1]
        except DataError as e:
            st.error(md_text(e))
        kept = [t for t, m in pairs if t in predictor.index.counts and t != m]
        if kept:
            st.warning(f"{md_labels(kept[:5])}: already a word, so the corrector keeps it as it is whatever "
                       "it learns.")
    else:
        st.info("Type a pair or more, e.g. *sesert → desert*, then start training below.")

    job = st.session_state.get("typos_teach__job")
    before = st.session_state.get("typos_teach__before")
    if job is not None and (before is None or before["job"] is not job):
        # the panel fine-tunes the model in use when Start is pressed, and that is still
        # the active one on the run after the click: remember it to compare against
        before = {"job": job, "name": name, "predictor": predictor}
        st.session_state["typos_teach__before"] = before
    after = None
    if job is not None and not job.running and not job.error and job.result.result.status != "diverged":
        new_name = st.session_state.get("typos_teach__registered") or "taught model"
        active_name, active, _ = active_model("typos")
        after = (new_name, active if active_name == new_name else
                 TASK.predictor_class(job.result.model, job.result.card))

    if after is None:
        st.markdown(f"**What the model in use answers now** ({name})")
        answer_tables(pairs, {"now": predictor})
    training_panel(TASK, "typos_teach", teach_data, render_mistakes=render_mistakes, defaults=FINE_TUNE,
                   data_note=teach_data and f"{teach_data.provenance['dataset']}; your pairs shown 50 times each.")
    if after is not None:
        st.markdown(f"#### Before and after teaching\nBefore: {before['name']} · after: {after[0]}")
        answer_tables(pairs, {"before": before["predictor"], "after": after[1]})

with vocab_tab:
    st.markdown("Words the model should know (names, jargon, another Latin-script language) and typos of your "
                "own: check how the model in use does on your pairs, and train it on them.")
    left, right = st.columns(2)
    with left:
        words = read_upload("A word list (.txt)", "typos_vocab_file", ["txt"], spelling.Vocabulary.from_user_list,
                            "One word a line, optionally followed by a count (a space, tab, comma or semicolon between).")
        if words:
            vocab = words[1]
            new = sum(w not in predictor.index.counts for w in vocab.words)
            st.success(f"Read {len(vocab):,} words; {new:,} of them are new to the model in use.")
            st.caption("e.g. " + md_text(", ".join(f"{w} ({c:,})" for w, c in zip(vocab.words[:12], vocab.counts))))
            if vocab.skipped:
                st.warning(f"{len(vocab.skipped):,} line{'s' * (len(vocab.skipped) > 1)} left out, as the corrector "
                           "leaves words with apostrophes, digits or other scripts as they are: "
                           + md_text("; ".join(f"{where}: {why}" for where, why in vocab.skipped[:5]))
                           + ("…" if len(vocab.skipped) > 5 else "."))
    with right:
        upload = read_upload("Typos and their corrections (.csv)", "typos_pairs_file", ["csv", "txt"],
                             spelling.read_pairs_csv, "One `typo,correction` a line (or a tab, semicolon or `->` between), "
                             "with or without a header naming the columns.")
        if upload:
            user_pairs = upload[1]
            st.success(f"Read {len(user_pairs):,} pairs.")
            st.caption("e.g. " + md_text(", ".join(f"{t} → {c}" for t, c in user_pairs[:8])))

    st.markdown("#### Evaluate the model in use on your pairs")
    if st.button("Evaluate", key="typos_vocab_eval", disabled=not upload):
        with st.spinner("Correcting every typo…"):
            st.session_state["typos_vocab__evaluation"] = ((upload[0], name),
                                                          evaluate(Ours(predictor), upload[1]))
    held = st.session_state.get("typos_vocab__evaluation")
    if upload and held and held[0] == (upload[0], name):
        result = held[1]
        a, b = st.columns([1, 3])
        a.metric("Accuracy", f"{result['accuracy']:.1%}", help=f"on {result['n']:,} pairs, model: {name}")
        missing = sorted({c for _, c in upload[1] if c not in predictor.index.counts})
        listed = words is not None and all(c in words[1] for c in missing)
        b.caption(f"{result['words_per_s']:,.0f} words a second."
                  + (f" {len(missing):,} corrections are not in the model's vocabulary, so it cannot get them "
                     f"right (e.g. {md_text(', '.join(missing[:5]))}): "
                     + ("your word list holds them; train on it below and the new model will know them."
                        if listed else "add them with a word list.") if missing else ""))
        if result["misses"]:
            b.dataframe(pd.DataFrame(result["misses"], columns=["typo", "meant", "model said"]), hide_index=True)
    elif not upload:
        st.caption("Upload pairs to evaluate the model on them.")

    st.markdown("#### Train on them")
    n_vocab = st.select_slider("Noise-model typos to train among", PAIR_COUNTS, value=10_000, key="typos_vocab_n",
                               format_func="{:,}".format,
                               help="Made from English and your words, so the model meets your words often.")
    inputs = (words and words[0], upload and upload[0], n_vocab, name)
    vocab_data = prepared_splits(
        "typos_vocab", inputs, "Make the training data", disabled=not (words or upload),
        make=lambda: TASK.load_splits(n_pairs=n_vocab, extra_pairs=upload[1] if upload else (),
                                      added_vocab=known_words(dict(zip(words[1].words, words[1].counts))
                                                              if words else None)))
    if vocab_data is None:
        # made afresh for each model in use: after a training, the new model's own words go in too
        st.caption("Press *Make the training data* to train on your files (again, after a training: the new "
                   "model in use is the one fine-tuned)." if words or upload else
                   "Upload a word list and/or pairs, then make the training data.")
    training_panel(TASK, "typos_vocab", vocab_data, data_note=vocab_data and data_note(vocab_data.provenance),
                   render_mistakes=render_mistakes, defaults=FINE_TUNE)

with train_tab:
    st.markdown("Train TypoNet from scratch (or fine-tune the model in use) on typos made by a noise model of how "
                "people err: keyboard neighbours, dropped and doubled letters, swaps, phonetic slips. The full "
                "recipe, 60,000 pairs, runs from the command line: `python -m models.train typos --out runs/typos`.")
    n_train = st.select_slider("Training pairs", PAIR_COUNTS, value=10_000, key="typos_train_n",
                               format_func="{:,}".format)
    train_data = prepared_splits("typos_train", (n_train, name), "Make the training pairs",
                                 make=lambda: TASK.load_splits(n_pairs=n_train, added_vocab=known_words()))
    if train_data is None:
        st.caption("Make the training pairs first (about 10 s for 10,000).")
    st.session_state.setdefault("typos_train__mode", "Train from scratch")
    training_panel(TASK, "typos_train", train_data, data_note=train_data and data_note(train_data.provenance),
                   render_mistakes=render_mistakes, defaults=TASK.default_config())
