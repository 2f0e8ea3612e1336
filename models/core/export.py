"""A trained model as an ONNX file that runs without this project, checked against PyTorch.

    onnx_bytes, card = export_onnx("digits", model, card)   # the app's download, the command's file

Each task says what its network takes and what a caller must do first in
models/<task>/export.py (`export_spec(model, card) -> ExportSpec`); this module
exports through torch's exporter, runs the file in onnxruntime on the task's own
sample inputs and refuses it unless every output matches PyTorch's to TOLERANCE.
Everything is done in memory or in a temporary folder, never at a path a user chose.
"""
from __future__ import annotations

import importlib
import logging
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from models.core.checkpoint import card_bytes, first_line

TOLERANCE = 1e-4       # max |onnxruntime - PyTorch| over every output of every sample
OPSET = 20             # what torch 2.11's exporter writes; onnxruntime 1.17+ reads it
EXPORTERS = {True: "torch.onnx.export(dynamo=True): torch.export + onnxscript",
             False: "torch.onnx.export(dynamo=False): the TorchScript exporter"}


class ExportError(ValueError):
    pass


@dataclass
class ExportSpec:
    """What one task's network takes. `module` computes exactly the model's outputs from
    `example`, in an export-friendly way (no packed sequences, no data-dependent shapes);
    `dynamo` picks torch's exporter (the TorchScript one where torch.export fixes an axis);
    `dynamic` names the axes that may vary (input name -> {axis: name}); `samples` are the
    inputs the file is checked on (real ones where they need no dataset); `meaning` says what each input holds; `output` what the
    output is; `caller_must` the preprocessing a caller does before the network, in words
    and numbers; `extra` anything else the caller needs (a lexicon, say)."""
    module: nn.Module
    names: list[str]
    example: tuple
    dynamic: dict[str, dict[int, str]]
    samples: list[tuple]
    meaning: dict[str, str]
    output: str
    caller_must: dict
    extra: dict = field(default_factory=dict)
    dynamo: bool = True


def task_spec(task: str, model: nn.Module, card: dict) -> ExportSpec:
    from models.core.registry import TASK_MODULES
    if task not in TASK_MODULES:
        raise ExportError(f"unknown task {task!r}; known tasks: {', '.join(sorted(TASK_MODULES))}")
    module = importlib.import_module(TASK_MODULES[task].rsplit(".", 1)[0] + ".export")
    return module.export_spec(model.eval(), card)


# torch 2.11's torch.export crashes the process (a segfault in FakeTensorMode) when a thread exports after
# another thread that exported has ended, as Streamlit runs every rerun in a new thread: every export runs
# on this one long-lived thread instead
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnx-export")


def _to_onnx(spec: ExportSpec) -> bytes:
    return _WORKER.submit(_export, spec).result()


def _export(spec: ExportSpec) -> bytes:
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")     # the exporters' deprecation chatter is not the caller's concern
        if not spec.dynamo:
            out = Path(tmp) / "model.onnx"
            torch.onnx.export(spec.module.eval(), spec.example, out, dynamo=False, input_names=spec.names,
                              output_names=["logits"], dynamic_axes=spec.dynamic, opset_version=OPSET)
            return out.read_bytes()
        dims: dict[str, torch.export.Dim] = {}
        shapes = tuple({axis: dims.setdefault(name, torch.export.Dim(name, min=1))
                        for axis, name in spec.dynamic.get(n, {}).items()} or None for n in spec.names)
        program = torch.onnx.export(spec.module.eval(), spec.example, dynamo=True, verbose=False,
                                    input_names=spec.names, output_names=["logits"], dynamic_shapes=shapes,
                                    opset_version=OPSET, artifacts_dir=tmp)
        return program.model_proto.SerializeToString()


