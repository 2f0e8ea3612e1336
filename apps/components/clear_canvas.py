"""A "Clear canvas" button that clears the drawing in the browser, at once.

Clearing by giving the canvas a new key waited on a round trip to the server: a stroke drawn in
the meantime went onto the old canvas and was thrown away with it (the canvas came back blank).
This button presses the canvas's own reset (streamlit-drawable-canvas's "Reset canvas & history"
in its hover toolbar), which blanks the drawing where it is and sends the blank drawing on, so a
stroke drawn straight after is kept. Should that button ever be missing (a new version of the
package), it falls back to the new key.
"""
import streamlit as st

_HTML = '<button type="button" class="clear">Clear canvas</button>'

_CSS = """
.clear { font-family: var(--st-font, sans-serif); font-size: 0.875rem;
         line-height: 1.6; color: var(--st-text-color, #31333f);
         background: var(--st-background-color, #fff);
         border: 1px solid var(--st-border-color, rgba(49, 51, 63, 0.2));
         border-radius: var(--st-button-radius, 0.5rem); padding: 0.25rem 0.75rem;
         min-height: 2.5rem; cursor: pointer; }
.clear:hover, .clear:focus-visible { border-color: var(--st-primary-color, #ff4b4b);
                                     color: var(--st-primary-color, #ff4b4b); outline: none; }
"""

# The canvas lives in an open shadow root; the one in this button's column is the one to clear.
_JS = """
export default function({ parentElement, setTriggerValue }) {
  const button = parentElement.querySelector("button.clear");
  button.onclick = () => {
    const host = parentElement.getRootNode().host ?? parentElement;
    const scope = host.closest("[data-testid='stColumn']") ?? document;
    for (const el of scope.querySelectorAll("[data-testid='stBidiComponentIsolated']")) {
      const reset = el.shadowRoot?.querySelector("button[aria-label='Reset canvas & history']");
      if (reset) { reset.click(); return; }
    }
    setTriggerValue("missed", true);
  };
}
"""

_button = st.components.v2.component("backprop_clear_canvas", html=_HTML, css=_CSS, js=_JS)


def clear_canvas_button(key: str) -> bool:
    """Shows the button; True when it found no canvas reset to press, so the caller starts a
    fresh canvas instead."""
    result = _button(key=key, on_missed_change=lambda: None, width="content", height="content")
    return bool(result.get("missed"))
