"""End-to-end: a real Chromium, driven by Playwright, against a live `streamlit run apps/home.py`.

The drawing canvas (streamlit-drawable-canvas 0.13) is a components-v2 element: it renders
inside an open shadow root under `[data-testid=stBidiComponentIsolated]`, not in an iframe
(older versions of the package used an iframe titled "...st_canvas..."; both are handled).
Fabric.js stacks three <canvas> elements; mouse events go to the top one, `canvas.upper-canvas`.
"""
from __future__ import annotations

import shutil

import pytest

from conftest import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, settle

sync_api = browser_or_skip()
expect = sync_api.expect

pytestmark = pytest.mark.browser


def test_home_lists_digits(server, page):
    page.goto(f"{server}/", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Backprop Showcase")).to_be_visible(timeout=45_000)
    link = page.get_by_role("link", name="Open Digits")
    expect(link).to_be_visible()
    assert "digits" in (link.get_attribute("href") or "")


def test_every_page_is_served_by_the_app_alone(server, page):
    """Offline, a request to another host fails: a ':material/…:' favicon came from
    fonts.gstatic.com. Every request of every page stays on the app's own address."""
    host = server.split("//", 1)[1].split("/", 1)[0]
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(("data:", "blob:")) and r.url.split("//", 1)[-1].split("/", 1)[0] != host
            else None)
    for path, heading in [("", "Backprop Showcase"), ("digits", "Digits"), ("typos", "Typos"),
                          ("sentiment", "Sentiment"), ("speech", "Speech commands"), ("lab", "Backprop Lab")]:
        page.goto(f"{server}/{path}", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name=heading).first).to_be_visible(timeout=45_000)
        page.wait_for_load_state("networkidle")
    assert outside == []
    assert page.locator("link[rel*='icon']").first.get_attribute("href").startswith(("/", "http://127.0.0.1"))


def _canvas_box(page) -> dict:
    """The drawing surface's box in page coordinates: the shadow-DOM canvas, or an iframe's canvas."""
    target = page.locator("canvas.upper-canvas, iframe[title*='st_canvas']").first
    target.wait_for(state="visible", timeout=45_000)
    target.scroll_into_view_if_needed()
    if target.evaluate("e => e.tagName") == "CANVAS":
        return target.bounding_box()
    frame_box = target.bounding_box()  # an iframe-based canvas: add the canvas's offset inside the frame
    inner = page.frame_locator("iframe[title*='st_canvas']").locator("canvas.upper-canvas, canvas").last
    inner.wait_for(state="visible")
    off = inner.evaluate("e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, "
                         "width: r.width, height: r.height}; }")
    return {"x": frame_box["x"] + off["x"], "y": frame_box["y"] + off["y"],
            "width": off["width"], "height": off["height"]}


def draw_seven(page) -> None:
    """A "7" on the canvas: a bar across the top, then a diagonal down to the lower middle-left."""
    box = _canvas_box(page)
    assert box["width"] > 100 and box["height"] > 100, box

    def at(fx: float, fy: float) -> tuple[float, float]:
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    mouse = page.mouse
    mouse.move(*at(0.25, 0.20))
    mouse.down()
    mouse.move(*at(0.75, 0.20), steps=15)
    mouse.move(*at(0.42, 0.85), steps=20)
    mouse.up()
    mouse.move(5, 5)  # off the canvas, so its hover toolbar does not cover the page


def test_draw_a_seven(server, page, tmp_path):
    shot = tmp_path / "digits.png"
    try:
        page.goto(f"{server}/digits", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Digits")).to_be_visible(timeout=45_000)
        draw_seven(page)
        prediction = page.locator("#prediction")
        # to_have_text retries, so a prediction made on a half-sent stroke is waited past.
        expect(prediction).to_have_text("7", timeout=30_000)
        try:  # let the probability chart draw before the screenshot; it is not what is tested
            page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg") \
                .first.wait_for(state="visible", timeout=10_000)
        except sync_api.TimeoutError:
            pass
        settle(page)
    finally:
        page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0


def draw_one(page) -> None:
    """A "1": one vertical stroke down the middle."""
    box = _canvas_box(page)
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.85 * box["height"], steps=20)
    page.mouse.up()
    page.mouse.move(5, 5)


