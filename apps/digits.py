"""Digits: LeNet-5 reads handwritten digits drawn on a canvas or uploaded."""

import numpy as np
import streamlit as st

from apps.components import charts
from apps.components.common import app_header, md_text
from apps.components.custom_data import choose_data
from apps.components.training_panel import training_panel
from data.digits.images import EmptyImageError, read_image, to_mnist
from data.core.errors import DataError
from models.digits.task import TASK

name, predictor, card = app_header(
    "digits", "Digits", ":material/draw:",
    "LeNet-5, a convolutional network trained by backpropagation, reads the digit you draw.")


def canvas(size: int = 280):
    """The drawing canvas and its Clear button, or None where the component cannot run (AppTest)."""
    try:
        from streamlit_drawable_canvas import st_canvas
        from apps.components.clear_canvas import clear_canvas_button
    except Exception:
        st.info("The drawing canvas is not available here; upload an image instead.")
        return None
    fresh = st.session_state.get("canvas_round", 0)   # a new key, a new blank canvas
    result = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=size,
                       width=size, drawing_mode="freedraw", return_image_data=True, key=f"canvas_{fresh}")
    if clear_canvas_button("clear_canvas"):
        st.session_state["canvas_round"] = fresh + 1
        st.rerun()
    return result.image_data


def show_prediction(image) -> None:
    """The prediction, all ten probabilities, and what the network sees."""
    try:
        seen = predictor.explain(image)
    except EmptyImageError:
        st.info("Draw a digit (or upload one) and the network will read it.")
        return
    except DataError as e:
        st.error(md_text(e))
        return
    label, p = seen["label"], seen["probs"][seen["label"]]
    st.markdown(f"### Prediction: <span id='prediction'>{md_text(label)}</span> · {p:.1%}", unsafe_allow_html=True)
    charts.probability_chart(seen["probs"], highlight=label, height=220)
    with st.expander("What the network sees", expanded=False):
        a, b = st.columns(2)
        a.image(charts.to_pixels(seen["input"]), caption="Its input: cropped, scaled to 20×20, centred by mass")
        b.image(charts.to_pixels(seen["saliency"]),
                caption="Saliency: |∂ score / ∂ pixel|, computed by backprop: the pixels that sway it most")
        st.image(charts.tile(seen["c1"], cols=6), caption="C1: the 6 feature maps of the first convolution")
        st.image(charts.tile(seen["c3"], cols=8, size=56), caption="C3: the 16 feature maps of the second")


draw_tab, upload_tab, train_tab = st.tabs(["Draw", "Upload", "Train & retrain"])

with draw_tab:
    left, right = st.columns([1, 1.4])
    with left:
        st.caption("Draw one digit, large, in the middle. Hover over the canvas for undo and redo.")
        drawn = canvas()
    with right:
        st.caption(f"Model: {name}")
        if drawn is not None:
            show_prediction(drawn)
        else:   # the canvas sends nothing until the first stroke
            st.info("Draw a digit on the canvas and the network will read it.")

    with st.expander("Collect this drawing as a training example"):
        st.caption("Label drawings to retrain the model on your own handwriting (or on symbols of your own) "
                   "in the Train & retrain tab.")
        label = st.text_input("Label", max_chars=20, key="collect_label", placeholder="e.g. 7, or a letter")
        examples = st.session_state.setdefault("digit_examples", [])
        if st.button("Add example", disabled=drawn is None):
            try:
                if not label.strip():
                    raise DataError("Give the drawing a label first.")
                examples.append((to_mnist(drawn), label.strip()))
                st.success(f"Added a '{md_text(label.strip())}' ({len(examples)} collected so far).")
            except DataError as e:
                st.warning(md_text(e))
        if examples:
            counts = {}
            for _, lab in examples:
                counts[lab] = counts.get(lab, 0) + 1
            st.write("Collected: " + ", ".join(f"{md_text(k)}: {v}" for k, v in sorted(counts.items())))
            st.image([charts.to_pixels(x, 56) for x, _ in examples[-12:]], caption=[lab for _, lab in examples[-12:]])
            if st.button("Forget the collected examples"):
                examples.clear()
                st.rerun()

with upload_tab:
    files = st.file_uploader("Images of digits (any size; dark on light or light on dark)",
                             type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"],
                             accept_multiple_files=True, key="digit_uploads", max_upload_size=10)
    for f in files or []:
        st.markdown(f"**{md_text(f.name)}**")
        try:
            img = read_image(f.getvalue())
        except DataError as e:
            st.error(f"{md_text(f.name)}: {md_text(e)}")
            continue
        a, b = st.columns([1, 2])
        a.image(np.asarray(img.convert("RGB")), width=140)
        with b:
            show_prediction(img)


def render_mistakes(mistakes, data) -> None:
    images = [charts.to_pixels(data.tensors[0][m["index"], 0].numpy(), 56) for m in mistakes]
    st.image(images, caption=[f"{m['true']}→{m['predicted']} {m['score']:.0%}" for m in mistakes])


with train_tab:
    st.markdown("Train LeNet-5 from scratch, or fine-tune the model in use, on MNIST or on your own images. "
                "The curves update as it learns; your model is used here at once and never replaces the "
                "shipped one.")
    data, note = choose_data(TASK, "digits", collected=st.session_state.setdefault("digit_examples", []),
                             official_name="MNIST", upload_help="One folder per label of images, e.g. 0/ 1/ … 9/ "
                             "or your own symbols; any common image format and size.")
    training_panel(TASK, "digits", data, data_note=note, render_mistakes=render_mistakes,
                   defaults=TASK.fine_tune_config(epochs=3))
