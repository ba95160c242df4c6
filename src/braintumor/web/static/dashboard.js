// The monitoring dashboard: polls /api/v1/stats (cumulative counters and histogram buckets, all workers)
// and turns differences between polls into rates, recent quantiles and inline SVG charts.
// No framework, no build step, nothing loaded from elsewhere.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const SPAN_S = 300;      // charts show the last 5 minutes
  const RATE_S = 10;       // headline rates: the last 10 seconds
  const WINDOW_S = 60;     // headline quantiles, mean confidence, OOD rate: the last minute
  const W = 300, H = 80;   // chart coordinates (the SVG scales to its box)
  const history = [];      // [{t, s}] newest last
  let span = 30;           // seconds the charts show now: grows with the history, up to SPAN_S

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { const el = byId(id); if (el) el.textContent = text; }
  // Formatting, Prometheus quantiles and chart tops: dashboard-numbers.js (loaded first).
  const numbers = window.braintumorDashboardNumbers;
  const num = numbers.num, pct = numbers.pct, rate = numbers.rate, conf = numbers.conf, secs = numbers.secs;
  const quantile = numbers.quantile, bucketDiff = numbers.bucketDiff, niceMax = numbers.niceMax;
  const fetchJson = window.braintumorFetchJson;  // a JSON answer, or an error after `wait` ms (dashboard-fetch.js)
  const model = window.braintumorDashboardModel;  // the model card and the classes' names (dashboard-model.js)

  // The oldest snapshot at most `age` seconds older than history[i] (history[i - 1] at least).
  function before(i, age) {
    let j = i;
    while (j > 0 && history[i].t - history[j - 1].t <= age) j--;
    return j === i ? (i > 0 ? i - 1 : null) : j;
  }

  // Everything one point of the charts needs, between snapshot j (older) and i.
  function windowed(i, age) {
    const j = before(i, age);
    if (j === null) return null;
    const a = history[j].s, b = history[i].s, dt = history[i].t - history[j].t;
    if (dt <= 0) return null;
    const conf = b.confidence.count - a.confidence.count;
    const images = b.ood.images - a.ood.images;
    const lat = bucketDiff(b.latency_seconds.predict.buckets, a.latency_seconds.predict.buckets);
    return {
      rps: (b.requests.total - a.requests.total) / dt,
      ips: images / dt,
      p50: quantile(0.5, lat),
      p95: quantile(0.95, lat),
      conf: conf > 0 ? (b.confidence.sum - a.confidence.sum) / conf : null,
      ood: images > 0 ? (b.ood.refusals - a.ood.refusals) / images : null,
      review: conf > 0 ? (b.review.flagged - a.review.flagged) / conf : null,
    };
  }

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function reset(svg) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("preserveAspectRatio", "none");
    el("line", { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, class: "axis" }, svg);
    return svg;
  }

  function x(t, now) { return W - (now - t) / span * W; }

  // Lines: series = [{cls, points: [[t, value|null], ...]}]; the y axis runs from `lo` to `hi`.
  function lines(id, series, lo, hi) {
    const svg = reset(byId(id));
    const now = history[history.length - 1].t;
    series.forEach(function (s) {
      let run = [];
      const flush = function () {
        if (run.length === 1) el("circle", { cx: run[0][0], cy: run[0][1], r: 1.5, class: "dot " + s.cls }, svg);
        else if (run.length) el("polyline", { points: run.join(" "), class: "line " + s.cls,
                                              "vector-effect": "non-scaling-stroke" }, svg);
        run = [];
      };
      s.points.forEach(function (p) {
        if (p[1] === null || !isFinite(p[1])) { flush(); return; }
        const v = Math.min(Math.max(p[1], lo), hi);
        run.push([x(p[0], now).toFixed(1), (H - 2 - (v - lo) / (hi - lo) * (H - 4)).toFixed(1)]);
      });
      flush();
    });
  }

  function drawClasses(classes) {
    const svg = reset(byId("chart-classes"));
    const now = history[history.length - 1].t;
    const cols = [];
    for (let i = 1; i < history.length; i++) {
      const a = history[i - 1].s.predictions.by_class, b = history[i].s.predictions.by_class;
      const counts = classes.map(function (c) { return (b[c] || 0) - (a[c] || 0); });
      cols.push({ t0: history[i - 1].t, t1: history[i].t, counts: counts });
    }
    const top = niceMax(Math.max(0, ...cols.map(function (c) { return c.counts.reduce((s, n) => s + n, 0); })));
    cols.forEach(function (col) {
      const x0 = Math.max(0, x(col.t0, now)), x1 = x(col.t1, now);
      let y = H;
      col.counts.forEach(function (n, k) {
        if (n <= 0) return;
        const h = n / top * (H - 2);
        // a class above another leaves a unit of background below it: two class colours touching stood under 3:1
        // against each other (WCAG 1.4.11), each stands 3:1 against the background (dashboard.css)
        const gap = y < H ? 1 : 0;
        y -= h;
        el("rect", { x: x0.toFixed(1), y: y.toFixed(1), width: Math.max(0.5, x1 - x0 - 0.5).toFixed(1),
                     height: Math.max(0.5, h - gap).toFixed(1), class: "series-" + (k % 6) }, svg);
      });
    });
    setText("max-classes", "top: " + num(top));
  }

  function drawHistogram(buckets) {
    const svg = reset(byId("chart-confidence-hist"));
    const finite = buckets.filter(function (b) { return b[0] !== "+Inf"; });
    const counts = finite.map(function (b, i) { return b[1] - (i ? finite[i - 1][1] : 0); });
    const top = Math.max(1, ...counts);
    const lo = 0.25;
    finite.forEach(function (b, i) {
      const from = i ? finite[i - 1][0] : lo, to = b[0];
      const x0 = (from - lo) / (1 - lo) * W, x1 = (to - lo) / (1 - lo) * W;
      const h = counts[i] / top * (H - 2);
      el("rect", { x: x0.toFixed(1), y: (H - h).toFixed(1), width: Math.max(0.5, x1 - x0 - 1).toFixed(1),
                   height: h.toFixed(1), class: "series-0" }, svg);
    });
  }

  function drawMix(stats) {
    const list = byId("class-mix");
    const by = stats.predictions.by_class, total = stats.predictions.total;
    const classes = Object.keys(by);
    // built again for other classes, not only for another number of them (a restart with another model)
    if (Array.from(list.children, function (li) { return li.dataset.class; }).join("\n") !== classes.join("\n")) {
      list.textContent = "";
      classes.forEach(function (c, k) {
        const li = document.createElement("li");
        li.dataset.class = c;
        li.innerHTML = '<span class="key series-' + (k % 6) + '"></span><span class="mix-name"></span>' +
          '<meter min="0" max="1" value="0"></meter><span class="mix-value"></span>';
        li.querySelector(".mix-name").textContent = model.name(c);
        li.querySelector("meter").setAttribute("aria-label", model.name(c));
        list.appendChild(li);
      });
    }
    classes.forEach(function (c) {
      const li = list.querySelector('[data-class="' + CSS.escape(c) + '"]');
      const share = total ? by[c] / total : 0;
      li.querySelector("meter").value = share;
      li.querySelector(".mix-value").textContent = num(by[c]) + " · " + pct(total ? share : null);
      // what a screen reader says of the meter (it said the raw 0.3333333432674408), as the result cards' bars
      li.querySelector("meter").setAttribute("aria-valuetext", num(by[c]) + (by[c] === 1 ? " image" : " images") +
        (total ? ", " + pct(share) : ""));
    });
    return classes;
  }

  // How each kind is counted (docs/DEPLOY.md's metric table): an unreadable file, or one the model failed on, one by
  // one, a timeout per worker killed, the rest per request. An upload refused for its unreadable files (400) is in two
  // rows, which the table did not say: it looked counted twice.
  const ERROR_UNITS = {invalid_image: "per file", model_failure: "per file", timeout: "per worker killed"};

  function drawErrors(errors) {
    const body = byId("errors");
    const kinds = Object.keys(errors).sort();
    body.textContent = "";
    if (!kinds.length) {
      body.innerHTML = '<tr><td colspan="2" class="muted">none</td></tr>';
      return;
    }
    kinds.forEach(function (k) {
      const tr = document.createElement("tr");
      const name = document.createElement("th"), value = document.createElement("td");
      name.scope = "row";  // a screen reader says the kind with its count
      name.textContent = k.replace(/_/g, " ") + " (" + (ERROR_UNITS[k] || "per request") + ")";
      value.textContent = num(errors[k]);
      tr.append(name, value);
      body.appendChild(tr);
    });
  }

  function render() {
    const last = history.length - 1, s = history[last].s;
    span = Math.min(SPAN_S, Math.max(30, history[last].t - history[0].t));
    setText("stat-requests", num(s.requests.total));
    setText("stat-images", num(s.ood.images));
    const recent = windowed(last, RATE_S), minute = windowed(last, WINDOW_S);
    setText("stat-rps", recent ? rate(recent.rps) : "–");
    setText("stat-ips", recent ? rate(recent.ips) : "–");
    // rates are differences between this page's polls: before they span 10 s, a 0 was "none in the last 10 s"
    const seen = history[last].t - history[0].t;
    setText("rate-window", !recent ? "rates from the next update" : seen >= RATE_S ? "last 10 s for the rates"
      : "rates over the " + (seen < 1 ? seen.toFixed(1) : Math.round(seen)) + " s this page has watched");
    const lat = s.latency_seconds.predict;
    const useRecent = minute && minute.p50 !== null;
    setText("stat-p50", secs(useRecent ? minute.p50 : lat.p50));
    setText("stat-p95", secs(useRecent ? minute.p95 : lat.p95));
    // its recent figures are differences between its own polls: opened seconds after a batch, it has seen no minute
    setText("latency-window", useRecent ? "from the histogram buckets of the last minute" : !lat.count
      ? "no prediction yet" : "since the server started (" + (seen < WINDOW_S ? "none since this page opened, " +
        Math.round(seen) + " s ago)" : "no prediction in the last minute)"));
    setText("stat-confidence", minute && minute.conf !== null ? conf(minute.conf) : "–");
    setText("stat-confidence-all", s.confidence.mean === null ? "–" : conf(s.confidence.mean));
    setText("stat-ood", minute ? pct(minute.ood) : "–");
    setText("stat-ood-all", pct(s.ood.rate));
    setText("stat-ood-count", num(s.ood.refusals));
    // of those refused, the turned slices (a quarter, or upside down): a brain MRI to turn upright and resend
    // (counted apart, not "unlike")
    setText("stat-ood-turned", num(s.ood.turned || 0));
    setText("stat-review", minute && minute.review !== null ? pct(minute.review) : "–");
    setText("stat-review-all", pct(s.review.rate));
    setText("stat-review-count", num(s.review.flagged));

    const pts = history.map(function (h, i) { return { t: h.t, w: i ? windowed(i, 0) : null, m: windowed(i, WINDOW_S) }; });
    const series = function (key, src) { return pts.map(function (p) { return [p.t, p[src] ? p[src][key] : null]; }); };
    const thr = series("rps", "w"), img = series("ips", "w");
    const topT = niceMax(Math.max(0, ...thr.concat(img).map(function (p) { return p[1] || 0; })));
    lines("chart-throughput", [{ cls: "line-a", points: thr }, { cls: "line-b", points: img }], 0, topT);
    setText("max-throughput", "top: " + topT + "/s");
    const p50 = series("p50", "m"), p95 = series("p95", "m");
    const topL = niceMax(Math.max(0, ...p95.map(function (p) { return p[1] || 0; })));
    lines("chart-latency", [{ cls: "line-a", points: p50 }, { cls: "line-b", points: p95 }], 0, topL);
    setText("max-latency", "top: " + secs(topL));
    lines("chart-confidence", [{ cls: "line-a", points: series("conf", "m") }], 0.25, 1);
    const ood = series("ood", "m"), review = series("review", "m");
    const topO = Math.min(1, niceMax(Math.max(0.01, ...ood.concat(review).map(function (p) { return p[1] || 0; }))));
    lines("chart-ood", [{ cls: "line-b", points: ood }, { cls: "line-a", points: review }], 0, topO);
    setText("max-ood", "top: " + pct(topO));
    drawClasses(drawMix(s));
    drawHistogram(s.confidence.buckets);
    drawErrors(s.errors);
  }

  async function poll(root, status, wait) {
    try {
      const stats = await fetchJson(root.dataset.stats, wait);
      // Another run (or a count that went down): the server restarted, its counters from zero. Differences across
      // that are negative rates and nonsense quantiles, so start afresh (as Prometheus's rate() treats a reset).
      // The count alone missed a restart that sent more requests than before between two polls.
      const prev = history[history.length - 1];
      if (prev && (stats.run !== prev.s.run || stats.requests.total < prev.s.requests.total)) history.length = 0;
      history.push({ t: stats.time, s: stats });
      while (history.length > 1 && history[history.length - 1].t - history[0].t > SPAN_S + WINDOW_S) history.shift();
    // Points older than the chart still serve the one-minute windows of the oldest points shown.
      render();
      // the live region changes only when the state does; the time of the update is beside it, not in it
      const live = "Live · " + stats.workers + (stats.workers === 1 ? " worker process" : " worker processes");
      if (status.textContent !== live) status.textContent = live;
      status.parentElement.classList.remove("is-error");
      byId("dash-updated").textContent = "· updated " + new Date(stats.time * 1000).toLocaleTimeString("en-GB");
      model.follow(root.dataset.model, wait, stats.model);  // after the numbers, not awaited (dashboard-model.js)
    } catch (err) {
      const text = "Could not read the metrics (" + err.message + "); retrying.";
      if (status.textContent !== text) status.textContent = text;
      status.parentElement.classList.add("is-error");
      byId("dash-updated").textContent = "";
    }
  }

  async function start() {
    const root = byId("dashboard");
    if (!root) return;
    const status = byId("dash-status");
    const every = Math.max(250, Number(root.dataset.intervalMs) || 2000);
    const tick = async function () {
      await poll(root, status, 5 * every);
      setTimeout(tick, every);
    };
    tick();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
