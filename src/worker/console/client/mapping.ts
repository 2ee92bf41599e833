/**
 * Browser module `mapping.js`: the attribute mapping editor (ordered rows, headers, mandatory, each
 * field's calculated-field functions, dedup key). The function names are the server's own list.
 */
import { TRANSFORM_NAMES } from '../../../core/data/transforms.ts';

// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const MAPPING_JS = String.raw`
import { field, fill, h } from './ui.js';

const FUNCTIONS = ${JSON.stringify(TRANSFORM_NAMES)};

const SOURCES = ['id', 'updatedAt', 'identities.email', 'identities.crmId', 'segmentMembership.status',
  'segmentMembership.qualifiedAt', 'attributes.person.firstName', 'attributes.person.lastName', 'attributes.country'];
let rows = [];

/** The editor for a dataflow's mapping: column order is row order; '.' in a header becomes '_'. */
export function mappingEditor(mapping) {
  rows = (mapping && mapping.fields && mapping.fields.length ? mapping.fields : [{ source: 'identities.email' }, { source: 'segmentMembership.status' }])
    .map((f) => ({ source: f.source, target: f.target || '', mandatory: Boolean(f.mandatory), fns: [...(f.transforms || [])], keep: kept(f) }));
  const dedup = mapping && mapping.dedup;
  const kind = dedup ? (dedup.identity ? 'identity' : 'attributes') : '';
  const body = h('tbody', { id: 'map-rows' });
  const box = h('fieldset', { class: 'mapping', id: 'mapping', tabindex: '-1', 'data-path': 'mapping' }, h('legend', {}, 'Mapping'),
    h('p', { class: 'hint', id: 'map-hint' }, 'Columns in this order. Sources: id, updatedAt, identities.<namespace>, attributes.<path>, segmentMembership.status, upload.<column>. Optional for datasets.'),
    h('datalist', { id: 'map-sources' }, SOURCES.map((s) => h('option', { value: s }))),
    h('table', { 'aria-describedby': 'map-hint' }, h('caption', { class: 'sr-only' }, 'Mapped fields'),
      h('thead', {}, h('tr', {}, ['#', 'Source', 'Header (optional)', 'Mandatory', 'Order'].map((t) => h('th', { scope: 'col' }, t)))),
      body),
    h('button', { type: 'button', class: 'secondary small', onclick: () => { sync(); rows.push({ source: '', target: '', mandatory: false, fns: [] }); draw(rows.length - 1); } }, 'Add field'),
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
    fns: row.fns,
    keep: row.keep,
  }));
}

/** What the editor does not show (a column type): kept as it was. */
function kept(f) {
  return f.type === undefined ? {} : { type: f.type };
}

const nameOf = (fn) => (typeof fn === 'string' ? fn : fn.name);

/**
 * A field's functions, in order: a chip each (join with its separator), "earlier" and remove
 * buttons, then a select and an Add button. Issues at fields[i] (its type) and transforms[k] land here.
 */
function functions(row, i, n) {
  const p = 'mapping.fields[' + i + ']';
  const list = h('ol', { class: 'chips', id: 'map-fns-' + i });
  const pick = h('select', { id: 'map-add-' + i, class: 'fn-pick' }, FUNCTIONS.map((f) => h('option', { value: f }, f)));
  const redraw = (k, which) => {
    fill(list, row.fns.map((fn, k) => chip(row, i, n, k, p, redraw)));
    const chipEl = list.children[k];
    if (k !== undefined) (chipEl?.querySelector(which + ':not([disabled])') || chipEl?.querySelector('[data-fn=rm]') || pick).focus();
  };
  redraw();
  const add = () => {
    row.fns.push(pick.value === 'join' ? { name: 'join', separator: ',' } : pick.value);
    redraw();
    pick.focus();
  };
  return h('div', { class: 'fns', id: 'map-fn-' + i, role: 'group', tabindex: '-1', 'data-path': p, 'aria-label': 'Functions of column ' + n,
    'aria-describedby': 'map-fn-' + i + '-error' },
    h('span', { class: 'hint', 'aria-hidden': 'true' }, 'Functions'), list,
    h('label', { class: 'sr-only', for: 'map-add-' + i }, 'Function to add to column ' + n), pick, ' ',
    h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Add function to column ' + n, onclick: add }, 'Add'),
    h('p', { class: 'error-text', id: 'map-fn-' + i + '-error' }));
}

function chip(row, i, n, k, p, redraw) {
  const fn = row.fns[k];
  const name = nameOf(fn);
  const q = p + '.transforms[' + k + ']';
  const id = 'map-fn-' + i + '-' + k;
  const what = name + ' (function ' + (k + 1) + ' of column ' + n + ')';
  return h('li', { class: 'chip', id, tabindex: '-1', 'data-path': q, 'aria-label': what },
    h('span', { class: 'mono' }, name),
    name === 'join' && [' ', h('label', { class: 'sr-only', for: id + '-sep' }, 'Separator of ' + what),
      h('input', { type: 'text', id: id + '-sep', class: 'sep', value: typeof fn === 'string' ? ',' : (fn.separator ?? ','), 'data-path': q + '.separator',
        'aria-describedby': id + '-sep-error', oninput: (e) => { row.fns[k] = { name: 'join', separator: e.target.value }; } }),
      h('span', { class: 'error-text', id: id + '-sep-error' })],
    ' ', h('button', { type: 'button', class: 'link', 'data-fn': 'up', 'aria-label': 'Move ' + what + ' earlier', disabled: k === 0,
      onclick: () => { row.fns.splice(k - 1, 0, row.fns.splice(k, 1)[0]); redraw(k - 1, '[data-fn=up]'); } }, '←'),
    h('button', { type: 'button', class: 'link', 'data-fn': 'rm', 'aria-label': 'Remove ' + what,
      onclick: () => { row.fns.splice(k, 1); redraw(Math.min(k, row.fns.length - 1), '[data-fn=rm]'); } }, '×'),
    h('span', { class: 'error-text', id: id + '-error' }));
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
    return [h('tr', { class: 'field-row' },
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
        h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Remove column ' + n, onclick: () => remove(i) }, 'Remove'))),
      h('tr', {}, h('td', { colspan: '5' }, functions(row, i, n)))];
  }));
  if (focusRow === undefined || focusRow < 0) return;
  const row = body.querySelectorAll('tr.field-row')[focusRow];
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
    if (r.fns.length) f.transforms = r.fns;
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
