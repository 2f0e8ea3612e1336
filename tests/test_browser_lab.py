"""End-to-end in Chromium: open a Backprop Lab claim from a shared link and read its answer.
The fixtures (a live streamlit server, Debian's Chromium via Playwright) live in conftest.py."""
from urllib.parse import urlencode

import pytest

from conftest import browser_or_skip, settle

expect = browser_or_skip().expect

pytestmark = pytest.mark.browser


def test_cost_of_the_gradient_from_a_link(server, page, tmp_path):
    query = urlencode({"section": "Claims put to the test", "claim": "Cost of the gradient",
                       "cost_max": 30000, "cost_k": 10, "ckpt_batch": 32, "ckpt_depth": 4})
    try:
        page.goto(f"{server}/lab?{query}", wait_until="domcontentloaded")
        expect(page.get_by_role("heading", name="Backprop Lab", level=1)).to_be_visible(timeout=45_000)
        answer = page.locator("[data-testid='stMetric']").filter(
            has_text="finite differences ÷ backprop at 29,922 weights")
        expect(answer).to_be_visible(timeout=90_000)
        value = answer.locator("[data-testid='stMetricValue']").inner_text().strip()
        assert value.endswith("×") and float(value.rstrip("×").replace(",", "")) > 10, value
        expect(page.locator("[data-testid='stMetric']").filter(has_text="checkpointing keeps")).to_be_visible(
            timeout=60_000)
        expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(3, timeout=30_000)
        settle(page)
    finally:
        page.screenshot(path=str(tmp_path / "lab_cost.png"), full_page=True)
