// sessionhub dashboard: fills the server-rendered pages with uPlot charts and live figures.
// Charts are uPlot's own (series, stepped and bar paths); this file only shapes the data.
"use strict";

(function () {
  const COLORS = {
    adobe: "#e53e3e", nagra: "#2b6cb0", icecast: "#d69e2e", genesys: "#38a169", nuance: "#805ad5",
  };
  const charts = {};

  function jsonOf(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function width(el) {
    return Math.max(280, el.clientWidth || el.parentElement.clientWidth || 600);
  }

  // Every time on every page is UTC (the tables say so): uPlot would draw the browser's zone.
  const utc = (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");

  // The index of the last point any series has a value at.
  function lastIndex(data) {
    for (let i = data[0].length - 1; i >= 0; i--) {
      if (data.slice(1).some((series) => series[i] !== null && series[i] !== undefined)) return i;
    }
    return data[0].length - 1;
  }

  // The legend shows the latest values whenever the pointer is not over the chart (uPlot's own
  // shows "--" then); the chart element says which index it shows, for people and tests.
  function showLatest(u) {
    if (u.cursor.idx !== null && u.cursor.idx !== undefined) return;
    const idx = lastIndex(u.data);
    if (idx < 0) return;
    u.setLegend({ idx: idx });
    u.root.parentElement.dataset.legendIdx = String(idx);
  }

  function plot(name, el, opts, data) {
    if (charts[name]) {
      charts[name].setData(data);
      showLatest(charts[name]);
      return;
    }
    const base = { width: width(el), height: 220, tzDate: utc, hooks: { setCursor: [showLatest] } };
    charts[name] = new uPlot(Object.assign(base, opts), data, el);
    showLatest(charts[name]);
  }

  // The width of the widest label in an axis font, as the browser draws it.
  const AXIS_FONT = "12px system-ui, -apple-system, sans-serif";
  function widestLabel(labels) {
    const context = document.createElement("canvas").getContext("2d");
    context.font = AXIS_FONT;
    return Math.max(...labels.map((label) => context.measureText(label).width));
  }

  // Whether an axis uPlot laid out has room for its widest label beside its ticks (10 px)
  // and gaps: recorded on the chart element, where the browser test reads it.
  function checkFit(el, axis, widest) {
    el.dataset.labelsFit = String(widest + 14 <= axis._size);
  }

  function seriesOf(names, colorOf, fill) {
    return [{}].concat(names.map((name) => ({
      label: name, stroke: colorOf(name), width: 2, fill: fill ? colorOf(name) + "22" : undefined,
    })));
  }

  function setFigure(selector, text) {
    document.querySelectorAll(selector).forEach((node) => { node.textContent = text; });
  }

  function showOverview(data) {
    let all = 0;
    for (const [api, count] of Object.entries(data.active)) {
      setFigure(`[data-active="${api}"]`, String(count));
      all += count;
    }
    setFigure('[data-active="all"]', String(all));
    const q = data.qoe;
    const fmt = {
      time_to_start_p50_ms: (v) => (v / 1000).toFixed(2) + " s",
      time_to_start_p95_ms: (v) => (v / 1000).toFixed(2) + " s",
      rebuffer_ratio: (v) => (v * 100).toFixed(2) + " %",
      exits_before_start_pct: (v) => v.toFixed(1) + " %",
      error_sessions_pct: (v) => v.toFixed(1) + " %",
      average_bitrate_bps: (v) => Math.round(v / 1000) + " kb/s",
    };
    for (const [key, show] of Object.entries(fmt)) {
      setFigure(`[data-qoe="${key}"]`, q[key] === null ? "-" : show(q[key]));
    }
    setFigure('[data-qoe="sessions"]', `(${q.sessions})`);
    const apis = Object.keys(data.concurrent);
    const x = data.minutes;
    const el = (name) => document.querySelector(`[data-chart="${name}"]`);
    plot("concurrent", el("concurrent"), { series: seriesOf(apis, (a) => COLORS[a], true) },
      [x].concat(apis.map((a) => data.concurrent[a])));
    plot("starts", el("starts"), { series: seriesOf(apis, (a) => COLORS[a], false) },
      [x].concat(apis.map((a) => data.starts[a])));
    const outcomes = Object.keys(data.admissions);
    const outcomeColor = (o) => (o === "granted" ? "#38a169" : o === "denied_limit" ? "#e53e3e" : "#d69e2e");
    plot("admissions", el("admissions"), { series: seriesOf(outcomes, outcomeColor, false) },
      [x].concat(outcomes.map((o) => data.admissions[o])));
    plot("playlogs", el("playlogs"), { series: seriesOf(["play logs"], () => "#2b6cb0", true) },
      [x, data.playlogs]);
    setFigure("#updated", "updated " + new Date(data.at).toISOString().slice(11, 19) + " UTC");
  }

  function show24h(el) {
    fetch(el.dataset.source, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => {
        if (!data) return;
        const apis = Object.keys(data.concurrent);
        plot("concurrent24", el, { series: seriesOf(apis, (a) => COLORS[a], true) },
          [data.minutes].concat(apis.map((a) => data.concurrent[a])));
      });
  }

  function overviewPage() {
    const first = jsonOf("overview-data");
    if (!first) return;
    showOverview(first);
    const day = document.querySelector('[data-chart="concurrent24"]');
    show24h(day);
    setInterval(() => show24h(day), 60000);
    const live = document.getElementById("updated").dataset.live;
    const source = new EventSource(live);
    source.addEventListener("overview", (event) => showOverview(JSON.parse(event.data)));
  }

  // A session's timeline: playhead against client time, state bands, bitrate changes.
  function timelinePage() {
    const events = jsonOf("timeline-data");
    const el = document.querySelector('[data-chart="timeline"]');
    if (!events || !el || events.length === 0) return;
    const t0 = events[0].ts;
    const x = events.map((e) => (e.ts - t0) / 1000);
    const playhead = events.map((e) => e.playhead);
    const opening = { bufferStart: "buffering", pauseStart: "paused", adStart: "ad" };
    const closing = {
      buffering: ["play", "pauseStart", "sessionEnd", "sessionComplete"],
      paused: ["play", "bufferStart", "sessionEnd", "sessionComplete"],
      ad: ["adComplete", "adSkip", "adBreakComplete", "sessionEnd", "sessionComplete"],
    };
    const bands = { buffering: [], paused: [], ad: [] };
    const open = { buffering: false, paused: false, ad: false };
    events.forEach((e) => {
      for (const state of Object.keys(open)) {
        if (open[state] && closing[state].includes(e.type)) open[state] = false;
      }
      if (opening[e.type]) open[opening[e.type]] = true;
      for (const state of Object.keys(open)) bands[state].push(open[state] ? 1 : 0);
    });
    const bitrate = events.map((e, i) => (e.type === "bitrateChange" ? playhead[i] : null));
    const band = (label, color) => ({
      label, scale: "band", stroke: color, fill: color, width: 0, paths: uPlot.paths.stepped({ align: 1 }),
    });
    plot("timeline", el, {
      height: 260,
      scales: { x: { time: false }, band: { range: [0, 1] } },
      axes: [{ label: "seconds since sessionStart" }, { label: "playhead" }, { show: false, scale: "band" }],
      series: [
        {},
        { label: "playhead", stroke: "#1d2330", width: 2 },
        band("buffering", "rgba(229,62,62,0.35)"),
        band("paused", "rgba(160,174,192,0.5)"),
        band("ad", "rgba(214,158,46,0.45)"),
        { label: "bitrate change", stroke: "#805ad5", width: 0, points: { show: true, size: 9, fill: "#805ad5" } },
      ],
    }, [x, playhead, bands.buffering, bands.paused, bands.ad, bitrate]);
  }

  // One person's sessions across every API on one time axis: a row per API.
  function visitorPage() {
    const spans = jsonOf("visitor-data");
    const el = document.querySelector('[data-chart="visitor"]');
    if (!spans || !el || spans.length === 0) return;
    const now = Date.now();
    const apis = Object.keys(COLORS);
    const times = Array.from(new Set(spans.flatMap((s) => [s.start, s.end || now]))).sort((a, b) => a - b);
    const rows = apis.map((api, index) => times.map((t) =>
      spans.some((s) => s.api === api && s.start <= t && t <= (s.end || now)) ? index + 1 : null));
    // uPlot's default 50 px axis clipped "nuance" to "uance": size it to the longest name
    const widest = widestLabel(apis);
    const lanes = { font: AXIS_FONT, size: Math.ceil(widest) + 24 };
    plot("visitor", el, {
      scales: { y: { range: [0, apis.length + 1] } },
      axes: [{}, Object.assign({ values: (u, ticks) => ticks.map((v) => apis[v - 1] || "") }, lanes)],
      series: [{}].concat(apis.map((api) => ({ label: api, stroke: COLORS[api], width: 8, spanGaps: false }))),
    }, [times.map((t) => t / 1000)].concat(rows));
    checkFit(el, charts.visitor.axes[1], widest);
  }

  // Plays by territory and by track as bars (uPlot's bar paths).
  function barChart(name) {
    const el = document.querySelector(`[data-chart="${name}"]`);
    const rows = el ? jsonOf(el.dataset.sourceId) : null;
    if (!rows || rows.length === 0) return;
    const labels = rows.map((r) => r[0]);
    plot(name, el, {
      scales: { x: { time: false, range: [-0.5, rows.length - 0.5] } },
      axes: [{ values: (u, ticks) => ticks.map((v) => labels[v] || ""), space: 30 }, {}],
      series: [{}, { label: "plays", fill: "#2b6cb0aa", stroke: "#2b6cb0", paths: uPlot.paths.bars({ size: [0.7] }) }],
    }, [rows.map((_, i) => i), rows.map((r) => r[1])]);
  }

  function playLogPage() {
    barChart("territories");
    barChart("tracks");
  }

  overviewPage();
  timelinePage();
  visitorPage();
  playLogPage();
})();
