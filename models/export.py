"""Export a task's model to ONNX, checked in onnxruntime against PyTorch, with its model card beside it.

    python -m models.export digits --out lenet5.onnx                          # the shipped model
    python -m models.export sentiment --weights runs/mine.safetensors --out sentiment.onnx

Writes FILE.onnx and FILE.json: the model card plus an "onnx" section (the inputs with their
shapes, dtypes and dynamic axes, what the output means, the preprocessing the caller must do,
with every number, and how closely onnxruntime reproduced PyTorch). A file that differs from
the PyTorch model by more than 1e-4 on the task's sample inputs is not written.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from models.core.checkpoint import CheckpointError
from models.core.export import ExportError, export_onnx, onnx_zip, write_export
from models import TASK_MODULES, load_predictor

__all__ = ["ExportError", "export_onnx", "onnx_zip", "main"]


def check_out(out: str) -> Path:
    path = Path(out)
    if path.suffix.lower() != ".onnx":
        raise ExportError(f"--out must name a .onnx file (the card goes beside it as .json), not {out!r}")
    if path.with_suffix(".safetensors").exists():
        raise ExportError(f"{path.with_suffix('.json')} is the model card of the checkpoint beside it; "
                          "choose another --out")
    if path.is_dir():
        raise ExportError(f"--out {out!r} is a folder; name a .onnx file")
    sidecar = path.with_suffix(".json")
    if sidecar.exists() and not (sidecar.is_file() and _is_export_card(sidecar)):
        # an earlier export's card is replaced with its .onnx; anything else there is someone's file
        raise ExportError(f"{sidecar} is there already and is not the card of an ONNX export: the card would "
                          "replace it; choose another --out")
    return path


def _is_export_card(path: Path) -> bool:
    try:
        return "onnx" in json.loads(path.read_text(encoding="utf-8")[:1_000_000])
    except (OSError, ValueError, RecursionError):
        return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASK_MODULES))
    p.add_argument("--weights", help="checkpoint (.safetensors with its .json card; default: the shipped model)")
    p.add_argument("--out", required=True, help="the ONNX file to write; its card is written beside it as .json")
    args = p.parse_args(argv)
    try:
        out = check_out(args.out)
        pred = load_predictor(args.task, args.weights)
        data, card = export_onnx(args.task, pred.model, pred.card)
        onnx_path, card_path = write_export(data, card, out)
    except (CheckpointError, ValueError) as e:        # ExportError and DataError are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {e.filename or args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    verified = card["onnx"]["verified"]
    print(json.dumps({"onnx": str(onnx_path), "card": str(card_path), "bytes": len(data),
                      "exporter": card["onnx"]["exporter"], "samples": verified["samples"],
                      "max_abs_difference": verified["max_abs_difference"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
