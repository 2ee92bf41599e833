/** Browser module `destinations.js`: list, create/edit with inline errors, test connection, IAM policies. */
export const DESTINATIONS_JS = String.raw`
import { api, isMissingRoute, listAll } from './api.js';
import { busy, clearIssues, copyButton, field, fill, formatTime, h, heading, radioValue, radios, showIssues, status, val } from './ui.js';

/** Renders the list ('' id), the new form ('new') or one destination. */
export async function render(main, id) {
  if (!id) return list(main);
  const [d, formats] = await Promise.all([id === 'new' ? undefined : api('GET', '/destinations/' + encodeURIComponent(id)), formatChoices()]);
  fill(main, heading(d ? 'Destination: ' + d.name : 'New destination'), form(d, formats));
  if (d) main.append(testPanel(d), policyPanel(d));
}

async function list(main) {
  const items = await listAll('/destinations');
  fill(main, heading('Destinations'),
    h('div', { class: 'bar' }, h('a', { class: 'button', href: '#/destinations/new' }, 'New destination')),
    items.length === 0 ? h('p', {}, 'No destinations yet: create one to say which S3 bucket receives the files.') :
      h('table', {}, h('caption', { class: 'sr-only' }, 'Destinations'),
        h('thead', {}, h('tr', {}, ['Name', 'Bucket', 'Folder path', 'File type', 'Auth', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, items.map((d) => h('tr', {},
          h('td', {}, h('a', { href: '#/destinations/' + d.id }, d.name)),
          h('td', { class: 'mono' }, d.bucket), h('td', { class: 'mono' }, d.folderPath || '–'),
          h('td', {}, d.fileType + (d.compression && d.compression !== 'none' ? ' + ' + d.compression : '')),
          h('td', {}, d.auth.method === 'assumedRole' ? 'Assumed role' : 'Access key'),
          h('td', {}, formatTime(d.updatedAt)))))));
}

const FORMAT_LABELS = { csv: 'CSV', json: 'JSON (newline-delimited)', parquet: 'Parquet' };
const CSV_HINT = 'For CSV, Spark’s writer options: {"delimiter": ";", "quoteAll": true}.';
const BUILT_IN_FORMATS = Object.keys(FORMAT_LABELS).map((value) => ({ value, label: FORMAT_LABELS[value] }));

/**
 * The file types this server offers: its registered format plugins (GET /v1/plugins?kind=format),
 * a third party's (edge-export-avro: avro) among them, each with its description and options; the
 * built-in three on a server that does not list its plugins.
 */
async function formatChoices() {
  try {
    const { items } = await api('GET', '/plugins?kind=format');
    return items.filter((p) => p.destination).map((p) => ({
      value: p.destination.value,
      label: FORMAT_LABELS[p.destination.value] || p.destination.value + ' (' + p.name + ')',
      description: p.description,
      options: p.options,
    }));
  } catch (error) {
    if (isMissingRoute(error)) return BUILT_IN_FORMATS;
    throw error;
  }
}

/** What the format options box takes for a file type: CSV's usual example, else the plugin's own options. */
function formatHint(formats, value) {
  if (value === 'csv') return CSV_HINT;
  const format = formats.find((f) => f.value === value);
  const properties = (format && format.options && format.options.properties) || {};
  const names = Object.entries(properties).map(([name, schema]) =>
    name + (Array.isArray(schema.enum) ? ' (' + schema.enum.join(' | ') + ')' : ''));
  const about = format && format.description ? format.description + '. ' : '';
  return about + (names.length ? 'Options: ' + names.join(', ') + '.' : 'No options.');
}

function form(d, formats = BUILT_IN_FORMATS) {
  const fileType = d?.fileType ?? 'csv';
  // A stored file type this server no longer offers stays shown, so saving does not change it unseen.
  const choices = formats.some((f) => f.value === fileType) ? formats : [...formats, { value: fileType, label: fileType }];
  const auth = d ? d.auth : { method: 'accessKey' };
  const editing = Boolean(d);
  const f = h('form', { novalidate: true, 'aria-label': 'Destination settings' },
    h('fieldset', {}, h('legend', {}, 'Destination'),
      field({ id: 'd-name', label: 'Name', path: 'name', value: d?.name }),
      field({ id: 'd-description', label: 'Description (optional)', path: 'description', value: d?.description })),
    h('fieldset', {}, h('legend', {}, 'Bucket'),
      field({ id: 'd-bucket', label: 'Bucket', path: 'bucket', value: d?.bucket,
        hint: '3–63 characters: lowercase letters, digits, hyphens and dots; starts and ends with a letter or digit.' }),
      field({ id: 'd-folder', label: 'Folder path (optional)', path: 'folderPath', value: d?.folderPath,
        hint: 'For example exports/audiences. %SEGMENT_NAME% and %SEGMENT_ID% may end the path.' }),
      field({ id: 'd-region', label: 'Region', path: 'region', value: d?.region ?? 'us-east-1' }),
      field({ id: 'd-endpoint', label: 'S3-compatible endpoint (optional)', path: 'endpoint', type: 'url', value: d?.endpoint,
        hint: 'MinIO, R2, B2…: https URL, path-style addressing. Leave empty for Amazon S3.' }),
      field({ id: 'd-pathstyle', label: 'Path-style addressing', path: 'forcePathStyle', type: 'checkbox', value: d ? d.forcePathStyle !== false : true })),
    authFieldset(auth, editing, d?.externalId, 'auth'),
    h('fieldset', {}, h('legend', {}, 'Files'),
      field({ id: 'd-type', label: 'File type', path: 'fileType', type: 'select', value: fileType,
        options: choices.map((f) => [f.value, f.label]),
        attrs: { onchange: (event) => { document.getElementById('d-options-hint').textContent = formatHint(choices, event.target.value); } } }),
      field({ id: 'd-compression', label: 'Compression', path: 'compression', type: 'select', value: d?.compression ?? 'none',
        options: [['none', 'None'], ['gzip', 'gzip'], ['zstd', 'zstd']], hint: 'For CSV and JSON. Parquet compresses inside the file: set formatOptions.codec instead.' }),
      field({ id: 'd-options', label: 'Format options (JSON)', path: 'formatOptions', type: 'textarea',
        value: JSON.stringify(d?.formatOptions ?? {}, null, 2), hint: formatHint(choices, fileType) }),
      field({ id: 'd-manifest', label: 'Write a manifest file after each run', path: 'manifest', type: 'checkbox', value: d ? d.manifest : true }),
      field({ id: 'd-pgp', label: 'PGP public key (optional)', path: 'pgpPublicKey', type: 'textarea', value: d?.pgpPublicKey,
        hint: 'ASCII-armored. Files are then encrypted (.gpg) for this key.' })),
    h('fieldset', {}, h('legend', {}, 'Server-side encryption'),
      field({ id: 'd-sse', label: 'Encryption', path: 'sse', type: 'select', value: d?.sse ?? '',
        options: [['', 'Bucket default'], ['AES256', 'SSE-S3 (AES256)'], ['aws:kms', 'SSE-KMS']] }),
      field({ id: 'd-kms', label: 'KMS key ID (SSE-KMS only)', path: 'kmsKeyId', value: d?.kmsKeyId })),
    h('div', { class: 'bar' }, h('button', { type: 'submit' }, d ? 'Save changes' : 'Create destination'),
      h('a', { href: '#/destinations' }, 'Cancel')));
  f.addEventListener('submit', (event) => save(event, f, d));
  return f;
}

/**
 * The authentication fieldset of a destination or a snapshot source (whose auth sits at
 * location.auth: \`at\` is where the API reports its problems): the method, then its fields.
 */
export function authFieldset(auth, editing, externalId, at) {
  queueMicrotask(toggleAuth);
  return h('fieldset', {}, h('legend', {}, 'Authentication'),
    radios({ name: 'd-auth', legend: 'Method', path: at, value: auth.method, onchange: toggleAuth,
      options: [['accessKey', 'Access key'], ['assumedRole', 'Assumed role (recommended)']] }),
    h('div', { id: 'auth-accessKey' },
      field({ id: 'd-akid', label: 'Access key ID', path: at + '.accessKeyId', value: auth.accessKeyId }),
      field({ id: 'd-secret', label: 'Secret access key', path: at + '.secretAccessKey', type: 'password',
        hint: editing && auth.secretAccessKey ? 'Stored as ' + auth.secretAccessKey + '. Leave empty to keep it.' : 'Sealed at rest; never shown again.',
        attrs: { autocomplete: 'new-password' } }),
      field({ id: 'd-session', label: 'Session token (optional)', path: at + '.sessionToken', type: 'password', attrs: { autocomplete: 'off' } })),
    h('div', { id: 'auth-assumedRole' },
      field({ id: 'd-role', label: 'Role ARN', path: at + '.roleArn', value: auth.roleArn,
        hint: 'arn:aws:iam::<12-digit account>:role/<name>. Its trust policy must allow the platform (see IAM policies).' }),
      externalId && h('p', {}, 'External ID: ', h('code', { class: 'mono' }, externalId), ' ', copyButton('Copy external ID', () => externalId))));
}

/** The auth object of authFieldset. */
export function collectAuth(editing) {
  const method = radioValue('d-auth');
  const auth = method === 'assumedRole' ? { method, roleArn: val('d-role') } : { method: 'accessKey', accessKeyId: val('d-akid') };
  if (method !== 'assumedRole') {
    // Empty on create is sent as '' so the API names the missing secret; empty on edit keeps the stored one.
    if (val('d-secret') || !editing) auth.secretAccessKey = val('d-secret');
    if (val('d-session')) auth.sessionToken = val('d-session');
  }
  return auth;
}

function toggleAuth() {
  const method = radioValue('d-auth') || 'accessKey';
  for (const m of ['accessKey', 'assumedRole']) {
    const part = document.getElementById('auth-' + m);
    if (part) part.hidden = m !== method;
  }
}

/** The request body from the form; throws an issue list for what the browser alone can tell. */
function collect(editing) {
  let formatOptions;
  try {
    formatOptions = JSON.parse(val('d-options') || '{}');
  } catch (error) {
    throw { issues: [{ path: 'formatOptions', message: 'not valid JSON (' + error.message + ')' }] };
  }
  const auth = collectAuth(editing);
  const body = { name: val('d-name'), bucket: val('d-bucket'), folderPath: val('d-folder'), region: val('d-region'),
    auth, fileType: val('d-type'), compression: val('d-compression'), formatOptions, manifest: val('d-manifest') };
  const optional = { description: 'd-description', endpoint: 'd-endpoint', pgpPublicKey: 'd-pgp', sse: 'd-sse', kmsKeyId: 'd-kms' };
  for (const [key, id] of Object.entries(optional)) if (val(id)) body[key] = val(id);
  if (body.endpoint) body.forcePathStyle = val('d-pathstyle');
  return body;
}

async function save(event, f, d) {
  event.preventDefault();
  await busy(f.querySelector('button[type=submit]'), async () => {
    try {
      clearIssues(f);
      const body = collect(Boolean(d));
      const saved = d ? await api('PUT', '/destinations/' + d.id, body) : await api('POST', '/destinations', body);
      status('Destination ' + saved.name + ' saved', 'ok');
      if (d) await render(document.getElementById('main'), d.id);
      else location.hash = '#/destinations/' + saved.id;
    } catch (error) {
      showIssues(f, error);
      status('The destination was not saved: see the problems listed', 'error');
    }
  });
}

function testPanel(d) {
  const out = h('div', { id: 'test-result' });
  const button = h('button', { type: 'button', onclick: () => busy(button, async () => {
    status('Testing the connection to ' + d.bucket + '…');
    try {
      showProbe(out, await api('POST', '/destinations/' + d.id + '/test'));
    } catch (error) {
      fill(out, h('p', { class: 'error-text' }, isMissingRoute(error) ? 'This server does not offer connection tests yet.' : error.message));
      status('Connection test failed: ' + error.message, 'error');
    }
  }) }, 'Test connection');
  return h('section', { class: 'panel', 'aria-labelledby': 'test-title' }, h('h2', { id: 'test-title' }, 'Connection test'),
    h('p', {}, 'Checks every permission an export needs without leaving anything in the bucket: a probe object or upload is only made once the permission to remove it is proven.'),
    button, out);
}

const PROBE_LABELS = { ok: 'OK', missing: 'Missing', unsupported: 'Not supported by this store', error: 'Error', untested: 'Not tested' };

/**
 * Renders each probed permission (ok / missing / unsupported / error / untested) with its resource
 * and advice. Only a required permission that is not OK fails the test; the others are warnings.
 */
function showProbe(out, result) {
  const checks = Array.isArray(result) ? result : result.results || result.permissions || result.checks || [];
  const statusOf = (c) => c.status || (c.ok ? 'ok' : 'missing');
  const failing = checks.filter((c) => !c.ok && c.required !== false);
  const warned = checks.filter((c) => !c.ok && c.required === false);
  const passed = typeof result.ok === 'boolean' ? result.ok : failing.length === 0;
  const okCount = checks.length - failing.length - warned.length;
  const summary = !passed
    ? 'Exports will fail: ' + failing.map((c) => c.action + ' ' + statusOf(c)).join(', ')
    : warned.length === 0
      ? 'All ' + checks.length + ' permissions are OK'
      : 'Connection OK: ' + okCount + ' of ' + checks.length + ' permissions OK, ' + warned.length + ' warning' + (warned.length === 1 ? '' : 's') + ': ' +
        warned.map((c) => c.action + ' ' + statusOf(c)).join(', ');
  status(summary, passed ? 'ok' : 'error');
  fill(out, h('p', { class: !passed ? 'error-text' : warned.length ? 'warn-text' : '' }, summary),
    warned.length > 0 && h('ul', { class: 'warnings', 'aria-label': 'Warnings' }, warned.map((c) => h('li', {}, c.impact || c.message || c.action))),
    h('table', {}, h('caption', { class: 'sr-only' }, 'Permissions'),
      h('thead', {}, h('tr', {}, ['Action', 'Result', 'Resource', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, checks.map((c) => {
        const s = statusOf(c);
        const warning = !c.ok && c.required === false;
        return h('tr', {},
          h('td', { class: 'mono' }, c.action),
          h('td', {}, h('span', { class: 'badge ' + s + (warning ? ' warning' : '') },
            (c.ok ? '✓ ' : warning ? '⚠ ' : '✗ ') + (PROBE_LABELS[s] || s) + (warning ? ' (warning)' : ''))),
          h('td', { class: 'mono' }, c.resource || ''), h('td', {}, c.message || ''));
      }))));
}

const POLICY_TITLES = {
  permissionPolicy: 'Permission policy', policy: 'Permission policy', trustPolicy: 'Trust policy (assumed role)',
  lifecycleConfiguration: 'Lifecycle rule (backstop for uploads left open)',
};
/** Notes shown under a document: how to apply it. */
const POLICY_NOTES = { lifecycleConfiguration: 'lifecycleNote' };

function policyPanel(d) {
  const out = h('div', {}, h('p', {}, 'Loading the policies…'));
  api('GET', '/destinations/' + d.id + '/policies').then((result) => {
    const entries = Object.entries(result || {}).filter(([, v]) => v && (typeof v === 'object' || /^\s*\{/.test(v)));
    fill(out, result && result.note && h('p', { class: 'notice' }, result.note), entries.map(([key, value]) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
      const title = POLICY_TITLES[key] || key;
      const note = POLICY_NOTES[key] && result[POLICY_NOTES[key]];
      return h('div', {}, h('h3', { id: 'policy-' + key }, title), copyButton('Copy ' + title.toLowerCase(), () => text),
        h('pre', { tabindex: '0', 'aria-labelledby': 'policy-' + key, class: 'mono' }, text),
        note && h('p', { class: 'hint' }, note));
    }));
  }, (error) => {
    fill(out, h('p', { class: 'error-text' }, isMissingRoute(error) ? 'This server does not generate policies yet.' : error.message));
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'policy-title' }, h('h2', { id: 'policy-title' }, 'IAM policies'),
    h('p', {}, 'Least-privilege documents for this destination: attach the permission policy to the user or role that writes, and, for an assumed role, set the trust policy. The lifecycle rule is an optional backstop the bucket owner can add.'),
    out);
}
`;
