"""The training panel every app uses: settings, start/stop, live progress and
curves, then evaluate, download and use the model at once.

Training runs in a background thread (models.core.jobs.TrainingJob) so the page stays
usable; a fragment polls it every two seconds. The model being trained is a copy:
the shipped model and the session's other models are never modified.
"""
from __future__ import annotations

import sys
from typing import Callable

import streamlit as st

from apps.components import charts
from apps.components.common import (MAX_SESSION_MODELS, active_model, add_session_model, md_labels, md_text,
                                    onnx_download)
from models.core.checkpoint import to_zip
from models.core.jobs import TrainingJob
from models.core.evaluation import evaluate_model
from models.core.tasks import Splits, Task, epochs_for, fine_tuned_from, train_model, versus_start, weight_updates
from models.core.trainer import TrainConfig

REFRESH_S = 2.0
LEARNING_RATES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0]
BATCH_SIZES = [1, 8, 16, 32, 64, 128, 256, 512]
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.05, 0.1]
CLIPS = [0.0, 0.1, 0.5, 1.0, 5.0, 10.0]

MISTAKES_SHOWN = 24      # the surest mistakes shown after "Evaluate on the test (or validation) set"


def _follow(key: str, value) -> None:
    """A control shows `value` (the recipe of the chosen mode, for the data's size) until the user
    sets it: then the user's value is kept, whatever the mode or the data do."""
    auto = f"{key}__auto"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(auto):
        st.session_state[key] = value
    st.session_state[auto] = value


def _choices(options: list, *values) -> list:
    # a recipe's own value is always a choice: 4e-3 is not rounded to the nearest step
    return sorted(set(options) | {v for v in values if v is not None})


def settings_form(task: Task, key: str, fine_tune_defaults: TrainConfig,
                  n_train: int | None) -> tuple[TrainConfig, bool, bool]:
    """(config, fine_tune, augment) from the panel's controls. From scratch, they start at the
    task's recipe, exactly what `python -m models.train TASK` uses for the same data."""
    c1, c2, c3, c4 = st.columns(4)
    mode = c1.radio("Start from", ["Fine-tune the model in use", "Train from scratch"], key=f"{key}__mode")
    fine_tune = mode.startswith("Fine")
    recipe = fine_tune_defaults if fine_tune else task.default_config()
    scratch = task.default_config()
    # the data arrive after the panel first shows: the epochs follow their size until the user sets them
    epochs = epochs_for(n_train, recipe.batch_size, recipe.epochs) if n_train else recipe.epochs
    keys = {name: f"{key}__{name}" for name in ("epochs", "lr", "batch", "opt", "sched", "wd", "clip")}
    for name, value in [("epochs", epochs), ("lr", recipe.lr), ("batch", recipe.batch_size),
                        ("opt", recipe.optimizer), ("sched", recipe.schedule), ("wd", recipe.weight_decay),
                        ("clip", recipe.clip_grad_norm or 0.0)]:
        _follow(keys[name], value)
    epochs = c1.number_input("Epochs", 1, 500, key=keys["epochs"])
    both = (fine_tune_defaults, scratch)
    lr = c2.select_slider("Learning rate", _choices(LEARNING_RATES, *(c.lr for c in both)), key=keys["lr"],
                          format_func=lambda v: f"{v:.3g}")          # 0.000133, not 0.000133333
    batch = c2.select_slider("Batch size", _choices(BATCH_SIZES, *(c.batch_size for c in both)), key=keys["batch"])
    optimizer = c3.selectbox("Optimiser", ["adam", "sgd"], key=keys["opt"],
                             format_func={"adam": "Adam", "sgd": "SGD with momentum"}.get)
    schedule = c3.selectbox("Learning-rate schedule", ["constant", "onecycle", "cosine", "step"], key=keys["sched"])
    wd = c4.select_slider("Weight decay", _choices(WEIGHT_DECAYS, *(c.weight_decay for c in both)), key=keys["wd"],
                          format_func=lambda v: f"{v:g}")
    clip = c4.select_slider("Clip gradient norm", _choices(CLIPS, *(c.clip_grad_norm for c in both)), key=keys["clip"],
                            format_func=lambda v: "off" if v == 0 else f"{v:g}")
    # only where the task has an augmentation to switch (Typos' noise model is its data, not an option)
    augment = task.batch_transform(True) is not None and c4.checkbox("Augment the training data", value=True,
                                                                      key=f"{key}__aug")
    cfg = TrainConfig.from_dict({**recipe.to_dict(), "epochs": int(epochs), "lr": float(lr), "batch_size": int(batch),
                                 "optimizer": optimizer, "schedule": schedule, "weight_decay": float(wd),
                                 "clip_grad_norm": float(clip) or None})
    return cfg, fine_tune, augment


