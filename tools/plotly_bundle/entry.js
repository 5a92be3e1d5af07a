// The plotly.js the offline HTML report inlines: the core (scatter) plus the trace types that
// critac_metrics/charts/ draws. tests/test_report.py checks that every trace in a report is here.
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/funnel'),
]);
module.exports = Plotly;
