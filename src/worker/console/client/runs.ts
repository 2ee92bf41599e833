/** Browser module `runs.js`: run history with a rows-over-time chart (inline SVG), and a run's files and manifest. */
export const RUNS_JS = String.raw`
import { api, listAll } from './api.js';
import { fill, formatBytes, formatDuration, formatNumber, formatTime, h, heading, skippedTotal, status } from './ui.js';
import { rowsChart } from './chart.js';

const POLL_MS = 1500;
const FINAL = new Set(['succeeded', 'failed']);

/** Renders the history (optionally of one dataflow) or one run; returns a cleanup that stops polling. */
export async function render(main, id, params) {
  return id ? detail(main, id) : history(main, params.get('dataflow') || '');
}

async function history(main, dataflowId) {
  // Dataflow names need "dataflows:read"; a token with "runs:read" alone sees their ids instead.
  const flows = await listAll('/dataflows').catch((error) => {
    if (error.status === 403) return [];
    throw error;
  });
  const names = Object.fromEntries(flows.map((f) => [f.id, f.name]));
  // Audience names need "audiences:read": without it, runs show audience ids.
  const audiences = await listAll('/audiences').catch((error) => {
    if (error.status === 403) return [];
    throw error;
  });
  const audienceNames = Object.fromEntries(audiences.map((a) => [a.id, a.name]));
  const filter = h('select', { id: 'runs-filter', onchange: () => { location.hash = '#/runs' + (filter.value ? '?dataflow=' + filter.value : ''); } },
    h('option', { value: '' }, 'All dataflows'), flows.map((f) => h('option', { value: f.id, selected: f.id === dataflowId }, f.name)));
  const chartBox = h('div', {});
  const tableBox = h('div', {});
  fill(main, heading('Runs'), h('div', { class: 'field' }, h('label', { for: 'runs-filter' }, 'Dataflow'), filter), chartBox, tableBox);
  let timer;
  const refresh = async () => {
    const runs = await listAll('/runs' + (dataflowId ? '?dataflowId=' + encodeURIComponent(dataflowId) : ''), 2);
    fill(chartBox, h('h2', { id: 'chart-heading' }, 'Rows exported over time'), rowsChart(runs));
    fill(tableBox, h('h2', {}, 'History'), runsTable(runs, names, audienceNames));
    if (runs.some((r) => !FINAL.has(r.status))) timer = setTimeout(refresh, POLL_MS);
  };
  await refresh();
  return () => clearTimeout(timer);
}

/** Which audiences a run exported: those of its slot (a per-audience schedule), else all of its dataflow's. */
function runAudiences(run, audienceNames) {
  return run.audienceIds ? run.audienceIds.map((id) => audienceNames[id] || id).join(', ') : 'All';
}

function runsTable(runs, names, audienceNames) {
  if (runs.length === 0) return h('p', {}, 'No runs yet: use "Export now" on a dataflow, or wait for its schedule.');
  const heads = [['Created', ''], ['Dataflow', ''], ['Trigger', ''], ['Status', ''], ['Rows', 'num'], ['Skipped', 'num'], ['Bytes', 'num'], ['Duration', 'num'], ['Scheduled', ''], ['Audiences', '']];
  return h('table', {}, h('caption', { class: 'sr-only' }, 'Run history, newest first'),
    h('thead', {}, h('tr', {}, heads.map(([t, c]) => h('th', { scope: 'col', class: c }, t)))),
    h('tbody', {}, runs.map((r) => h('tr', {},
      h('td', {}, h('a', { href: '#/runs/' + r.id }, formatTime(r.createdAt))),
      h('td', {}, names[r.dataflowId] || r.dataflowId), h('td', {}, r.trigger),
      h('td', {}, badge(r.status)), h('td', { class: 'num' }, formatNumber(r.rows)),
      h('td', { class: 'num', title: reasons(r.skipped) }, formatNumber(skippedTotal(r.skipped))),
      h('td', { class: 'num' }, formatBytes(r.bytes)), h('td', { class: 'num' }, formatDuration(r.durationMs)),
      h('td', {}, formatTime(r.scheduledTime)), h('td', {}, runAudiences(r, audienceNames))))));
}

function badge(s) {
  return h('span', { class: 'badge ' + s }, s);
}

function reasons(skipped) {
  return skipped ? Object.entries(skipped).map(([k, n]) => k + ': ' + n).join(', ') : undefined;
}

async function detail(main, id) {
  let timer;
  let last;
  const refresh = async () => {
    const run = await api('GET', '/runs/' + encodeURIComponent(id));
    if (run.status !== last) {
      last = run.status;
      status('Run ' + run.status + (FINAL.has(run.status) && run.rows !== undefined ? ': ' + formatNumber(run.rows) + ' rows in ' + dataFiles(run).length + ' file(s)' : ''),
        run.status === 'failed' ? 'error' : run.status === 'succeeded' ? 'ok' : undefined);
    }
    const focused = document.activeElement && document.activeElement.id;
    fill(main, heading('Run ' + run.id), runView(run));
    if (focused) document.getElementById(focused)?.focus();
    if (!FINAL.has(run.status)) timer = setTimeout(refresh, POLL_MS);
  };
  await refresh();
  return () => clearTimeout(timer);
}

const isManifest = (f) => /^manifest-.*\.json$/.test(f.name || '') || /(^|\/)manifest-[^/]*\.json$/.test(f.key || '');
const dataFiles = (run) => (run.files || []).filter((f) => !isManifest(f));

function runView(run) {
  const files = dataFiles(run);
  const manifest = (run.files || []).find(isManifest);
  const props = [
    ['Status', badge(run.status)], ['Dataflow', h('a', { href: '#/dataflows/' + run.dataflowId }, run.dataflowId)],
    ['Trigger', run.trigger], ['Audiences', run.audienceIds ? run.audienceIds.join(', ') : 'All of the dataflow'], ['Scheduled', formatTime(run.scheduledTime)], ['Started', formatTime(run.startedAt)],
    ['Finished', formatTime(run.finishedAt)], ['Duration', formatDuration(run.durationMs)], ['Rows exported', formatNumber(run.rows)],
    ['Rows skipped', formatNumber(skippedTotal(run.skipped)) + (reasons(run.skipped) ? ' (' + reasons(run.skipped) + ')' : '')],
    ['Bytes', formatBytes(run.bytes)], ['Attempts', String(run.attempts)],
  ];
  if (run.error) props.push(['Error', h('span', { class: 'error-text' }, (run.error.code ? run.error.code + ': ' : '') + (run.error.message || JSON.stringify(run.error)))]);
  return [
    h('dl', { class: 'props', id: 'run-props' }, props.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h2', { id: 'files-heading' }, 'Files'),
    files.length === 0 ? h('p', {}, FINAL.has(run.status) ? 'No files.' : 'Files appear when the run finishes.') :
      h('table', { 'aria-labelledby': 'files-heading', id: 'run-files' },
        h('thead', {}, h('tr', {}, [['Name', ''], ['Folder', ''], ['Rows', 'num'], ['Size', 'num'], ['SHA-256', '']].map(([t, c]) => h('th', { scope: 'col', class: c }, t)))),
        h('tbody', {}, files.map((f) => h('tr', {},
          h('td', { class: 'mono' }, f.name || f.key), h('td', { class: 'mono' }, f.sinkPath || '–'),
          h('td', { class: 'num' }, formatNumber(f.rows)), h('td', { class: 'num' }, formatBytes(f.size)),
          h('td', { class: 'mono', title: f.sha256 }, f.sha256 ? f.sha256.slice(0, 16) + '…' : '–'))))),
    h('h2', {}, 'Manifest'),
    manifest ? [
      h('p', {}, 'Written last, after every file: ', h('code', { class: 'mono', id: 'manifest-key' }, manifest.key || manifest.name), ' (' + formatBytes(manifest.size) + ').'),
      h('p', { class: 'hint', id: 'manifest-hint' }, 'What it lists:'),
      h('pre', { tabindex: '0', class: 'mono', 'aria-describedby': 'manifest-hint' }, JSON.stringify({
        flowRunId: run.id, scheduledTime: run.scheduledTime,
        exportResults: files.map((f) => ({ sinkPath: f.sinkPath, name: f.name, size: f.size, rows: f.rows, sha256: f.sha256, ...(f.partition && { partition: f.partition }) })),
      }, null, 2)),
    ] : h('p', {}, FINAL.has(run.status) ? 'This destination writes no manifest.' : 'Written after the files.'),
  ];
}
`;
