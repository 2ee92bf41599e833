/** Browser module `chart.js`: rows exported per run as an accessible inline SVG bar chart (no library). */
// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const CHART_JS = String.raw`
import { formatNumber, formatTime } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 720;
const H = 220;
const M = { left: 64, right: 12, top: 14, bottom: 40 };

function svg(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A round upper bound for the axis: 1, 2, 5 × 10^n. */
function niceMax(value) {
  if (value <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(value)));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= value);
}

/** The last 40 finished runs, oldest to newest; failed runs show as a red mark on the baseline. */
export function rowsChart(runs) {
  const data = runs.filter((r) => r.status === 'succeeded' || r.status === 'failed')
    .map((r) => ({ at: r.finishedAt || r.createdAt, rows: r.rows || 0, status: r.status }))
    .sort((a, b) => (a.at < b.at ? -1 : 1)).slice(-40);
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc', width: W, height: H });
  const total = data.reduce((a, d) => a + d.rows, 0);
  const max = niceMax(Math.max(0, ...data.map((d) => d.rows)));
  root.append(svg('title', { id: 'chart-title' }, 'Rows exported per run'),
    svg('desc', { id: 'chart-desc' }, data.length === 0 ? 'No finished runs yet.' :
      data.length + ' finished runs from ' + formatTime(data[0].at) + ' to ' + formatTime(data[data.length - 1].at) +
      '; ' + formatNumber(total) + ' rows in all; ' + data.filter((d) => d.status === 'failed').length + ' failed.'));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const y = (v) => M.top + plotH - (v / max) * plotH;
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      svg('text', { x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, formatNumber(v)));
  }
  if (data.length === 0) {
    root.append(svg('text', { x: M.left + plotW / 2, y: M.top + plotH / 2, 'text-anchor': 'middle' }, 'No finished runs yet'));
    return root;
  }
  const step = plotW / data.length;
  const width = Math.max(2, Math.min(28, step * 0.7));
  data.forEach((d, i) => {
    const x = M.left + i * step + (step - width) / 2;
    const failed = d.status === 'failed';
    const top = failed ? y(0) - 3 : y(d.rows);
    const bar = svg('rect', { x, y: top, width, height: Math.max(failed ? 3 : 1, y(0) - top), class: failed ? 'bar-failed' : 'bar-ok' });
    bar.append(svg('title', {}, formatTime(d.at) + ': ' + (failed ? 'failed' : formatNumber(d.rows) + ' rows')));
    root.append(bar);
  });
  const label = (i, anchor) => svg('text', { x: M.left + i * step + step / 2, y: H - M.bottom + 16, 'text-anchor': anchor }, formatTime(data[i].at).slice(0, 16));
  root.append(label(0, data.length === 1 ? 'middle' : 'start'));
  if (data.length > 1) root.append(label(data.length - 1, 'end'));
  root.append(svg('text', { x: M.left, y: H - 6 }, 'Blue: rows exported by a succeeded run · red: a failed run'));
  return root;
}
`;