def _start(task: Task, key: str, data: Splits, cfg: TrainConfig, fine_tune: bool, augment: bool) -> None:
    init = init_labels = init_name = None
    if fine_tune:
        name, predictor, card = active_model(task.name)
        init, init_labels = predictor.model, predictor.labels
        init_name = fine_tuned_from(name, card)

    def work(callbacks, attach):
        run = train_model(task, data, cfg, init=init, init_labels=init_labels, callbacks=callbacks,
                          trainer_hook=attach, augment=augment, init_name=init_name)
        if run.result.ok:
            run.versus = versus_start(run, init, init_labels, data, task.collate_fn)
        return run

    st.session_state[f"{key}__job"] = TrainingJob(work, name=f"{key}-training").start()
    # the finished model is evaluated on the data it trained on, whatever the page has chosen since
    st.session_state[f"{key}__data"] = data
    st.session_state.pop(f"{key}__eval", None)
    st.session_state[f"{key}__registered"] = False


def _live(job: TrainingJob) -> None:
    snap = job.snapshot()
    frac = snap["step"] / snap["total"] if snap["total"] else 0.0
    last = snap["batches"][-1] if snap["batches"] else None
    text = f"batch {snap['step']}/{snap['total'] or '?'} · {snap['elapsed']:.0f} s"
    if last:
        text += f" · epoch {last['epoch']} · loss {last['loss']:.4f}"
    st.progress(min(frac, 1.0), text=text)
    a, b, c = st.columns(3)
    with a:
        charts.loss_chart(snap["batches"])
    with b:
        charts.epoch_chart(snap["epochs"])
    with c:
        charts.grad_norm_chart(snap["batches"])


def training_panel(task: Task, key: str, data: Splits | None, *, data_note: str = "",
                   render_mistakes: Callable[[list[dict], object], None] | None = None,
                   defaults: TrainConfig | None = None) -> None:
    """Settings, start/stop, live curves, then the finished model: evaluate, download, use.
    `defaults` are the fine-tuning settings; from scratch, the panel starts at the task's recipe."""
    job: TrainingJob | None = st.session_state.get(f"{key}__job")
    running = job is not None and job.running
    fine_tune_defaults = defaults or task.default_config()
    with st.expander("Training settings", expanded=not running):
        _, current, _ = active_model(task.name)
        cfg, fine_tune, augment = settings_form(task, key, fine_tune_defaults, None if data is None else len(data.train))
        if data is not None:
            updates = weight_updates(len(data.train), cfg.batch_size, cfg.epochs)
            st.caption(f"{cfg.epochs} epoch{'s' * (cfg.epochs != 1)} of {len(data.train):,} training examples in batches of "
                       f"{cfg.batch_size}: {updates:,} weight updates.")
            if data.val is None or not len(data.val):
                st.caption("No examples are held out for validation (a label gives one only when it has two or "
                           "more), so training runs every epoch and its figures are on the training examples.")
        if fine_tune and data is not None and data.labels != current.labels:
            st.caption(f"The model in use knows {md_labels(current.labels)}; fine-tuning on "
                       f"{md_labels(data.labels)} keeps its features and gives it a new output layer.")
    if data_note:
        st.caption(data_note)
    go, stop, _ = st.columns([1, 1, 4])
    if go.button("Start training", type="primary", disabled=running or data is None, key=f"{key}__start"):
        _start(task, key, data, cfg, fine_tune, augment)
        st.rerun()
    if stop.button("Stop", disabled=not running, key=f"{key}__stop"):
        job.stop()
    if job is None:
        return

    # every refresh redraws three charts in this process, competing with the training
    # thread for the interpreter: at 0.5 s a 6 s fine-tune took over 30 s on 2 cores
    @st.fragment(run_every=REFRESH_S if running else None)
    def live():
        _live(job)
        if running and not job.running:
            st.rerun(scope="app")   # finished: redraw the page with the result

    live()
    if not job.running:
        _finished(task, key, job, st.session_state.get(f"{key}__data"), render_mistakes)


