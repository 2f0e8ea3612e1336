"""Training in a background thread, so that a UI stays responsive, can show live
curves by polling, and can stop a run between batches.

Nothing here knows about Streamlit: an app keeps a TrainingJob in its session
state, polls `snapshot()` from a timer, and calls `stop()` from its Stop button.
"""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable

from models.core.trainer import Callback, Trainer


class LiveLog(Callback):
    """Copies the trainer's progress into plain lists under a lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.batches: list[dict] = []
        self.epochs: list[dict] = []
        self.step = self.total = 0

    def on_fit_start(self, t: Trainer) -> None:
        with self.lock:
            self.total = t.total_steps

    def on_batch_end(self, t: Trainer) -> None:
        # the trainer reads its figures from the device a few batches at a time: copy what is new
        new = t.history.batches[len(self.batches):]
        with self.lock:
            self.batches.extend(new)
            self.step = t.step

    def on_fit_end(self, t: Trainer) -> None:
        self.on_batch_end(t)

    def on_epoch_end(self, t: Trainer) -> None:
        with self.lock:
            self.epochs.append(t.history.epochs[-1])


class TrainingJob:
    """`work(callbacks, attach)` must build a Trainer with the given callbacks,
    call `attach(trainer)` before fitting, and return its result."""

    def __init__(self, work: Callable[[list[Callback], Callable[[Trainer], None]], object], name: str = "training"):
        self.work, self.name = work, name
        self.log = LiveLog()
        self.trainer: Trainer | None = None
        self.result = None
        self.error: str | None = None
        self.error_detail: str | None = None
        self.started = self.finished = None
        self._stop_asked = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> "TrainingJob":
        self.started = time.time()
        self.thread.start()
        return self

    def _attach(self, trainer: Trainer) -> None:
        self.trainer = trainer
        if self._stop_asked:          # Stop was pressed while the data and the network were being made
            trainer.request_stop("Stopped by you.")

    def _run(self) -> None:
        try:
            self.result = self.work([self.log], self._attach)
        except Exception as e:  # reported to the UI as a message, never lost in a thread
            self.error = f"{type(e).__name__}: {e}" if not str(e) else str(e)
            self.error_detail = traceback.format_exc()
        finally:
            self.finished = time.time()

    def stop(self) -> None:
        self._stop_asked = True
        if self.trainer is not None:
            self.trainer.request_stop("Stopped by you.")

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)

    def snapshot(self) -> dict:
        with self.log.lock:
            return {"batches": list(self.log.batches), "epochs": list(self.log.epochs),
                    "step": self.log.step, "total": self.log.total, "running": self.running,
                    "elapsed": (self.finished or time.time()) - (self.started or time.time())}
