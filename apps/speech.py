"""Speech commands: KeywordNet names the keyword you say into the microphone, and learns your own words."""

import pandas as pd
import streamlit as st

from apps.components import audio_charts, charts
from apps.components.common import SHIPPED, app_header, md_labels, md_text
from apps.components.custom_data import choose_data
from apps.components.speech_shelf import chosen_sample, forget_sample, reliability, sample_shelf
from apps.components.training_panel import training_panel
from data.core.errors import DataError
from data.speech.audio import SAMPLE_RATE, decode_recording, resample, wav_bytes
from data.speech.datasets import other_word_recordings, speech_commands_folder
from data.speech.synth import MAX_WORD, check_word, other_words, synthesise_clips
from models.speech.task import LABELS, SCAN_FROM_S, SILENCE, TASK, UNKNOWN

AUDIO_TYPES = ["wav", "flac", "ogg", "oga", "opus", "mp3", "aiff", "aif"]

name, predictor, card = app_header(
    "speech", "Speech commands", ":material/mic:",
    "KeywordNet, a convolutional network trained by backpropagation on log-mel spectrograms, names "
    "the keyword you say: zero … nine, yes, no, up, down, left, right, on, off, stop, go.")
st.sidebar.caption("Knows: " + md_labels(predictor.labels))
with st.sidebar.expander("How reliable is each word?"):
    reliability(card)
if UNKNOWN not in predictor.labels:
    st.sidebar.caption(f"No `{UNKNOWN}` class: this model names one of its words whatever it hears.")
if list(predictor.labels) != LABELS:     # the header names the shipped model's twenty keywords
    st.info(f"The model in use knows its own words: {md_labels(predictor.labels[:12])}"
            f"{' …' if len(predictor.labels) > 12 else ''}. The shipped model, chosen in the sidebar, "
            "knows the keywords above.")


def decode(data: bytes, what: str):
    """(waveform, rate) of a recording, its notes shown; None (with a message) if it cannot be used."""
    try:
        wave, sr, notes = decode_recording(data)
    except DataError as e:
        st.error(f"{md_text(what)}: {md_text(e)}")
        return None
    for note in notes:
        st.caption(f"{md_text(what)}: {note}.")
    return wave, sr


def show_clip(wave, sr) -> None:
    """One keyword: the prediction, every class's probability, and what the network sees."""
    seen = predictor.explain((wave, sr))
    if seen["silent"]:
        st.info("The recording is silent (its loudest moment stays below -50 dBFS): nothing was said, the "
                "microphone is muted, or it was far too quiet (speak closer, or raise the input level). The "
                "answer is _silence_.")
    label, p = seen["label"], seen["score"]
    st.markdown(f"### Heard: <span id='prediction'>{md_text(label)}</span> · {p:.1%}", unsafe_allow_html=True)
    charts.probability_chart(seen["probs"], highlight=label, height=220)
    with st.expander("What the network sees", expanded=True):
        st.caption("The loudest second, resampled to 16 kHz:")
        audio_charts.waveform_chart(seen["clip"], SAMPLE_RATE)
        st.caption("Its log-mel spectrogram, 40 bands × 51 frames: the network's input")
        audio_charts.logmel_chart(seen["logmel"])


