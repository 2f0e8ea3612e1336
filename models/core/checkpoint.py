"""Checkpoints without pickle: weights in safetensors, the model card in JSON,
and (for resuming) the optimizer state in a torch file read with weights_only=True.

    runs/digits.safetensors   the weights
    runs/digits.json          the model card: task, architecture, labels, preprocessing,
                              hyper-parameters, data provenance, metrics, date, command
    runs/digits.train.pt      optimizer/scheduler state and counters (resume only)

Every file is written to a temporary name and renamed, so a crash or a second
writer never leaves a half-written checkpoint behind.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load as st_load, save as st_save

from data.core.class_folders import packed_too_tightly


WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def shipped_path(task: str) -> Path:
    """Where the shipped model of a task lives (without its extensions)."""
    return WEIGHTS_DIR / task


def stem(path: str | os.PathLike) -> Path:
    p = Path(path)
    for suffix in (".safetensors", ".json", ".train.pt"):
        if p.name.endswith(suffix):
            return p.with_name(p.name[: -len(suffix)])
    return p


def _atomic_write(path: Path, data: bytes) -> None:
    try:
        _write_via_temporary(path, data)
    except OSError as e:            # named as the file asked for, not the temporary one beside it
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e


def _write_via_temporary(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)     # mkstemp's 0600 would hide a shared model from other users
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def weights_bytes(model: torch.nn.Module) -> bytes:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return st_save(state)


def finite(value):
    """`value` with every NaN or infinity made None: JSON has no such numbers, and a card or a report
    holding them is not JSON another program can read."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    try:                            # float, and numpy's and torch's numbers, as json's default= read them
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if math.isfinite(number) else None


def card_bytes(card: dict) -> bytes:
    return json.dumps(finite(card), indent=2, sort_keys=False, default=float, allow_nan=False).encode()


def make_card(task: str, arch: dict, labels: list[str], **extra) -> dict:
    card = {
        "task": task,
        "arch": arch,
        "labels": [str(label) for label in labels],
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "command": _command(),
    }
    card.update(extra)
    return card


def _command() -> str:
    """The command line that is running, as it would be typed (`python -m models.train ...`)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name and not spec.name.startswith("streamlit"):
        return " ".join(["python -m " + spec.name.removesuffix(".__main__"), *sys.argv[1:]])
    if sys.argv and sys.argv[0] and "streamlit" not in sys.argv[0] and "pytest" not in sys.argv[0]:
        return " ".join(["python", Path(sys.argv[0]).name, *sys.argv[1:]])
    return ""


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, card: dict,
                    trainer_state: dict | None = None) -> Path:
    """Writes the set as one: the weights and the optimizer state first, then the card, which
    names both files' SHA-256. The card is the commit: a crash or a full disk between the files
    leaves an old card whose hashes the new weights do not match, and loading says so instead of
    mixing two runs."""
    base = stem(path)
    weights = weights_bytes(model)
    files = {".safetensors": _sha256(weights)}
    train = None
    if trainer_state is not None:
        import io
        buf = io.BytesIO()
        torch.save(trainer_state, buf)
        train = buf.getvalue()
        files[".train.pt"] = _sha256(train)
    _atomic_write(base.with_name(base.name + ".safetensors"), weights)
    if train is not None:
        _atomic_write(base.with_name(base.name + ".train.pt"), train)
    else:   # a stale optimizer state must not be resumed with these weights
        base.with_name(base.name + ".train.pt").unlink(missing_ok=True)
    _atomic_write(base.with_name(base.name + ".json"), card_bytes({**card, "files": files}))
    return base


def _sha256(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def _check_hash(card: dict, suffix: str, data: bytes, base: Path) -> None:
    expected = card.get("files", {}).get(suffix) if isinstance(card, dict) and isinstance(card.get("files"), dict) \
        else None
    if expected is not None and expected != _sha256(data):
        raise CheckpointError(f"{base.name}{suffix} is not the file its model card was saved with (a save was "
                              "interrupted, or files of two runs were mixed): retrain, or restore the set.")


def is_shipped(path: str | os.PathLike) -> bool:
    """Whether a checkpoint path is one of the shipped models (models/weights/<task>)."""
    return stem(path).resolve().parent == WEIGHTS_DIR.resolve()


class CheckpointError(ValueError):
    pass


def first_line(error: BaseException, most: int = 300) -> str:
    """An error's message in one line: torch appends C++ stack frames to some, exporters graph dumps."""
    line = (str(error).strip().splitlines() or [""])[0]
    return line if len(line) <= most else line[:most] + "…"


# a model of this suite has a few dozen tensors; safetensors builds every one a header names before
# anything can count them, so 1.5 million empty ones (a 3.9 MB zip) took 2 GB and 80 s to refuse
MAX_TENSORS, MAX_HEADER = 1_000, 1024**2
# what the suite saves; complex numbers would pass a check for NaN that looks only at floats
DTYPES = {"F16", "BF16", "F32", "F64", "I8", "I16", "I32", "I64", "U8", "BOOL"}


