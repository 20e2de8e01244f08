"""The operator's dashboard at ``/admin``: server-rendered pages with a little JavaScript, charts
by uPlot (vendored from npm, see ``static/vendor``), live figures over server-sent events."""
