// The dashboard's numbers (dashboard.js draws them): how each is written, Prometheus's quantiles over histogram
// buckets, and a chart's round top. Pure functions, loaded before dashboard.js, which takes them from
// window.braintumorDashboardNumbers; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorDashboardNumbers = (function () {
  function num(n) { return Math.round(n).toLocaleString("en"); }
  function pct(x) { return x === null || x === undefined || !isFinite(x) ? "–" : (100 * x).toFixed(1) + "%"; }
  function rate(x) { return x === null || !isFinite(x) ? "–" : x < 10 ? x.toFixed(2) : x.toFixed(1); }
  // A mean confidence to 0.001, truncated: 0.99986 is "0.999", never a "1.000" surer than any answer was.
  function conf(x) { return (Math.floor(1000 * x + 1e-9) / 1000).toFixed(3); }
  function secs(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    return s < 1 ? (1000 * s).toFixed(s < 0.01 ? 1 : 0) + " ms" : s.toFixed(2) + " s";
  }

  // Prometheus's histogram_quantile over cumulative [[le, count], ...] (le "+Inf" last).
  function quantile(q, buckets) {
    if (!buckets.length) return null;
    const total = buckets[buckets.length - 1][1];
    if (total <= 0) return null;
    const rank = q * total;
    let lower = 0, below = 0;
    for (const [le, count] of buckets) {
      const upper = le === "+Inf" ? Infinity : le;
      if (count >= rank && count > below) {
        if (upper === Infinity) return lower;
        return lower + (upper - lower) * (rank - below) / (count - below);
      }
      lower = upper; below = count;
    }
    return lower;
  }

  function bucketDiff(now, then) {
    return now.map(function (b, i) { return [b[0], b[1] - (then && then[i] ? then[i][1] : 0)]; });
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  return { num: num, pct: pct, rate: rate, conf: conf, secs: secs, quantile: quantile, bucketDiff: bucketDiff,
           niceMax: niceMax };
})();
