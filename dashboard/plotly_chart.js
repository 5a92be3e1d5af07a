// The dashboard's chart (dashboard/plotly_chart.py): one div per chart, kept across reruns, so a
// new figure is drawn with Plotly.react (only what changed) instead of a new chart each time.
// This module and plotly.js (the trimmed bundle of the HTML report) are loaded once per page, from
// the app's own routes; the component's inline loader calls draw() on every run.

const STYLE = `
.critac-chart { width: 100%; }
.critac-clickable.js-plotly-plot .plotly .nsewdrag { cursor: pointer; }
:fullscreen:has(> .critac-chart), .critac-expanded { background: var(--st-background-color, white); }
.critac-expanded { position: fixed; inset: 0; z-index: 1000100; padding: 1rem; overflow: auto; }
`;

const FULLSCREEN_ICON = {
  width: 24,
  height: 24,
  path: "M3 3h7v2H5v5H3V3zm11 0h7v7h-2V5h-5V3zM3 14h2v5h5v2H3v-7zm16 0h2v7h-7v-2h5v-5z",
};

function plotly(src) {
  window.__critacPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    const failed = () => {
      window.__critacPlotly = undefined; // the next draw tries again
      script.remove();
      reject(new Error(`could not load ${src}`));
    };
    script.src = src;
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : failed());
    script.onerror = failed;
    document.head.appendChild(script);
  });
  return window.__critacPlotly;
}

// -- full screen: the browser's, or where there is none (iPhone, an embed without allow=
// "fullscreen") the chart laid over the page; either way it takes the screen's height.

function isFull(gd) {
  const box = gd.parentElement;
  return document.fullscreenElement === box || box.classList.contains("critac-expanded");
}

function screenHeight(gd) {
  const box = gd.parentElement;
  const style = getComputedStyle(box);
  return box.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
}

function fit(gd) {
  const height = isFull(gd) ? screenHeight(gd) : (gd.__critacHeight ?? gd.__critacNormal);
  window.Plotly.relayout(gd, { height: height ?? null }).catch(() => undefined);
}

function expand(gd, on) {
  gd.parentElement.classList.toggle("critac-expanded", on);
  if (on) document.addEventListener("keydown", gd.__critacEscape);
  else document.removeEventListener("keydown", gd.__critacEscape);
  fit(gd);
}

function fullscreen(gd) {
  const box = gd.parentElement;
  if (document.fullscreenElement === box) return void document.exitFullscreen();
  if (box.classList.contains("critac-expanded")) return expand(gd, false);
  gd.__critacNormal = gd._fullLayout.height; // a chart sized by plotly gets it back on leaving
  const asked = box.requestFullscreen?.();
  if (!asked) return expand(gd, true);
  asked.catch(() => expand(gd, true));
}

function followFullscreen(gd) {
  gd.__critacEscape = (event) => {
    if (event.key === "Escape") expand(gd, false);
  };
  gd.parentElement.addEventListener("fullscreenchange", () => fit(gd));
}

// -- the chart's div

function chartDiv(parent) {
  let gd = parent.querySelector(":scope > .critac-chart");
  if (gd) return gd;
  gd = document.createElement("div");
  gd.className = "critac-chart";
  // A figure, not an image: an image's content is hidden from assistive technology, and the
  // modebar's buttons inside it must stay reachable.
  gd.setAttribute("role", "figure");
  parent.appendChild(gd);
  // Plotly follows the window's width by itself; this follows the column's (the sidebar opened
  // or closed, full screen entered or left).
  gd.__critacResize = new ResizeObserver(() => {
    // Not while hidden (a page being left, a collapsed expander): Plotly refuses to size those.
    if (gd._fullLayout && gd.offsetParent !== null && gd.offsetWidth > 0) {
      window.Plotly.Plots.resize(gd).catch(() => undefined);
    }
  });
  gd.__critacResize.observe(gd);
  followFullscreen(gd);
  return gd;
}

// Streamlit calls the newest draw's cleanup when the chart leaves the page, and a superseded
// draw's at once: only a chart that is no longer in the document is let go (and a draw still
// waiting for plotly.js then never starts).
function cleanup(gd) {
  return () => {
    if (gd.isConnected) return;
    gd.__critacGone = true;
    gd.__critacResize.disconnect();
    document.removeEventListener("keydown", gd.__critacEscape);
    window.Plotly?.purge(gd);
  };
}

function showError(parent, message) {
  let note = parent.querySelector(":scope > .critac-chart-error");
  if (!note && message) {
    note = document.createElement("p");
    note.className = "critac-chart-error";
    parent.appendChild(note);
  }
  if (note && message) note.textContent = message;
  else note?.remove();
}

// Each clicked element's customdata as a plain list (a typed array's row, or one value, too).
function points(event) {
  return event.points
    .map((point) => point.customdata)
    .filter((value) => value !== undefined && value !== null)
    .map((value) => (ArrayBuffer.isView(value) ? Array.from(value) : [].concat(value)));
}

function listenForClicks(gd) {
  if (gd.__critacClicks) return;
  gd.__critacClicks = true;
  gd.on("plotly_click", (event) => {
    const values = points(event);
    if (values.length && gd.classList.contains("critac-clickable")) {
      gd.__critacSend("click", values[0]);
    }
  });
}

function same(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function redraw(Plotly, gd, bytes, data) {
  if (gd.__critacGone || same(gd.__critacDrawn, bytes)) return undefined;
  gd.__critacDrawn = bytes;
  const figure = data.figure;
  gd.__critacHeight = figure.layout.height;
  const layout = isFull(gd) ? { ...figure.layout, height: screenHeight(gd) } : figure.layout;
  const config = {
    ...data.config,
    responsive: true,
    modeBarButtonsToAdd: [
      { name: "fullscreen", title: "View fullscreen", icon: FULLSCREEN_ICON, click: fullscreen },
    ],
  };
  return Plotly.react(gd, figure.data, layout, config).then(() => {
    if (data.clickable) listenForClicks(gd);
  });
}

function addStyle() {
  if (document.getElementById("critac-chart-style")) return;
  const style = document.createElement("style");
  style.id = "critac-chart-style";
  style.textContent = STYLE;
  document.head.appendChild(style);
}

// One run's chart: ``data`` is plotly_chart.payload, parsed ({figure, alt, config, clickable,
// module, src}); the component's own data is its bytes, which say whether anything changed.
export function draw({ data: bytes, parentElement, setTriggerValue }, data) {
  addStyle();
  const gd = chartDiv(parentElement);
  gd.__critacSend = setTriggerValue; // the newest run's: a click reaches the running session
  gd.setAttribute("aria-label", data.alt);
  gd.classList.toggle("critac-clickable", data.clickable);
  plotly(data.src)
    .then((Plotly) => redraw(Plotly, gd, bytes, data))
    .then(() => showError(parentElement, null))
    .catch((error) => {
      gd.__critacDrawn = undefined; // the next run draws again
      showError(parentElement, `This chart could not be drawn (${error.message}). Reload the page.`);
    });
  return cleanup(gd);
}
