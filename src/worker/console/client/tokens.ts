/** Browser module `tokens.js`: the organization's API tokens — list, create (secret shown once), rotate, revoke. */
import { SCOPES } from '../../scopes.ts';

// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const TOKENS_JS = String.raw`
import { api, session } from './api.js';
import { busy, clearIssues, copyButton, field, fill, formatTime, h, heading, showIssues, status, val } from './ui.js';

/** Scope name → what it allows (src/worker/scopes.ts). */
const SCOPES = ${JSON.stringify(SCOPES)};

/** Renders the tokens page; 'reveal' ({name, secret}) shows a secret just issued, once. */
export async function render(main, _id, _params, reveal) {
  const tokens = (await api('GET', '/tokens')).items;
  const me = tokens.find((t) => t.current);
  fill(main, heading('API tokens'),
    h('p', {}, 'Each token has a name and scopes. Its secret is shown once, when it is created or rotated; edge-export keeps only a hash.'),
    reveal && secretNotice(reveal),
    h('h2', { id: 'tokens-heading' }, 'Live tokens'),
    table(main, tokens),
    createForm(main, me ? me.scopes : []));
  if (reveal) document.getElementById('new-secret').focus();
}

function secretNotice({ name, secret, verb }) {
  return h('div', { class: 'notice secret', role: 'alert' },
    h('p', {}, h('strong', {}, 'Copy the secret of "' + name + '" now'), ': it was ' + verb + ' and is not shown again.'),
    h('p', {}, h('code', { id: 'new-secret', class: 'mono', tabindex: '-1' }, secret)),
    copyButton('Copy secret', () => secret));
}

function table(main, tokens) {
  // One wrapper per cell: on narrow screens a cell is a two-column grid, its label beside its content.
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
  return h('table', { class: 'stack', 'aria-labelledby': 'tokens-heading' },
    h('thead', {}, h('tr', {}, ['Name', 'Scopes', 'Created', 'Last used', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, tokens.map((t) => h('tr', { 'data-token': t.id },
      cell('Name', t.name, t.current && ' ', t.current && h('span', { class: 'badge ok', title: 'The token this console is signed in with' }, 'this token')),
      cell('Scopes', h('ul', { class: 'scopes' }, t.scopes.map((s) => h('li', { class: 'mono', title: SCOPES[s] }, s)))),
      cell('Created', formatTime(t.createdAt), t.rotatedAt && h('div', { class: 'hint' }, 'rotated ' + formatTime(t.rotatedAt))),
      cell('Last used', formatTime(t.lastUsedAt)),
      cell('Actions', h('div', { class: 'bar tight' },
        h('button', { type: 'button', class: 'secondary small', 'aria-label': 'Rotate ' + t.name, onclick: (e) => rotate(main, t, e.target) }, 'Rotate'),
        h('button', { type: 'button', class: 'danger small', 'aria-label': 'Revoke ' + t.name, onclick: (e) => revoke(main, t, e.target) }, 'Revoke')))))));
}

function createForm(main, held) {
  const holds = (s) => held.includes('all') || held.includes(s);
  const form = h('form', { novalidate: true, 'aria-labelledby': 'new-token' },
    h('h2', { id: 'new-token' }, 'New token'),
    field({ id: 'tok-name', label: 'Name', path: 'name', hint: 'What uses it, for example "nightly ingest" or "reporting".' }),
    // The group carries the field path: an error about "scopes" is shown once, on the group, under its legend.
    h('fieldset', { class: 'scopes', id: 'tok-scopes', 'data-path': 'scopes', tabindex: '-1', 'aria-describedby': 'tok-scopes-hint tok-scopes-error' },
      h('legend', {}, 'Scopes'),
      h('p', { class: 'hint', id: 'tok-scopes-hint' }, 'A token can only grant scopes it holds itself.'),
      Object.entries(SCOPES).map(([s, text]) => {
        const id = 'scope-' + s.replace(':', '-');
        return h('div', { class: 'field check' },
          h('input', { type: 'checkbox', id, name: 'scopes', value: s, disabled: !holds(s), 'aria-describedby': id + '-hint' }),
          h('label', { for: id }, s),
          h('p', { class: 'hint', id: id + '-hint' }, text + (holds(s) ? '' : ' (this token does not hold it)')));
      }),
      h('p', { class: 'error-text', id: 'tok-scopes-error' })),
    h('button', { type: 'submit' }, 'Create token'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form.querySelector('button[type=submit]'), async () => {
      try {
        clearIssues(form);
        const scopes = [...form.querySelectorAll('input[name=scopes]:checked')].map((el) => el.value);
        const created = await api('POST', '/tokens', { name: val('tok-name'), scopes });
        status('Token ' + created.name + ' created', 'ok');
        await render(main, '', null, { name: created.name, secret: created.token, verb: 'created' });
      } catch (error) {
        showIssues(form, error);
      }
    });
  });
  return form;
}

async function rotate(main, t, button) {
  if (!confirm('Rotate "' + t.name + '"? Its current secret stops working at once; whatever uses it needs the new one.')) return;
  await busy(button, async () => {
    try {
      const rotated = await api('POST', '/tokens/' + encodeURIComponent(t.id) + '/rotate');
      // Rotating the console's own token: carry on with the new secret.
      if (rotated.current) session.signIn(rotated.token);
      status('Token ' + t.name + ' rotated', 'ok');
      await render(main, '', null, { name: t.name, secret: rotated.token, verb: 'rotated' });
    } catch (error) {
      status(error.message, 'error');
    }
  });
}

async function revoke(main, t, button) {
  const warning = t.current ? ' This console is signed in with it and will sign out.' : '';
  if (!confirm('Revoke "' + t.name + '"? Anything using it is refused from now on.' + warning)) return;
  await busy(button, async () => {
    try {
      await api('DELETE', '/tokens/' + encodeURIComponent(t.id));
      status('Token ' + t.name + ' revoked', 'ok');
      // After revoking its own token the next call answers 401 and the console returns to sign-in.
      await render(main);
    } catch (error) {
      // 401: the console's own token was revoked; the app has already gone back to sign-in.
      if (error.status !== 401) status(error.message, 'error');
    }
  });
}
`;