def read_weights(data: bytes, what: str = "The weights") -> dict:
    """A state dict from safetensors bytes, after its header has been read and bounded."""
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 2 <= n <= min(MAX_HEADER, len(data) - 8):
        raise CheckpointError(f"{what} are not a safetensors file this suite wrote (no header of up to "
                              f"{MAX_HEADER // 1024**2} MB at their start).")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{what} have a header that is not readable JSON.") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{what} have a header that is not a JSON object.")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    if len(tensors) > MAX_TENSORS:
        raise CheckpointError(f"{what} name {len(tensors):,} tensors; a model of this suite has at most "
                              f"{MAX_TENSORS:,}.")
    odd = sorted({str(v.get("dtype")) if isinstance(v, dict) else "?" for v in tensors.values()} - DTYPES)
    if odd:
        raise CheckpointError(f"{what} hold tensors of type {odd[0][:20]}: this suite saves floating-point "
                              "and integer tensors only.")
    return st_load(data)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, dict]:
    """(state_dict, card). Raises CheckpointError with a readable message."""
    base = stem(path)
    weights, card_path = base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")
    if not weights.exists():
        raise CheckpointError(f"No weights at {weights}.")
    if not card_path.exists():
        raise CheckpointError(f"No model card at {card_path}: it is saved beside the weights and names "
                              "the task, labels and preprocessing.")
    for path, most in ((weights, MAX_ZIP_WEIGHTS), (card_path, MAX_ZIP_CARD)):
        if not path.is_file():      # a FIFO would be read without end, or wait for a writer for ever
            raise CheckpointError(f"{path} is not a regular file.")
        if path.stat().st_size > most:
            raise CheckpointError(f"{path} is {path.stat().st_size / 1024**2:,.0f} MB: a model of this suite is "
                                  f"at most {most // 1024**2} MB.")
    try:
        data = weights.read_bytes()
        card = json.loads(card_path.read_text())
        _check_hash(card, ".safetensors", data, base)
        state = read_weights(data, f"Could not read the checkpoint {base}: its weights")
    except CheckpointError:
        raise
    except Exception as e:  # corrupt or foreign file
        raise CheckpointError(f"Could not read the checkpoint {base}: {e}") from e
    return state, card


def read_card(path: str | os.PathLike) -> dict | None:
    """A checkpoint's model card alone, or None where there is none (or it is not JSON)."""
    base = stem(path)
    try:
        return json.loads(base.with_name(base.name + ".json").read_text())
    except (OSError, ValueError, RecursionError):
        return None


def record_evaluation(path: str | os.PathLike, name: str, result: dict, headline: str) -> None:
    """Adds an evaluation command's figures to a checkpoint's card (atomically):
    `headline` is the one line the apps show for the model."""
    base = stem(path)
    card_path = base.with_name(base.name + ".json")
    card = json.loads(card_path.read_text())
    card.setdefault("evaluation", {})[name] = {**result, "command": _command()}
    card["evaluation"]["headline"] = headline
    _atomic_write(card_path, card_bytes(card))


def load_trainer_state(path: str | os.PathLike) -> dict | None:
    base = stem(path)
    p = base.with_name(base.name + ".train.pt")
    if not p.exists():
        return None
    data = p.read_bytes()
    card = read_card(base)
    if card is not None:
        _check_hash(card, ".train.pt", data, base)
    import io
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: the shipped cards name no hash to catch it first
        raise CheckpointError(f"{p} cannot be read as a run's optimizer state: {first_line(e, 200)}") from e


def to_zip(model: torch.nn.Module, card: dict, name: str = "model") -> bytes:
    """A checkpoint as one downloadable file: name.safetensors + name.json in a zip."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.safetensors", weights_bytes(model))
        z.writestr(f"{name}.json", card_bytes(card))
    return buf.getvalue()


MAX_ZIP_WEIGHTS, MAX_ZIP_CARD = 256 * 1024**2, 32 * 1024**2


def _read_at_most(z, info) -> bytes:
    # a header that understates a size must not get past the limit either
    with z.open(info) as f:
        data = f.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise CheckpointError(f"{info.filename} unpacks to more than the zip's directory says.")
    return data


MAX_ZIP_DIRECTORY = 64 * 1024     # a few entries' names; zipfile reads the whole directory on opening


def _check_directory(data: bytes) -> None:
    """A model zip's directory, bounded from its end record before zipfile parses it: a zip of a
    million empty entries took 11 s and 550 MB to open, before its entries could be counted."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or len(data) < end + 22:
        return                                   # not a zip: zipfile says so in its own words
    entries, size = int.from_bytes(data[end + 10:end + 12], "little"), int.from_bytes(data[end + 12:end + 16], "little")
    if entries > 8 or size > MAX_ZIP_DIRECTORY:
        raise CheckpointError("The zip must hold one .safetensors file and its .json model card "
                              f"(it lists {'over 65,535' if entries == 0xFFFF else f'{entries:,}'} entries).")


def from_zip(data: bytes) -> tuple[dict, dict]:
    """(state_dict, card) from a zip written by `to_zip`."""
    import io
    import zipfile
    _check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            w = [i for i in infos if i.filename.endswith(".safetensors")]
            c = [i for i in infos if i.filename.endswith(".json")]
            if len(w) != 1 or len(c) != 1 or len(infos) > 8:
                raise CheckpointError("The zip must hold one .safetensors file and its .json model card.")
            # sizes and ratios from the zip's directory, before anything is unpacked into memory
            for info, most in ((w[0], MAX_ZIP_WEIGHTS), (c[0], MAX_ZIP_CARD)):
                if info.file_size > most or packed_too_tightly(info):
                    raise CheckpointError(f"{info.filename} unpacks to {info.file_size / 1024**2:,.0f} MB: "
                                          f"a model of this suite is at most {most // 1024**2} MB.")
            card = _read_at_most(z, c[0])
            try:
                card = json.loads(card)
            except (ValueError, RecursionError) as e:    # 100,000 nested brackets are a RecursionError
                raise CheckpointError(f"The model card {c[0].filename} is not readable JSON: "
                                      f"{'nested too deeply' if isinstance(e, RecursionError) else e}.") from e
            return read_weights(_read_at_most(z, w[0])), card
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as e:
        raise CheckpointError(f"Not a model saved by this suite: {e}") from e
    except CheckpointError:
        raise
    except Exception as e:  # safetensors raises its own error types on corrupt data
        raise CheckpointError(f"The weights in this zip cannot be read: {e}") from e
