"""The shape of the project: apps -> models -> data, never back, and one folder per task."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["digits", "typos", "sentiment", "speech", "lab"]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, anywhere in it (inside functions too), absolute names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # `from models import lab` names a package's module too
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", ["models", "data"])
def test_models_and_data_never_import_streamlit_or_the_apps(package):
    bad = [f"{f.relative_to(ROOT)}:{line} imports {m}" for f in files(package)
           for line, m in imported_modules(f) if top(m) in ("streamlit", "apps", "st_canvas", "streamlit_drawable_canvas")]
    assert not bad, "\n".join(bad)


def test_data_never_imports_models():
    bad = [f"{f.relative_to(ROOT)}:{line} imports {m}" for f in files("data")
           for line, m in imported_modules(f) if top(m) == "models"]
    assert not bad, "\n".join(bad)


def test_the_guard_reads_every_file():
    # today's 60-odd files, and every file added later: rglob finds them all
    assert len(files("models")) + len(files("data")) > 50


def test_one_folder_per_task():
    for package in ("models", "data"):
        for task in TASKS:
            assert (ROOT / package / task / "__init__.py").exists(), f"{package}/{task}/"
        assert (ROOT / package / "core" / "__init__.py").exists()
    for task in ["digits", "typos", "sentiment", "speech"]:
        assert (ROOT / "models" / task / "net.py").exists() and (ROOT / "models" / task / "task.py").exists()
    # the drawers hold folders and the commands, nothing else
    loose = sorted(p.name for p in (ROOT / "models").glob("*.py"))
    assert loose == ["__init__.py", "benchmark.py", "evaluate.py", "export.py", "predict.py", "train.py"] or \
        loose == ["__init__.py", "benchmark.py", "evaluate.py", "predict.py", "train.py"]
    assert sorted(p.name for p in (ROOT / "data").glob("*.py")) == ["__init__.py"]


def test_no_task_module_imports_the_registry():
    """The registry imports the task modules by name; a task or network importing it back would be a
    cycle. (A task's evaluation commands stand above the registry and may use it.)"""
    task_files = [f for task in TASKS for f in files(f"models/{task}") if f.name in ("task.py", "net.py")]
    bad = [f"{f.relative_to(ROOT)}:{line} imports {m}" for f in task_files for line, m in imported_modules(f)
           if m in ("models.core.registry", "models.load_predictor", "models.get_task", "models.TASK_MODULES")]
    assert not bad, "\n".join(bad)


def test_app_pages_leave_the_maths_to_models_and_data():
    # a page reads like a page of UI: tensors and networks are models/' and data/' business
    heavy = {"torch", "torchaudio", "torchvision"}
    bad = [f"{f.relative_to(ROOT)}:{line} imports {m}" for f in sorted((ROOT / "apps").glob("*.py"))
           for line, m in imported_modules(f) if top(m) in heavy]
    assert not bad, "\n".join(bad)
