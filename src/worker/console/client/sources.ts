/** Browser module `sources.js`: snapshot sources — list, create/edit (auth as destinations), delete, test. */
export const SOURCES_JS = String.raw`
import { api, listAll } from './api.js';
import { authFieldset, collectAuth } from './destinations.js';
import { busy, clearIssues, field, fill, formatTime, h, heading, radioValue, radios, showIssues, status, val } from './ui.js';

/** Renders the list ('' id), the new form ('new') or one source. */
export async function render(main, id) {
  if (id) {
    const s = id === 'new' ? undefined : await api('GET', '/sources/' + encodeURIComponent(id));
    fill(main, heading(s ? 'Source: ' + s.name : 'New source'), form(s), s && testPanel(s));
    return;
  }
  const items = await listAll('/sources');
  fill(main, heading('Sources'), h('div', { class: 'bar' }, h('a', { class: 'button', href: '#/sources/new' }, 'New source')),
    h('table', {}, h('caption', { class: 'sr-only' }, 'Sources'),
      h('thead', {}, h('tr', {}, ['Name', 'Format', 'Location', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, items.map((s) => h('tr', {}, h('td', {}, h('a', { href: '#/sources/' + s.id }, s.name)), h('td', {}, s.format),
        h('td', { class: 'mono' }, (s.location.bucket ? 's3://' + s.location.bucket : 'r2://' + s.location.binding) + '/' + (s.location.key ?? s.location.prefix)),
        h('td', {}, formatTime(s.updatedAt)))))));
}

function form(s) {
  const loc = s ? s.location : { type: 's3' };
  const text = (id, label, path, value, hint) => field({ id, label, path, value, hint });
  const f = h('form', { novalidate: true, 'aria-label': 'Source settings' },
    h('fieldset', {}, h('legend', {}, 'Source'), text('s-name', 'Name', 'name', s?.name),
      field({ id: 's-format', label: 'Format', path: 'format', type: 'select', value: s?.format, options: [['parquet', 'Parquet'], ['ndjson', 'NDJSON'], ['csv', 'CSV']] })),
    h('fieldset', {}, h('legend', {}, 'Location'),
      radios({ name: 's-type', legend: 'Store', path: 'location.type', value: loc.type, onchange: toggle, options: [['s3', 'S3 (or S3-compatible)'], ['r2', 'R2 binding']] }),
      h('div', { id: 'loc-s3' }, text('s-bucket', 'Bucket', 'location.bucket', loc.bucket), text('s-region', 'Region', 'location.region', loc.region ?? 'us-east-1'),
        text('s-endpoint', 'Endpoint (optional)', 'location.endpoint', loc.endpoint, 'S3-compatible stores; empty for Amazon S3.')),
      h('div', { id: 'loc-r2' }, text('s-binding', 'R2 binding', 'location.binding', loc.binding)),
      text('s-prefix', 'Prefix (a folder of files)', 'location.prefix', loc.prefix, 'Give a prefix or a key.'),
      text('s-key', 'Key (one file)', 'location.key', loc.key),
      field({ id: 's-hive', label: 'Hive partitioning (name=value/ folders are columns)', path: 'hivePartitioning', type: 'checkbox', value: s?.hivePartitioning })),
    h('div', { id: 'loc-auth' }, authFieldset(loc.auth ?? { method: 'accessKey' }, Boolean(s), s?.externalId, 'location.auth')),
    h('fieldset', {}, h('legend', {}, 'Profiles'),
      text('s-id', 'ID column (optional)', 'idColumn', s?.idColumn, 'Default id.'),
      text('s-updated', 'Update-time column (optional)', 'updatedAtColumn', s?.updatedAtColumn, 'Default updatedAt.'),
      field({ id: 's-schema', label: 'Schema (JSON, optional)', path: 'schema', type: 'textarea', value: s?.schema && JSON.stringify(s.schema),
        hint: 'e.g. [{"name": "id", "type": "string"}]. Empty: the first file’s.' })),
    h('div', { class: 'bar' }, h('button', { type: 'submit' }, s ? 'Save changes' : 'Create source'),
      s && h('button', { type: 'button', class: 'danger', onclick: (e) => remove(e.target, s) }, 'Delete source')));
  f.addEventListener('submit', (event) => save(event, f, s));
  queueMicrotask(toggle);
  return f;
}

function toggle() {
  const r2 = radioValue('s-type') === 'r2';
  document.getElementById('loc-s3').hidden = document.getElementById('loc-auth').hidden = r2;
  document.getElementById('loc-r2').hidden = !r2;
}

function collect(editing) {
  const location = radioValue('s-type') === 'r2' ? { type: 'r2', binding: val('s-binding') }
    : { type: 's3', bucket: val('s-bucket'), region: val('s-region'), endpoint: val('s-endpoint') || undefined, auth: collectAuth(editing) };
  const body = { name: val('s-name'), format: val('s-format'), location, hivePartitioning: val('s-hive') || undefined };
  for (const [key, id] of [['prefix', 's-prefix'], ['key', 's-key']]) if (val(id)) location[key] = val(id);
  for (const [key, id] of [['idColumn', 's-id'], ['updatedAtColumn', 's-updated']]) if (val(id)) body[key] = val(id);
  try {
    if (val('s-schema')) body.schema = JSON.parse(val('s-schema'));
  } catch (error) {
    throw { issues: [{ path: 'schema', message: 'not valid JSON (' + error.message + ')' }] };
  }
  return body;
}

async function save(event, f, s) {
  event.preventDefault();
  await busy(f.querySelector('button[type=submit]'), async () => {
    try {
      clearIssues(f);
      const body = collect(Boolean(s));
      const saved = s ? await api('PUT', '/sources/' + s.id, body) : await api('POST', '/sources', body);
      status('Source ' + saved.name + ' saved', 'ok');
      if (s) await render(document.getElementById('main'), s.id);
      else location.hash = '#/sources/' + saved.id;
    } catch (error) {
      showIssues(f, error);
      status('The source was not saved: see the problems listed', 'error');
    }
  });
}

async function remove(button, s) {
  if (!confirm('Delete the source ' + s.name + '?')) return;
  await busy(button, async () => {
    try {
      await api('DELETE', '/sources/' + s.id);
      status('Source ' + s.name + ' deleted', 'ok');
      location.hash = '#/sources';
    } catch (error) {
      status('The source was not deleted: ' + error.message, 'error');
    }
  });
}

function testPanel(s) {
  const out = h('div', { id: 'test-result' });
  const button = h('button', { type: 'button', onclick: () => busy(button, async () => {
    const r = await api('POST', '/sources/' + s.id + '/test').catch((error) => ({ error }));
    const summary = r.ok
      ? r.files + ' file(s)' + (r.more ? ' checked, more under the prefix' : '') + (r.rows === undefined ? '' : ', ' + r.rows + ' rows') + '; columns: ' + r.schema.map((c) => c.name).join(', ')
      : 'Runs will fail: ' + r.error.message;
    status('Source test: ' + summary, r.ok ? 'ok' : 'error');
    fill(out, h('p', { class: r.ok ? '' : 'error-text' }, summary));
  }) }, 'Test source');
  return h('section', { class: 'panel', 'aria-labelledby': 'test-title' }, h('h2', { id: 'test-title' }, 'Source test'),
    h('p', {}, 'Lists the files and reads the first footers (Parquet) or headers (CSV), as a run would.'), button, out);
}
`;