def test_a_digit_drawn_right_after_clear_canvas_is_read(server, page, tmp_path):
    """Draw, press "Clear canvas", draw a 7 at once (well within 0.3 s). A clear that waited on the
    server (a new canvas key) wiped a stroke drawn meanwhile: the canvas came back blank, with no
    prediction (2 tries of 2)."""
    try:
        page.goto(f"{server}/digits", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Digits")).to_be_visible(timeout=45_000)
        prediction = page.locator("#prediction")
        clear = page.get_by_role("button", name="Clear canvas")
        for _ in range(2):
            draw_one(page)
            expect(prediction).to_have_text("1", timeout=30_000)
            clear.click()
            draw_seven(page)
            expect(prediction).to_have_text("7", timeout=30_000)
            settle(page)
            clear.click()
            expect(prediction).to_have_count(0, timeout=30_000)     # cleared: nothing to read
    finally:
        page.screenshot(path=str(tmp_path / "canvas_clear.png"), full_page=True)


def test_training_source_stays_chosen_as_examples_are_collected(server, page):
    """Choose "Examples you collected here", collect one more drawing: the choice must still show.
    (A count in the option's label once made the browser drop the selection; AppTest cannot see it.)"""
    page.goto(f"{server}/digits", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Digits")).to_be_visible(timeout=45_000)
    draw_seven(page)
    expect(page.locator("#prediction")).to_have_text("7", timeout=30_000)
    page.get_by_text("Collect this drawing as a training example").click()
    page.get_by_role("textbox", name="Label").fill("7")
    add = page.get_by_role("button", name="Add example")
    add.click()
    expect(page.get_by_text("1 collected so far")).to_be_visible(timeout=30_000)

    page.get_by_role("tab", name="Train & retrain").click()
    source = page.get_by_role("radiogroup", name="Train on")
    source.get_by_text("Examples you collected here").click()
    collected = source.get_by_role("radio").nth(2)
    expect(collected).to_be_checked(timeout=30_000)

    page.get_by_role("tab", name="Draw").click()
    add.click()
    expect(page.get_by_text("2 collected so far")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Train & retrain").click()
    settle(page)
    expect(collected).to_be_checked()


def test_lab_one_whole_step_by_hand(server, page):
    """Click through one full hand step and read the updated weights from the page."""
    from models.lab import hand as lab_hand
    expected = lab_hand.update(lab_hand.HandSetup.default())
    page.goto(f"{server}/lab", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Backprop Lab")).to_be_visible(timeout=45_000)
    # forward, error, backward, update: one phase per click, each waited for before the next
    for heading in ("1 · Forward pass", "2 · Error", "3 · Backward pass", "4 · Weight update"):
        page.get_by_role("button", name="Next phase ▶").click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)
    expect(page.locator("#next-loss")).to_have_text(f"{expected['next_loss']:.6f}", timeout=30_000)
    for name in ("w11", "v2", "c"):
        expect(page.locator(f"#new-{name}")).to_have_text(f"{expected[name]['new']:.6f}")
    # applying the update moves the weights into the set-up, and the URL remembers them
    page.get_by_role("button", name="Apply, next step ▶").click()
    prefix = "w11=" + str(expected["w11"]["new"])[:8]
    page.wait_for_function(f"() => location.search.includes('{prefix}')", timeout=30_000)


def test_typos_corrects_a_sentence(server, page, tmp_path):
    """Type a sentence with typos and read the corrections, marked in the text, from the page."""
    try:
        page.goto(f"{server}/typos", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Typos", level=1)).to_be_visible(timeout=45_000)
        box = page.get_by_role("textbox", name="Text to correct")
        box.fill("The sesert was wrold famous")
        box.press("Control+Enter")               # a text area sends its value on Ctrl+Enter or blur
        corrected = page.locator("#corrected")
        expect(corrected).to_have_text("The desert was world famous", timeout=30_000)
        marks = corrected.locator("mark")
        expect(marks).to_have_text(["desert", "world"])
        assert "alternatives: desert" in (marks.first.get_attribute("title") or "")
        expect(page.get_by_text("2 words corrected")).to_be_visible()
        settle(page)
    finally:
        page.screenshot(path=str(tmp_path / "typos.png"), full_page=True)


def test_speech_names_an_uploaded_recording(server, page, tmp_path):
    """Upload a held-out FSDD recording (8 kHz, as the dataset ships it) and read the keyword."""
    from data.speech.datasets import fsdd_recordings
    from data.core.errors import DatasetMissing
    try:
        wav = fsdd_recordings() / "7_nicolas_2.wav"          # take 2: FSDD's test split
    except DatasetMissing as e:
        pytest.skip(str(e))
    clip = tmp_path / "seven.wav"
    shutil.copyfile(wav, clip)
    try:
        page.goto(f"{server}/speech", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Speech commands", level=1)).to_be_visible(timeout=45_000)
        uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="upload a recording")
        uploader.locator("input[type='file']").set_input_files(str(clip))
        expect(page.locator("#prediction")).to_have_text("seven", timeout=45_000)
        settle(page)
    finally:
        page.screenshot(path=str(tmp_path / "speech.png"), full_page=True)


def test_speech_hears_a_word_said_into_the_microphone(server, playwright, tmp_path):
    """The microphone path end to end: Chromium's fake capture device plays a held-out FSDD
    recording (resampled to 48 kHz, with silence around it) into st.audio_input."""
    import numpy as np
    import soundfile as sf
    from data.core.errors import DatasetMissing
    from data.speech.audio import read_audio, resample
    from data.speech.datasets import fsdd_recordings
    try:
        wave, sr = read_audio(fsdd_recordings() / "7_nicolas_2.wav")
    except DatasetMissing as e:
        pytest.skip(str(e))
    pad = np.zeros(int(0.8 * 48_000), np.float32)
    # the fake device loops the file: any 2.6 s of it hold the whole word at least once
    mic = tmp_path / "mic.wav"
    sf.write(mic, np.concatenate([pad, resample(wave, sr, 48_000).numpy(), pad]), 48_000, subtype="PCM_16")
    fake_mic = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={mic}"]
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + fake_mic)
    try:
        page = b.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"]).new_page()
        page.goto(f"{server}/speech", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Speech commands", level=1)).to_be_visible(timeout=45_000)
        recorder = page.locator("[data-testid='stAudioInput']").first
        recorder.get_by_role("button", name="Record").click()
        page.wait_for_timeout(2_600)
        recorder.get_by_role("button", name="Stop recording").click()
        heard = page.locator("#prediction")
        expect(heard).to_contain_text("seven", timeout=45_000)
        assert set(heard.inner_text().split(" · ")) == {"seven"}, heard.inner_text()
        settle(page)
        page.screenshot(path=str(tmp_path / "speech_microphone.png"), full_page=True)
    finally:
        b.close()


def test_speech_sample_shelf_sends_a_held_out_recording(server, page, tmp_path):
    """No microphone: one click sends a real Speech Commands recording of a voice the model never
    heard, and the page names the keyword."""
    try:
        page.goto(f"{server}/speech", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Speech commands", level=1)).to_be_visible(timeout=45_000)
        page.get_by_role("button", name="“stop”").click()
        expect(page.locator("#prediction")).to_have_text("stop", timeout=45_000)
        expect(page.get_by_text("The sample “stop”, a voice the shipped model never heard")).to_be_visible()
        settle(page)
    finally:
        page.screenshot(path=str(tmp_path / "speech_shelf.png"), full_page=True)


def test_an_uploaded_models_html_labels_are_shown_as_text(server, page, tmp_path):
    """A model zip whose labels are <img onerror=…> tags and markdown images and links: the page shows
    them as text, builds no <img> or link from them, fetches nothing and runs no script."""
    from test_security import hostile_digits_zip, one_png
    dialogs, fetched = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: fetched.append(r.url) if "127.0.0.1:9/" in r.url else None)
    (tmp_path / "hostile.zip").write_bytes(hostile_digits_zip())
    (tmp_path / "one.png").write_bytes(one_png())
    page.goto(f"{server}/digits", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Digits")).to_be_visible(timeout=45_000)
    page.locator("[data-testid='stFileUploader']").filter(has_text="Load a model saved") \
        .locator("input[type='file']").set_input_files(str(tmp_path / "hostile.zip"))
    expect(page.get_by_text("Model: Loaded model 1")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Upload").click()
    page.locator("[data-testid='stFileUploader']").filter(has_text="Images of digits") \
        .locator("input[type='file']").set_input_files(str(tmp_path / "one.png"))
    prediction = page.locator("#prediction")
    expect(prediction).to_contain_text("<img src=x onerror=alert(", timeout=30_000)
    expect(prediction).to_contain_text("![x](http:")        # the label's markdown, as text
    assert prediction.locator("img, a, .katex").count() == 0
    settle(page)
    assert dialogs == [] and fetched == []
