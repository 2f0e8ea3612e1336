"""The Lab's claims about what backprop trains on: dropout's masks, no labels at all, and
how much data."""
from __future__ import annotations

import numpy as np
import streamlit as st

from apps.components import charts
from apps.components.custom_data import missing_data
from apps.components.lab_experiments_ui import _cached
from data.core.errors import DatasetMissing
from models.digits.task import TASK as DIGITS
from models.lab import autoencoder as lab_ae
from models.lab import dropout as lab_dropout
from models.lab import learning_curve as lab_curve

Q = "query-params"
TOY = {"Moons": "moons", "Circles": "circles", "Spirals": "spirals"}


def _missing(e: DatasetMissing) -> None:
    st.caption("This claim trains on MNIST.")
    missing_data(DIGITS, "lab_mnist", e)


# ---- 4. dropout ---------------------------------------------------------------

def dropout() -> None:
    st.markdown("**Question:** when dropout switches hidden units off, does backprop still compute their "
                "gradients, and what do they come to? One forward and backward pass of a net with 12 hidden "
                "units and dropout, on a batch of 8 points, read straight from `torch.autograd`.")
    c1, c2 = st.columns(2)
    p = c1.select_slider("Dropout rate p", [0.2, 0.5, 0.8], value=0.5, key="drop_p", bind=Q)
    draw = c2.select_slider("Random mask (draw)", [1, 2, 3, 4, 5], value=1, key="drop_draw", bind=Q)
    res = _cached(f"drop{p}{draw}", lab_dropout.one_batch, p=p, seed=draw - 1)
    m1, ex = res["mask_single"], res["example"]
    a, b, c = st.columns(3)
    a.metric(f"Dropped units' weight gradient (example {ex})", "exactly 0" if res["dropped_zero"] else "not 0",
             help=f"{m1.count(0.0)} of {len(m1)} units dropped for this example")
    b.metric("Kept units' outputs ÷ their plain outputs", f"{np.mean(res['scale']):.3f}" if res["scale"] else "none kept",
             help=f"1/(1 − p) = {1 / (1 - p):.3f}")
    c.metric("Autograd against the formula by hand", f"{res['max_error']:.1e}",
             help=f"largest difference over the incoming weights of every hidden unit, example {ex}")
    left, right = st.columns(2)
    with left:
        charts.heatmap_chart(res["mask"], "hidden unit", "example", "The masks (1 kept, 0 dropped)",
                             value="kept")
    with right:
        charts.heatmap_chart(res["grad_per_example"], "hidden unit", "example",
                             "Each example's ‖∂E/∂W₁‖ per unit (white: exactly 0)", color="#d94801",
                             value="norm")
    left, right = st.columns(2)
    with left:
        charts.bar_chart(res["grad_single"], ["kept" if m else "dropped" for m in m1], "hidden unit",
                         "‖∂E/∂W₁[j, :]‖", f"Example {ex} alone")
    with right:
        n = res["batch"]
        charts.bar_chart(res["grad_batch"], ["dropped by all" if k == 0 else "kept by all" if k == n
                                             else "kept by some" for k in res["kept_count"]],
                         "hidden unit", "‖∂E/∂W₁[j, :]‖", "The whole batch (the sum over its examples)")
    st.caption(f"Autograd does run the backward pass through every unit: the mask is one more multiplication, "
               f"so a dropped unit's gradient is computed, and it is exactly 0 (its incoming weights and bias "
               f"get nothing from that example). A kept unit's output, and so its gradient, is scaled by "
               f"1/(1 − p) = {1 / (1 - p):g}. Over a batch a unit's gradient is the sum over the examples that "
               "kept it; only a unit dropped by all of them gets 0. With momentum or Adam a weight whose "
               "gradient is 0 still moves a little that step, carried by its past gradients.")

    st.markdown("**And what is it for?** A wide net (two layers of 256) on 60 noisy training points, "
                "validated on 1,000 fresh ones from the same distribution, without and with dropout.")
    data = TOY[st.segmented_control("Data set", list(TOY), default="Moons", key="drop_data", bind=Q,
                                    required=True)]
    fit = _cached(f"overfit{data}{p}", lab_dropout.overfitting, ps=(0.0, p), data=data)
    runs = {f"p={q:g}": r for q, r in fit["runs"].items()}
    left, right = st.columns(2)
    for col, metric, title in ((left, "loss", "Loss (measured with dropout off)"), (right, "accuracy", "Accuracy")):
        curves = {f"{name} {part}": [{"epoch": e["epoch"], metric: e[f"{part}_{metric}_eval"]}
                                     for e in run["epochs"]]
                  for name, run in runs.items() for part in ("train", "val")}
        with col:
            charts.runs_chart(curves, x="epoch", y=metric, title=title)
    st.table({"run": list(runs),
              "train loss": [f"{r['train_loss']:.3f}" for r in runs.values()],
              "validation loss": [f"{r['val_loss']:.3f}" for r in runs.values()],
              "gap (val − train)": [f"{r['gap']:.3f}" for r in runs.values()],
              "train accuracy": [f"{r['train_accuracy']:.0%}" for r in runs.values()],
              "validation accuracy": [f"{r['val_accuracy']:.0%}" for r in runs.values()]})
    plain, dropped_run = runs["p=0"], runs[f"p={p:g}"]
    st.caption(f"Without dropout the net learns the training points' noise: its training loss keeps falling "
               f"while the validation loss turns up (gap {plain['gap']:.2f}). With p = {p:g} every step trains a "
               f"different thinned net, no unit can rely on particular others, and the gap is "
               f"{dropped_run['gap']:.2f}.")


