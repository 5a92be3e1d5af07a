// The dashboard's chart (dashboard/plotly_chart.py): one div per chart, kept across reruns, so a
// new figure is drawn with Plotly.react (only what changed) instead of a new chart each time.
// plotly.js (the trimmed bundle of the HTML report) is loaded once per page, from the app's own
// route, the first time a chart needs it.

const FULLSCREEN_ICON = {
  width: 24,
  height: 24,
  path: "M3 3h7v2H5v5H3V3zm11 0h7v7h-2V5h-5V3zM3 14h2v5h5v2H3v-7zm16 0h2v7h-7v-2h5v-5z",
};

function plotly(src) {
  window.__critacPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => {
      window.__critacPlotly = undefined; // the next draw tries again
      reject(new Error(`could not load ${src}`));
    };
    document.head.appendChild(script);
  });
  return window.__critacPlotly;
}

function fullscreen(gd) {
  if (document.fullscreenElement) document.exitFullscreen();
  else gd.parentElement.requestFullscreen?.();
}

// Full screen, the chart takes the screen's height; back, the figure's own.
function followFullscreen(gd) {
  gd.parentElement.addEventListener("fullscreenchange", () => {
    const full = document.fullscreenElement === gd.parentElement;
    const height = full ? gd.parentElement.clientHeight : gd.__critacHeight;
    window.Plotly.relayout(gd, { height: height ?? null }).catch(() => undefined);
  });
}

function chartDiv(parent) {
  let gd = parent.querySelector(":scope > .critac-chart");
  if (gd) return gd;
  gd = document.createElement("div");
  gd.className = "critac-chart";
  gd.setAttribute("role", "img");
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
// draw's at once: only a chart that is no longer in the document is let go.
function cleanup(gd) {
  return () => {
    if (gd.isConnected) return;
    gd.__critacResize.disconnect();
    window.Plotly?.purge(gd);
  };
}

// Each clicked element's customdata as a plain list (a typed array's row, or one value, too).
function points(event) {
  return event.points
    .map((point) => point.customdata)
    .filter((value) => value !== undefined && value !== null)
    .map((value) => (ArrayBuffer.isView(value) ? Array.from(value) : [].concat(value)));
}

export default function ({ data, parentElement, setTriggerValue }) {
  const gd = chartDiv(parentElement);
  gd.__critacSend = setTriggerValue; // the newest run's: a click reaches the running session
  gd.setAttribute("aria-label", data.alt);
  gd.classList.toggle("critac-clickable", data.clickable);
  plotly(data.src)
    .then((Plotly) => {
      if (gd.__critacDrawn === data.figure) return undefined;
      gd.__critacDrawn = data.figure;
      const figure = JSON.parse(data.figure);
      gd.__critacHeight = figure.layout.height;
      const config = {
        ...data.config,
        responsive: true,
        modeBarButtonsToAdd: [
          { name: "fullscreen", title: "View fullscreen", icon: FULLSCREEN_ICON, click: fullscreen },
        ],
      };
      return Plotly.react(gd, figure.data, figure.layout, config).then(() => {
        if (data.clickable && !gd.__critacClicks) {
          gd.__critacClicks = true;
          gd.on("plotly_click", (event) => {
            const values = points(event);
            if (values.length && gd.classList.contains("critac-clickable")) {
              gd.__critacSend("click", values[0]);
            }
          });
        }
      });
    })
    .catch((error) => {
      gd.textContent = `This chart could not be drawn (${error.message}). Reload the page.`;
    });
  return cleanup(gd);
}
