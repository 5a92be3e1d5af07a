"""The sidebar's "link to this view": the URL in a read-only box with a Copy button.

Not ``st.code``, whose copy icon came with Streamlit's syntax highlighter: a 1.5 MB script that
every new browser session fetched and compiled before the page was drawn, for one line of text.
"""

from __future__ import annotations

import html

LABEL = "Link to this view"
COPIED = "Copied"

# One listener for every page and rerun (the sidebar is drawn again on each run). The clipboard
# API needs a secure context (https or localhost); elsewhere the box's text is selected and copied
# with execCommand, which browsers still honour for a user's click.
_SCRIPT = """<script>
(() => {
  if (window.__critacShareLink) return;
  window.__critacShareLink = true;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-critac-copy]");
    if (!button) return;
    const box = button.parentElement.querySelector("input");
    const done = () => {
      button.textContent = "COPIED";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    };
    const fallback = () => { box.select(); if (document.execCommand("copy")) done(); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(box.value).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
</script>""".replace("COPIED", COPIED)

_CSS = """<style>
.critac-share { display: flex; gap: 0.4rem; align-items: center; }
.critac-share input {
  flex: 1; min-width: 0; font: 0.8rem ui-monospace, SFMono-Regular, Menlo, monospace;
  padding: 0.35rem 0.5rem; color: inherit; background: transparent;
  border: 1px solid color-mix(in srgb, currentColor 35%, transparent); border-radius: 0.4rem;
}
.critac-share button {
  font: inherit; font-size: 0.85rem; padding: 0.3rem 0.7rem; color: inherit; cursor: pointer;
  background: transparent; border: 1px solid color-mix(in srgb, currentColor 35%, transparent); border-radius: 0.4rem;
}
.critac-share button:hover, .critac-share button:focus-visible { border-color: currentColor; }
</style>"""


def share_link_html(url: str) -> str:
    """The box and its button; ``url`` is escaped (its query string comes from the address bar)."""
    value = html.escape(url, quote=True)
    return (
        f"{_CSS}{_SCRIPT}"
        f'<div class="critac-share">'
        f'<input type="text" readonly value="{value}" aria-label="{LABEL}" '
        f'onfocus="this.select()">'
        f'<button type="button" data-critac-copy aria-label="Copy the link to this view">'
        f"Copy</button></div>"
    )
