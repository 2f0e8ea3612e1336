"""The Backprop Showcase suite: every app behind one `streamlit run apps/home.py`."""
from pathlib import Path

import streamlit as st

from apps.components.common import md_text, metric_line, page_setup, shipped_predictor

HERE = Path(__file__).parent

# file, title, icon, task of the shipped model, what it shows
APPS = [
    ("digits.py", "Digits", ":material/draw:", "digits",
     "LeNet-5 reads a digit you draw or upload, shows its feature maps and a saliency map computed by "
     "backprop, and retrains on MNIST or your own images with live curves."),
    ("typos.py", "Typos", ":material/spellcheck:", "typos",
     "TypoNet picks the word you meant among a typo's candidates: corrects words and whole paragraphs, "
     "learns a typo you teach it in seconds, and retrains on your own vocabulary."),
    ("sentiment.py", "Sentiment", ":material/sentiment_satisfied:", "sentiment",
     "A recurrent network reads a review or a tweet word by word and says how positive it is; watch it change "
     "its mind as it reads, score a CSV, train RNN, LSTM and GRU side by side to see backprop through time, "
     "and retrain on your own labelled texts."),
    ("speech.py", "Speech commands", ":material/mic:", "speech",
     "KeywordNet names the keyword you say into the microphone (zero … nine, yes, no, up, down, left, right, "
     "on, off, stop, go), shows the log-mel spectrogram it hears, finds keywords in longer recordings, and "
     "learns words you teach it from a few recordings."),
    ("lab.py", "Backprop Lab", ":material/science:", None,
     "One training step of a tiny network by hand, every number shown and checked against autograd; "
     "experiments on learning rate, initialisation, vanishing and exploding gradients, batch size, input "
     "normalisation and backprop through time; and six claims about backprop put to the test: what the "
     "gradient costs, local minima, non-differentiable steps, dropout, learning without labels, and how "
     "much data is plenty."),
]


def home() -> None:
    st.title("Backprop Showcase")
    st.markdown("Networks trained by backpropagation on real problems: use the shipped models at once, "
                "watch them train, and retrain them on your own data. Every app trains through the same "
                "loop: **forward pass → loss → backward pass → weight update**.")
    for file, title, icon, task, blurb in APPS:
        with st.container(border=True):
            left, right = st.columns([3, 2])
            left.subheader(f"{icon} {title}")
            left.write(blurb)
            left.page_link(str(HERE / file), label=f"Open {title}", icon=icon)
            if task is None:
                right.caption("No shipped model: every experiment trains live, in seconds.")
                continue
            try:
                card = shipped_predictor(task).card
                right.metric("Shipped model", card["arch"]["name"])
                right.caption(metric_line(card))      # whole, where a metric's delta would be cut short
            except Exception as e:  # a missing model must not take the suite down
                right.warning(f"The shipped {task} model could not be loaded: {md_text(e)}")


page_setup("Backprop Showcase", ":material/neurology:")
pages = [st.Page(home, title="Home", icon=":material/home:", default=True)]
pages += [st.Page(str(HERE / file), title=title, icon=icon, url_path=Path(file).stem)
          for file, title, icon, _, _ in APPS]
st.navigation(pages).run()