def _finished(task: Task, key: str, job: TrainingJob, data: Splits | None, render_mistakes) -> None:
    """The finished run; `data` is what it trained on (a new upload or source does not change it)."""
    if job.error:
        # the message, never a traceback with the server's paths (that goes to the server's console)
        st.error(f"Training failed: {md_text(job.error)}")
        if not st.session_state.get(f"{key}__logged") == id(job):
            print(job.error_detail or job.error, file=sys.stderr)
            st.session_state[f"{key}__logged"] = id(job)
        return
    run = job.result
    status, message = run.result.status, run.result.message
    m = run.card["metrics"]
    scores = ", ".join(f"{k.replace('_', ' ')} {v:.2%}" for k, v in m.items() if k.endswith("accuracy"))
    if status == "diverged":
        st.error(message)
    elif status == "stopped":
        st.warning(f"{message} The model keeps what it learnt so far. {scores}")
    else:
        st.success(f"{message} {scores}")
    name_key = f"{key}__registered"
    versus = run.versus
    worse = versus is not None and versus["new"] < versus["start"]
    if worse and not st.session_state.get(name_key):
        st.warning(f"The fine-tuned model gets {versus['new']:.2%} of the {versus['n']} validation examples right, "
                   f"the model it started from {versus['start']:.2%}: the model in use was kept. Try a lower "
                   "learning rate or fewer epochs, or use the new one anyway.")
    if not st.session_state.get(name_key) and status != "diverged" and not worse:
        predictor = task.predictor_class(run.model, run.card)
        st.session_state[name_key] = add_session_model(task.name, predictor, run.card)
        st.toast(f"Now using {st.session_state[name_key]}")
        st.rerun()   # redraw the whole page (model picker, predictions) with the new model
    a, b, c = st.columns(3)
    if (status == "diverged" or worse) and not st.session_state.get(name_key):
        if a.button("Use these weights anyway", key=f"{key}__use"):
            st.session_state[name_key] = add_session_model(task.name, task.predictor_class(run.model, run.card),
                                                           run.card)
            st.rerun()
    elif kept := st.session_state.get(name_key):
        a.caption(f"Kept as “{kept}” among the sidebar's models." if kept in st.session_state.get(
            f"{task.name}__models", {}) else f"“{kept}” has left the sidebar (a session keeps its latest "
            f"{MAX_SESSION_MODELS}); download it to keep it.")
    b.download_button("Download the model (.zip)", to_zip(run.model, run.card, f"{task.name}-model"),
                      file_name=f"{task.name}-model.zip", mime="application/zip", key=f"{key}__dl")
    onnx_download(task.name, run.model, run.card, key=key, where=b)
    test = data.test if data is not None else None
    split = "validation" if test is not None and test is data.val else "test"     # your data has no test set
    if c.button(f"Evaluate on the {split} set", disabled=test is None, key=f"{key}__evaluate"):
        st.session_state[f"{key}__eval"] = evaluate_model(run.model, test, run.card["labels"],
                                                          collate_fn=task.collate_fn)
    result = st.session_state.get(f"{key}__eval")
    if result:
        st.metric(f"{split.capitalize()} accuracy", f"{result['accuracy']:.2%}", help=f"on {result['n']} examples")
        left, right = st.columns([1, 1]) if "confusion" in result else (None, st.container())
        if left is not None:
            with left:
                charts.confusion_chart(result["confusion"], run.card["labels"])
        with right:
            wrong = round(result["n"] * (1 - result["accuracy"]))
            shown = result["mistakes"][:MISTAKES_SHOWN]
            if shown:
                st.markdown(f"**Most confident mistakes**: the {len(shown)} surest of {wrong:,} wrong answers")
            if render_mistakes and shown:
                render_mistakes(shown, test)
            elif not shown:
                st.write(f"No mistakes: every {split} example is right.")