def show_scan(wave, sr) -> None:
    """A longer recording: every keyword found, with its time."""
    heard = predictor.hear(wave, sr)            # the command line's answer too
    windows, found = heard["windows"], heard["keywords"]
    if heard["silent"]:
        st.info("No speech anywhere in it: silence or background noise.")
        st.markdown(f"### Heard: <span id='prediction'>{md_text(SILENCE)}</span>", unsafe_allow_html=True)
        return
    words = md_text(heard["label"])
    st.markdown(f"### Heard: <span id='prediction'>{words}</span>", unsafe_allow_html=True)
    x = resample(wave, sr).numpy()
    audio_charts.waveform_chart(x, SAMPLE_RATE, marks=found)
    if found:
        st.dataframe(pd.DataFrame([{"keyword": f["label"], "at (s)": round(f["time"], 2),
                                    "window": f"{f['start']:.2f}–{f['end']:.2f} s", "confidence": f"{f['score']:.0%}"}
                                   for f in found]), hide_index=True, width=480)
    else:
        st.caption("Speech, but no keyword said clearly enough (each window was _unknown_ or under 60% sure).")
    with st.expander("Every 1-s window, 0.25 s apart"):
        audio_charts.windows_chart(windows)
    for f in found[:6]:
        with st.expander(f"What the network saw of “{md_text(f['label'])}” at {f['time']:.2f} s"):
            window = x[int(f["start"] * SAMPLE_RATE): int(f["start"] * SAMPLE_RATE) + SAMPLE_RATE]
            seen = predictor.explain((window, SAMPLE_RATE))
            audio_charts.logmel_chart(seen["logmel"])
            charts.probability_chart(seen["probs"], highlight=seen["label"], height=200)


def show(wave, sr) -> None:
    if len(wave) > SCAN_FROM_S * sr:
        show_scan(wave, sr)
    else:
        show_clip(wave, sr)


listen_tab, teach_tab, train_tab = st.tabs(["Listen", "Teach it your words", "Train & retrain"])

with listen_tab:
    left, right = st.columns([1, 1.4])
    with left:
        recording = st.audio_input("Say one keyword (or several, a pause between them)", sample_rate=SAMPLE_RATE,
                                   key="speech_record", on_change=forget_sample)
        upload = st.file_uploader("…or upload a recording (WAV, FLAC, OGG, MP3 or AIFF)", type=AUDIO_TYPES, key="speech_upload", max_upload_size=25,
                                  on_change=forget_sample)
        st.caption(f"Model: {name}")
        if name == SHIPPED:
            st.caption("Every keyword was learnt from real people (Speech Commands' speakers, FSDD's for the "
                       "digits); *How reliable is each word?* in the sidebar says how often each is right for "
                       "voices the model never heard. *Teach it your words* learns new ones from your voice.")
        sample_shelf()
    with right:
        sample = chosen_sample()
        if sample is not None:
            st.caption(f"{sample[1]}, a voice the shipped model never heard:")
            show(*sample[0])
        elif upload is None and recording is None:
            st.info("Record a word, upload a file, or send one of the samples, and the network will name the "
                    "keyword.")
        else:
            source = (upload, upload.name) if upload is not None else (recording, "Your recording")
            clip = decode(source[0].getvalue(), source[1])
            if clip is not None:
                show(*clip)

examples = st.session_state.setdefault("speech_examples", [])


def add_examples(items, label: str) -> None:
    examples.extend(((wave, sr), label) for wave, sr in items)
    st.session_state["speech_teach_round"] = st.session_state.get("speech_teach_round", 0) + 1


@st.cache_data(show_spinner="Synthesising voices…", max_entries=32)
def synthetic_clips(words: tuple[str, ...], per_word: int) -> list:
    return synthesise_clips(words, per_word)


@st.cache_data(show_spinner=False, ttl=60)   # not forever: the training panel can download them
def real_recordings_available() -> bool:
    try:
        speech_commands_folder()
        return True
    except DataError:
        return False


@st.cache_data(show_spinner="Choosing recordings of other words…", max_entries=32)
def other_recordings(exclude: tuple[str, ...], n: int, offset: int) -> list:
    return other_word_recordings(exclude, n, offset=offset)


