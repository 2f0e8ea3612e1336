"""End-to-end in Chromium: type a review on the Sentiment page of `apps/home.py` and read the verdict.
The fixtures (a live streamlit server, Debian's Chromium via Playwright) live in conftest.py."""

import pytest

from conftest import browser_or_skip, settle

expect = browser_or_skip().expect

pytestmark = pytest.mark.browser


def test_sentiment_reads_a_review(server, page, tmp_path):
    try:
        page.goto(f"{server}/sentiment", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Sentiment", level=1)).to_be_visible(timeout=45_000)
        box = page.get_by_role("textbox", name="Text")
        box.fill("The waiter was rude and the soup was cold. What a disappointing evening.")
        box.press("Control+Enter")               # a text area sends its value on Ctrl+Enter or blur
        expect(page.locator("#verdict")).to_have_text("negative", timeout=30_000)
        expect(page.locator("#contributions")).to_contain_text("rude")
        box.fill("An absolute delight from start to finish, I loved every minute!")
        box.press("Control+Enter")
        expect(page.locator("#verdict")).to_have_text("positive", timeout=30_000)
        settle(page)
    finally:
        page.screenshot(path=str(tmp_path / "sentiment.png"), full_page=True)
