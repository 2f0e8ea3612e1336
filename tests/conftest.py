import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHARED = ROOT.parent / "shared" / "datasets"

# Tests read real data from ../shared/datasets unless BACKPROP_DATA says otherwise,
# and unpack into a cache of their own so they never write to a user's.
os.environ.setdefault("BACKPROP_DATA", str(SHARED))
os.environ.setdefault("BACKPROP_CACHE", str(ROOT / ".cache"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
torch.set_num_threads(min(2, os.cpu_count() or 1))


def have_mnist() -> bool:
    raw = Path(os.environ["BACKPROP_DATA"]) / "mnist" / "MNIST" / "raw"
    return (raw / "t10k-images-idx3-ubyte.gz").exists() or (raw / "t10k-images-idx3-ubyte").exists()


needs_mnist = pytest.mark.skipif(not have_mnist(), reason="MNIST not under BACKPROP_DATA")


@pytest.fixture(scope="session")
def digit_splits():
    from models.digits.task import TASK
    return TASK.load_splits()


def shown(markdown: str) -> str:
    """A markdown element's text as the page shows it: md_text's backslashes, entities and invisible
    word joiners read (apps.components.common.md_text writes them around what a user chose)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", str(markdown))).replace("\u2060", "")


def wait_until(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Every wait in a test has a limit: this one fails the test, saying what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(every)


# ---- browser tests: a live `streamlit run apps/home.py` and Debian's Chromium through Playwright ----

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Base URL of a streamlit server running the suite; stopped (with its process group) at teardown."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    cmd = [sys.executable, "-m", "streamlit", "run", "apps/home.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer /_stcore/health within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def playwright():
    # one Playwright per module: a second sync_playwright() inside a test would find this one's loop
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def browser_or_skip():
    """A browser test module calls this first: the module is skipped where Debian's Chromium or
    Playwright is missing. Returns playwright.sync_api."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def settle(page) -> None:
    """Waits (up to 10 s, then goes on) for the app's run to finish: the "Running…/Stop" widget
    goes away, so a screenshot shows the finished page. Not what a test asserts."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=10_000)
    except PlaywrightTimeout:
        pass