# ---- 5. an autoencoder ---------------------------------------------------------

def _row(images: np.ndarray, gap: int = 2) -> np.ndarray:
    """Digits side by side as one grey image, [0, 1] mapped to 0–255 for every frame alike."""
    h, w = images.shape[1:]
    out = np.full((h, len(images) * (w + gap) - gap), 255, np.uint8)
    for i, im in enumerate(images):
        out[:, i * (w + gap):i * (w + gap) + w] = (np.clip(im, 0, 1) * 255).astype(np.uint8)
    return out


def autoencoder() -> None:
    st.markdown("**Question:** does backprop need labels? An autoencoder squeezes each 28×28 digit through "
                "**two numbers** and is trained to reproduce its input: the target is the image itself, the "
                "loss the pixels' cross-entropy. The labels are never shown to it; they only colour the plot "
                "afterwards.")
    epochs = st.select_slider("Epochs (over 10,000 training digits)", [1, 2, 3, 5, 8], value=3, key="ae_epochs",
                              bind=Q)
    try:
        res = _cached(f"ae{epochs}", lab_ae.train, epochs=epochs)
    except DatasetMissing as e:
        _missing(e)
        return
    a, b, c = st.columns(3)
    a.metric(f"Digits grouped by the 2-D code ({res['k']}-NN accuracy)", f"{res['knn']:.0%}")
    b.metric("PCA's best 2-D projection", f"{res['knn_pca']:.0%}")
    c.metric("Chance (the largest digit's share)", f"{res['chance']:.0%}")
    left, right = st.columns([3, 2])
    with left:
        charts.scatter_chart(res["codes"], res["labels"],
                             f"The 2-D codes of {len(res['labels']):,} test digits, coloured by their labels")
    with right:
        charts.epoch_chart(res["epochs"], metric="loss")
        st.markdown("**Reconstructions as it trains**")
        rows = [("original", res["originals"])] + [(f"epoch {f['epoch']}", f["images"]) for f in res["frames"]]
        for name, images in rows:
            l, r = st.columns([1, 5], vertical_alignment="center")
            l.caption(name)
            r.image(_row(images), width="stretch")
    st.caption(f"Gradient descent on the reconstruction error alone arranges the digits: a point's {res['k']} "
               f"nearest codes mostly share its label ({res['knn']:.0%} of test digits, where chance is "
               f"{res['chance']:.0%}), and the nonlinear code beats PCA's linear one ({res['knn_pca']:.0%}). "
               "Two numbers are too few for sharp copies, so reconstructions are blurred averages of each "
               "digit's shape; the groups overlap where digits look alike (4, 7 and 9; 3, 5 and 8).")


# ---- 6. how much data ---------------------------------------------------------

def data_size() -> None:
    st.markdown("**Question:** how much does the amount of data matter? LeNet-5, the Digits app's network, "
                "trained with one recipe on 100 to 9,000 MNIST images and tested on the official "
                "10,000-image test set.")
    try:
        shipped = lab_curve.load_shipped()
    except (OSError, ValueError):
        st.error("The precomputed points are missing: run `python -m models.lab.learning_curve` once.")
        return
    live = st.multiselect("Train live on (images; about 10 s each)", [100, 300, 1000], default=[100],
                          key="live_sizes", bind=Q)
    points = []
    try:
        for n in sorted(live):
            points.append(_cached(f"curve{n}", lab_curve.train_point, n, seed=0))
    except DatasetMissing as e:
        _missing(e)
    seeds = len(shipped["seeds"])
    rows = [("shipped", r["size"], r["train_accuracy"], r["test_accuracy"]) for r in shipped["summary"]]
    rows += [("trained here", r["size"], r["train_accuracy"], r["test_accuracy"]) for r in points]

    def chart_rows(source: str, gap: bool) -> list[dict]:
        if gap:
            return [{"size": n, "gap": tr - te, "split": "train − test"} for s, n, tr, te in rows if s == source]
        return [{"size": n, "accuracy": v, "split": split} for s, n, tr, te in rows if s == source
                for split, v in (("train", tr), ("test", te))]

    left, right = st.columns(2)
    with left:
        charts.log_x_chart(chart_rows("shipped", False), "size", "accuracy", "split", "training images (log scale)",
                           "accuracy", "Accuracy against the training set's size",
                           marked=chart_rows("trained here", False))
    with right:
        charts.log_x_chart(chart_rows("shipped", True), "size", "gap", "split", "training images (log scale)",
                           "train − test accuracy", "The gap between training and test",
                           marked=chart_rows("trained here", True))
    st.table({"images": [f"{n:,}" for _, n, _, _ in rows], "source": [s for s, *_ in rows],
              "train accuracy": [f"{tr:.1%}" for *_, tr, _ in rows],
              "test accuracy": [f"{te:.1%}" for *_, te in rows],
              "gap": [f"{tr - te:.1%}" for *_, tr, te in rows]})
    small, big = shipped["summary"][0], shipped["summary"][-1]
    st.caption(f"Every net fits its training images almost perfectly; what more data buys is accuracy on "
               f"images it has never seen: {small['test_accuracy']:.0%} from {small['size']:,} images, "
               f"{big['test_accuracy']:.1%} from {big['size']:,}, and the train–test gap shrinks from "
               f"{small['gap']:.0%} to {big['gap']:.1%}. Each threefold step in data adds less than the one "
               f"before. Lines: the shipped points, the mean of {seeds} seeds, computed on {shipped['date']} with "
               f"torch {shipped['torch']} by `python -m models.lab.learning_curve`; diamonds: points trained here "
               "(seed 0). "
               f"Recipe: {shipped['recipe']}.")
