/** Browser module `mapping.js`: the attribute mapping editor (ordered rows, headers, mandatory, dedup key). */
// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const MAPPING_JS = String.raw`
import { field, fill, h } from './ui.js';

const SOURCES = ['id', 'updatedAt', 'identities.email', 'identities.crmId', 'segmentMembership.status',
  'segmentMembership.qualifiedAt', 'attributes.person.firstName', 'attributes.person.lastName', 'attributes.country'];
let rows = [];

/** The editor for a dataflow's mapping: column order is row order; '.' in a header becomes '_'. */
export function mappingEditor(mapping) {
  rows = (mapping && mapping.fields && mapping.fields.length ? mapping.fields : [{ source: 'identities.email' }, { source: 'segmentMembership.status' }])
    .map((f) => ({ source: f.source, target: f.target || '', mandatory: Boolean(f.mandatory), keep: kept(f) }));
  const dedup = mapping && mapping.dedup;
  const kind = dedup ? (dedup.identity ? 'identity' : 'attributes') : '';
  const body = h('tbody', { id: 'map-rows' });
  const box = h('fieldset', { class: 'mapping', id: 'mapping', tabindex: '-1', 'data-path': 'mapping' }, h('legend', {}, 'Mapping'),
    h('p', { class: 'hint', id: 'map-hint' }, 'Columns in this order. Sources: id, updatedAt, identities.<namespace>, attributes.<path>, segmentMembership.status, upload.<column>. Optional for datasets.'),
    h('datalist', { id: 'map-sources' }, SOURCES.map((s) => h('option', { value: s }))),
    h('table', { 'aria-describedby': 'map-hint' }, h('caption', { class: 'sr-only' }, 'Mapped fields'),
      h('thead', {}, h('tr', {}, ['#', 'Source', 'Header (optional)', 'Mandatory', 'Order'].map((t) => h('th', { scope: 'col' }, t)))),
      body),
    h('button', { type: 'button', class: 'secondary small', onclick: () => { sync(); rows.push({ source: '', target: '', mandatory: false }); draw(rows.length - 1); } }, 'Add field'),
    h('p', { class: 'error-text', id: 'mapping-error' }),
    field({ id: 'map-dedup', label: 'Deduplication key', path: 'mapping.dedup', type: 'select', value: kind,
      options: [['', 'None'], ['identity', 'An identity namespace'], ['attributes', 'One or two attributes (composite)']] }),
    field({ id: 'map-dedup-value', label: 'Namespace or attribute paths', path: 'mapping.dedup.value',
      value: dedup ? (dedup.identity || dedup.attributes.join(', ')) : '', hint: 'email — or — attributes.person.lastName, attributes.person.birthDate' }));
  queueMicrotask(() => draw());
  return box;
}

/** Reads the rows back from the inputs (so re-drawing keeps what was typed). */
function sync() {
  rows = rows.map((row, i) => ({
    source: document.getElementById('map-src-' + i).value.trim(),
    target: document.getElementById('map-tgt-' + i).value.trim(),
    mandatory: document.getElementById('map-man-' + i).checked,
    keep: row.keep,
  }));
}

/** What the editor does not show (a column type, calculated-field functions): kept as it was. */
function kept(f) {
  const keep = {};
  if (f.type !== undefined) keep.type = f.type;
  if (f.transforms !== undefined) keep.transforms = f.transforms;
  return keep;
}

function move(i, by) {
  sync();
  const j = i + by;
  if (j < 0 || j >= rows.length) return;
  [rows[i], rows[j]] = [rows[j], rows[i]];
  draw(j, by < 0 ? 'up' : 'down');
}

function remove(i) {
  sync();
  rows.splice(i, 1);
  draw(Math.min(i, rows.length - 1));
}

/** Re-draws the rows; focus goes back to the row (and button) the user acted on. */
function draw(focusRow, focusButton) {
  const body = document.getElementById('map-rows');
  if (!body) return;
  fill(body, rows.map((row, i) => {
    const n = i + 1;
    const p = 'mapping.fields[' + i + ']';
    return h('tr', {},
      h('td', {}, String(n)),
      h('td', {}, h('label', { class: 'sr-only', for: 'map-src-' + i }, 'Source of column ' + n),
        h('input', { type: 'text', id: 'map-src-' + i, value: row.source, list: 'map-sources', 'data-path': p + '.source', 'aria-describedby': 'map-src-' + i + '-error' }),
        h('p', { class: 'error-text', id: 'map-src-' + i + '-error' })),
      h('td', {}, h('label', { class: 'sr-only', for: 'map-tgt-' + i }, 'Header of column ' + n),
        h('input', { type: 'text', id: 'map-tgt-' + i, value: row.target, 'data-path': p + '.target', 'aria-describedby': 'map-tgt-' + i + '-error' }),
        h('p', { class: 'error-text', id: 'map-tgt-' + i + '-error' })),
      h('td', {}, h('input', { type: 'checkbox', id: 'map-man-' + i, checked: row.mandatory, 'data-path': p + '.mandatory', 'aria-label': 'Column ' + n + ' is mandatory' })),
      h('td', {},
        h('button', { type: 'button', class: 'secondary small', 'data-move': 'up', 'aria-label': 'Move column ' + n + ' up', disabled: i === 0, onclick: () => move(i, -1) }, '↑'), ' ',
        h('button', { type: 'button', class: 'secondary small', 'data-move': 'down', 'aria-label': 'Move column ' + n + ' down', disabled: i === rows.length - 1, onclick: () => move(i, 1) }, '↓'), ' ',
        h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Remove column ' + n, onclick: () => remove(i) }, 'Remove')));
  }));
  if (focusRow === undefined || focusRow < 0) return;
  const row = body.children[focusRow];
  const target = (focusButton && row.querySelector('[data-move="' + focusButton + '"]:not([disabled])')) || row.querySelector('input');
  target.focus();
}

/** The mapping to send, or undefined when no row has a source. */
export function readMapping() {
  sync();
  if (rows.every((r) => !r.source)) return undefined;
  // Every row is sent (even an empty one) so the API's fields[i] issues point at the row the user sees.
  const fields = rows.map((r) => {
    const f = { source: r.source, ...r.keep };
    if (r.target) f.target = r.target;
    if (r.mandatory) f.mandatory = true;
    return f;
  });
  const mapping = { fields };
  const kind = document.getElementById('map-dedup').value;
  const value = document.getElementById('map-dedup-value').value.trim();
  if (kind === 'identity') mapping.dedup = { identity: value };
  if (kind === 'attributes') mapping.dedup = { attributes: value.split(',').map((s) => s.trim()).filter(Boolean) };
  return mapping;
}
`;
