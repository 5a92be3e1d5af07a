#!/usr/bin/env bash
# Rebuild critac_metrics/assets/plotly-report.min.js from npm (needs node and npm; run it after
# upgrading plotly in requirements.txt: the version must equal plotly.py's bundled plotly.js).
set -euo pipefail
cd "$(dirname "$0")"
version="${1:-$(python3 -c 'import plotly.offline as o; print(o.get_plotlyjs_version())')}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp entry.js "$work/"
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent \
    "plotly.js@$version" esbuild@0.28.2 >/dev/null)
banner="/* plotly.js v$version (core, bar, heatmap, funnel) | Copyright 2012-2026, Plotly, Inc. | MIT license | built by tools/plotly_bundle/build.sh */"
# The same settings as plotly.js's own esbuild-config.js; map styles (CSS) are left out: no map.
(cd "$work" && node_modules/.bin/esbuild entry.js --bundle --minify --format=iife \
    --global-name=Plotly --target=es2016 --define:global=window --define:define.amd=false \
    --define:process.env.NODE_DEBUG=false --loader:.css=empty --legal-comments=none \
    --log-level=error "--banner:js=$banner" --outfile=plotly.min.js)
cp "$work/plotly.min.js" ../../critac_metrics/assets/plotly-report.min.js
