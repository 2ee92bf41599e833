/** Browser module `ui.js`: DOM builders (text only, never innerHTML), labelled fields, inline errors, status. */
export const UI_JS = String.raw`
/** Builds an element: h('button', {type: 'button', onclick}, 'Save'). Strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'for') el.htmlFor = value;
    else if (name === 'value') el.value = value;
    else if (name === 'checked') el.checked = true;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Announces that something was saved, with the API's warnings when it returned any (a rule or mapping
 * naming an attribute no profile has): those stay on screen instead of fading.
 */
export function savedStatus(message, saved) {
  const warnings = (saved && saved.warnings) || [];
  if (warnings.length === 0) return status(message, 'ok');
  status(message + '. Warning: ' + warnings.map((w) => w.message).join('; '));
}

let statusTimer;
/** Announces a message in the polite live region (kind: 'ok' | 'error' | undefined). */
export function status(message, kind) {
  const el = document.getElementById('status');
  el.className = 'status' + (kind ? ' ' + kind : '');
  el.textContent = message;
  clearTimeout(statusTimer);
  if (kind === 'ok') statusTimer = setTimeout(() => { el.textContent = ''; }, 8000);
}

/**
 * A labelled form control with a hint and an error slot wired by aria-describedby.
 * spec: {id, label, path, type?: text|password|url|date|time|select|textarea|checkbox, value, options, hint, attrs}
 * 'path' is the API field path whose issues are shown next to the control.
 */
export function field(spec) {
  const { id, label, path, type = 'text', value, options, hint, attrs = {} } = spec;
  const hintId = hint ? id + '-hint' : undefined;
  const errorId = id + '-error';
  const common = { id, name: id, 'data-path': path, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' '), ...attrs };
  let control;
  if (type === 'select') {
    control = h('select', common, options.map(([v, text]) => h('option', { value: v, selected: String(value) === String(v) }, text)));
  } else if (type === 'textarea') {
    control = h('textarea', { ...common, spellcheck: 'false' });
    control.value = value ?? '';
  } else if (type === 'checkbox') {
    control = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
  } else {
    control = h('input', { ...common, type, value: value ?? '', autocomplete: 'off', spellcheck: 'false' });
  }
  const labelEl = h('label', { for: id }, label);
  const parts = type === 'checkbox' ? [control, labelEl] : [labelEl, control];
  return h('div', { class: 'field' + (type === 'checkbox' ? ' check' : '') },
    parts,
    hint && h('p', { class: 'hint', id: hintId }, hint),
    h('p', { class: 'error-text', id: errorId }));
}

/** A group of radio buttons in a fieldset with a legend. */
export function radios(spec) {
  const { name, legend, path, options, value, onchange } = spec;
  return h('fieldset', { class: 'radios' }, h('legend', {}, legend),
    h('div', { class: 'choices' }, options.map(([v, text]) => h('span', {},
      h('input', { type: 'radio', id: name + '-' + v, name, value: v, checked: v === value, 'data-path': path, onchange }),
      ' ', h('label', { for: name + '-' + v }, text)))),
    h('p', { class: 'error-text', id: name + '-error' }));
}

/** The value of a control by id ('' when absent); checkboxes give booleans. */
export function val(id) {
  const el = document.getElementById(id);
  if (!el) return '';
  return el.type === 'checkbox' ? el.checked : el.value.trim();
}

/** The checked radio's value in a group. */
export function radioValue(name) {
  const el = document.querySelector('input[name="' + name + '"]:checked');
  return el ? el.value : '';
}

/** Removes every inline error and the summary of a form. */
export function clearIssues(form) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.error-text')) el.textContent = '';
  form.querySelector('.summary')?.remove();
}

/** The control for an API path: exact match, else the nearest parent path (a.b[0].c → a.b[0] → a.b → a). */
function controlFor(form, path) {
  let p = path;
  while (p) {
    const el = form.querySelector('[data-path="' + CSS.escape(p) + '"]');
    if (el) return el;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return undefined;
}

/** What a control is called on screen: its label, aria-label, or its group's legend. */
function labelOf(control) {
  const text = (control.labels && control.labels[0] && control.labels[0].textContent) || control.getAttribute('aria-label') ||
    control.closest('fieldset')?.querySelector('legend')?.textContent || control.id;
  return text.replace(/\s*\(optional\)$/, '');
}

/**
 * Shows the API's issues next to their fields and in a summary at the top (role=alert) whose links
 * move focus to each field; focus goes to the summary so keyboard and screen-reader users land on it.
 */
export function showIssues(form, error) {
  clearIssues(form);
  const issues = error.issues && error.issues.length ? error.issues : [{ path: '', message: error.message }];
  const items = issues.map((issue) => {
    const control = issue.path ? controlFor(form, issue.path) : undefined;
    if (!control) return h('li', {}, issue.message);
    control.setAttribute('aria-invalid', 'true');
    const slot = document.getElementById(control.id + '-error') || control.closest('fieldset')?.querySelector('.error-text');
    if (slot) slot.textContent = (slot.textContent ? slot.textContent + ' ' : '') + issue.message;
    return h('li', {}, h('a', { href: '#' + control.id, onclick: (e) => { e.preventDefault(); control.focus(); } }, labelOf(control) + ': ' + issue.message));
  });
  const summary = h('div', { class: 'summary', role: 'alert', tabindex: '-1' },
    h('h2', {}, issues.length === 1 ? 'There is a problem' : 'There are ' + issues.length + ' problems'), h('ul', {}, items));
  form.prepend(summary);
  summary.focus();
}

/** A button that copies text to the clipboard and says so in the live region. */
export function copyButton(label, getText) {
  return h('button', { type: 'button', class: 'secondary small', onclick: async () => {
    const text = getText();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = h('textarea', { class: 'sr-only', 'aria-hidden': 'true' });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    status('Copied ' + label.replace(/^Copy /, '') + ' to the clipboard', 'ok');
  } }, label);
}

/** Runs an async action with the button disabled and busy, reporting failures in the live region. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function formatBytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
}

export function formatDuration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return ms + ' ms';
  const s = ms / 1000;
  return s < 60 ? s.toFixed(1) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
}

export function formatNumber(n) {
  return n === undefined || n === null ? '–' : Number(n).toLocaleString('en');
}

/** ISO time as 'YYYY-MM-DD HH:MM:SS UTC' (the API and schedules speak UTC). */
export function formatTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') + ' UTC' : '–';
}

/** Sum of skipped rows by reason. */
export function skippedTotal(skipped) {
  return skipped ? Object.values(skipped).reduce((a, b) => a + b, 0) : undefined;
}

/**
 * Puts every table under root, now and later, in its own horizontal scroller: on a narrow screen the
 * table scrolls sideways, not the page. The scroller is a labelled region that takes focus, so the
 * keyboard can scroll it too. A table.stack is left alone: on a narrow screen its rows become cards.
 */
export function scrollTables(root) {
  const wrap = () => {
    for (const table of root.querySelectorAll('table:not(.stack)')) {
      if (table.parentElement.classList.contains('table-wrap')) continue;
      const named = table.getAttribute('aria-labelledby');
      const label = (named && document.getElementById(named)?.textContent) || table.querySelector('caption')?.textContent || 'Table';
      const box = h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': label });
      table.before(box);
      box.append(table);
    }
  };
  wrap();
  new MutationObserver(wrap).observe(root, { childList: true, subtree: true });
}

/** The page heading: sets the title and takes focus after navigation. */
export function heading(text) {
  document.title = text + ' · edge-export';
  return h('h1', { tabindex: '-1' }, text);
}
`;