def max_difference(onnx_bytes: bytes, model: nn.Module, names: list[str], samples: list[tuple]) -> float:
    """The largest |onnxruntime - PyTorch| over every sample: the file against the model itself,
    not against the export-friendly module (that checks the module too)."""
    import onnxruntime as ort
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.inference_mode():
        for sample in samples:
            want = model(*sample).float().numpy()
            got = session.run(None, {n: t.numpy() for n, t in zip(names, sample)})[0]
            if got.shape != want.shape:
                raise ExportError(f"the ONNX file answers shape {got.shape}, PyTorch {want.shape}")
            worst = max(worst, float(np.abs(got - want).max()) if got.size else 0.0)
    return worst


def _describe(spec: ExportSpec, worst: float, card: dict) -> dict:
    inputs = []
    for name, x in zip(spec.names, spec.example):
        shape = [spec.dynamic.get(name, {}).get(axis, int(n)) for axis, n in enumerate(x.shape)]
        inputs.append({"name": name, "shape": shape, "dtype": str(x.dtype).removeprefix("torch."),
                       "meaning": spec.meaning[name]})
    dynamic = sorted({d for axes in spec.dynamic.values() for d in axes.values()})
    return {"file": "model.onnx", "exporter": EXPORTERS[spec.dynamo], "torch": torch.__version__, "opset": OPSET,
            "inputs": inputs, "dynamic_axes": dynamic,
            "outputs": [{"name": "logits", "meaning": spec.output, "labels": list(card.get("labels", []))}],
            "caller_must": spec.caller_must, **spec.extra,
            "verified": {"runtime": "onnxruntime " + _ort_version(), "samples": len(spec.samples),
                         "max_abs_difference": worst, "tolerance": TOLERANCE}}


def _ort_version() -> str:
    import onnxruntime
    return onnxruntime.__version__


def _first_line(e: Exception) -> str:
    """An exporter's or runtime's error in one line: their messages run to pages of graph dumps."""
    return f"{type(e).__name__}: {first_line(e)}"


def export_onnx(task: str, model: nn.Module, card: dict) -> tuple[bytes, dict]:
    """(the ONNX file's bytes, the model card with an "onnx" section). Raises ExportError when the
    file does not reproduce the model to TOLERANCE on the task's samples."""
    import copy
    model = copy.deepcopy(model).cpu().eval()     # a copy: the app's model stays where and as it is
    spec = task_spec(task, model, card)
    try:
        data = _to_onnx(spec)
    except Exception as e:       # the exporter's own errors are many and deep: one line for the caller
        raise ExportError(f"torch's ONNX exporter failed on the {task} model: {_first_line(e)}") from e
    try:
        worst = max_difference(data, model, spec.names, spec.samples)
    except ExportError:
        raise
    except Exception as e:       # onnxruntime refusing the file it was given
        raise ExportError(f"onnxruntime cannot run the exported {task} model: {_first_line(e)}") from e
    if not worst <= TOLERANCE:       # NaN fails too
        raise ExportError(f"the ONNX file differs from the PyTorch model by up to {worst:.2g} "
                          f"(tolerance {TOLERANCE:g}): not exported")
    out = {k: v for k, v in card.items() if k != "files"}     # the hashes name the safetensors set, not this file
    out["onnx"] = _describe(spec, worst, card)
    return data, out


def onnx_zip(onnx_bytes: bytes, card: dict) -> bytes:
    """The app's download: model.onnx and model.json (the card with its "onnx" section) in a zip."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.onnx", onnx_bytes)
        z.writestr("model.json", card_bytes(card))       # NaN as null, as every card
    return buf.getvalue()


def write_export(onnx_bytes: bytes, card: dict, out: str | Path) -> tuple[Path, Path]:
    """FILE.onnx and its sidecar FILE.json (atomically), for the command line."""
    from models.core.checkpoint import _atomic_write
    out = Path(out)
    sidecar = out.with_suffix(".json")
    _atomic_write(out, onnx_bytes)
    try:
        _atomic_write(sidecar, card_bytes({**card, "onnx": {**card["onnx"], "file": out.name}}))
    except OSError:
        out.unlink(missing_ok=True)     # an .onnx without the card that says what it expects is no export
        raise
    return out, sidecar