with teach_tab:
    st.markdown("Name a word, record a handful of examples of it (five or more; different speeds and distances "
                "help), do the same for a second word or more, then train in **Train & retrain** on *Examples you "
                "collected here*. Recordings of silence are added for you, as `_silence_`; add other words as "
                "`_unknown_`, or the model will name one of your words whatever it hears.")
    typed = st.text_input("Word to teach", max_chars=MAX_WORD, key="speech_word", placeholder="e.g. hello")
    word = ""
    if typed.strip():
        try:
            word = check_word(typed)
        except DataError as e:
            st.error(md_text(e))
    rnd = st.session_state.get("speech_teach_round", 0)
    a, b = st.columns(2)
    with a:
        rec = st.audio_input("Record an example", sample_rate=SAMPLE_RATE, key=f"speech_teach_rec_{rnd}")
        if st.button("Add this recording", disabled=rec is None or not word):
            clip = decode(rec.getvalue(), "Your recording")
            if clip is not None:
                add_examples([clip], word)
                st.rerun()
    with b:
        files = st.file_uploader("…or upload recordings of it", type=AUDIO_TYPES, accept_multiple_files=True, max_upload_size=25,
                                 key=f"speech_teach_files_{rnd}")
        if st.button("Add these files", disabled=not files or not word):
            clips = [c for c in (decode(f.getvalue(), f.name) for f in files) if c is not None]
            if clips:
                add_examples(clips, word)
                st.rerun()
    n_voices = st.slider("Synthetic voices to add", 4, 24, 12, key="speech_n_voices")
    if st.button(f"Bootstrap with {n_voices} synthetic voices saying it", disabled=not word):
        try:
            add_examples(synthetic_clips((word,), n_voices), word)
            st.rerun()
        except DataError as e:
            st.warning(md_text(e))
    taught = [label for _, label in examples if label not in (UNKNOWN, SILENCE)]
    # three times as many as your words' clips: `python -m models.speech.teach_eval` measures the trade-off
    # (twice as many rejected 57% of real other speech, three times 97%, still naming 96% of the taught words)
    n_other = min(90, max(12, 3 * len(taught))) // 3 * 3
    n_unknown = sum(label == UNKNOWN for _, label in examples)
    real = real_recordings_available()
    kind = "real recordings, Speech Commands" if real else "synthetic voices"
    if st.button(f"Add {n_other} clips of other words as `{UNKNOWN}` ({kind})", disabled=not taught,
                 help="Words that are none of yours, so that the model learns to say it heard none of them. "
                      "More make it answer `_unknown_` more readily, and name your words less often."):
        try:
            exclude = tuple(sorted({*taught, word} - {""}))
            if real:
                add_examples(other_recordings(exclude, n_other, n_unknown), UNKNOWN)
            else:
                others = other_words(exclude, max(1, n_other // 3), n_unknown // 3)
                add_examples(synthetic_clips(tuple(others), 3), UNKNOWN)        # three voices a word
            st.rerun()
        except DataError as e:
            st.warning(md_text(e))
    if not word:
        st.caption("Type the word first; then record, upload or synthesise examples of it.")
    if examples:
        counts = pd.Series([label for _, label in examples]).value_counts().sort_index()
        st.write("Collected: " + ", ".join(f"**{md_labels([k])}** {v}" for k, v in counts.items()))
        last_item, last_label = examples[-1]
        st.caption(f"The last one ({md_labels([last_label])}):")
        st.audio(wav_bytes(resample(*last_item).numpy()), format="audio/wav")
        if st.button("Forget the collected examples"):
            examples.clear()
            st.rerun()


def render_mistakes(mistakes, data) -> None:
    st.dataframe(pd.DataFrame([{"true": m["true"], "heard": m["predicted"], "confidence": f"{m['score']:.0%}"}
                               for m in mistakes]), hide_index=True)


with train_tab:
    st.markdown("Train KeywordNet from scratch, or fine-tune the model in use, on FSDD and the synthetic voices, "
                "on a zip of your own folders (one per word), or on the words you taught it. The curves update "
                "as it learns; your model is used here at once and never replaces the shipped one.")
    # the official data (FSDD and 1,900 synthetic clips, synthesised on first use) loads only when chosen
    data, note = choose_data(TASK, "speech", collected=examples, official_name="FSDD + synthetic voices",
                             upload_help="One folder per word of WAV, FLAC, OGG, MP3 or AIFF recordings, e.g. yes/ no/ hello/; "
                             "any sample rate, mono or stereo.", default="collected")
    training_panel(TASK, "speech", data, data_note=note, render_mistakes=render_mistakes,
                   defaults=TASK.fine_tune_config(epochs=5))
    st.caption(f"`{UNKNOWN}` is any other speech, `{SILENCE}` no speech at all.")
