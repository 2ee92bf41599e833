/** Browser module `app.js`: sign-in, navigation, the hash router, and the small Audiences page. */
export const APP_JS = String.raw`
import { api, ApiError, listAll, session, whenUnauthorized } from './api.js';
import { busy, clearIssues, field, fill, formatTime, h, heading, savedStatus, scrollTables, showIssues, status, val } from './ui.js';

const main = document.getElementById('main');
scrollTables(main);
const nav = document.getElementById('nav');
const signout = document.getElementById('signout');
const SECTIONS = [['destinations', 'Destinations'], ['sources', 'Sources'], ['dataflows', 'Dataflows'], ['runs', 'Runs'], ['audiences', 'Audiences'], ['tokens', 'Tokens']];
const VIEWS = {
  destinations: () => import('./destinations.js'),
  sources: () => import('./sources.js'),
  dataflows: () => import('./dataflows.js'),
  runs: () => import('./runs.js'),
  tokens: () => import('./tokens.js'),
};

/** Each view may return a cleanup (stop polling) run when the user navigates away. */
let cleanup;
/**
 * Renders run one after another: a page whose data arrives late (the first page after signing in)
 * must not replace the page the user went on to. A route asked for while one renders runs next, once,
 * for the hash as it is then.
 */
let rendering = Promise.resolve();
let queued = false;
function route() {
  if (queued) return rendering;
  queued = true;
  // A render that failed does not hold up the next one; its caller still sees the failure.
  rendering = rendering.catch(() => {}).then(() => {
    queued = false;
    return render();
  });
  return rendering;
}

async function render() {
  if (cleanup) cleanup();
  cleanup = undefined;
  if (!session.token()) return signIn();
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const [first, id] = path.split('/');
  const section = first || 'destinations';
  showNav(section);
  try {
    if (section === 'audiences') await audiences();
    else if (VIEWS[section]) cleanup = await (await VIEWS[section]()).render(main, id, new URLSearchParams(query));
    else fill(main, heading('Not found'), h('p', {}, 'No page at ' + location.hash));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    // 403: the token lacks this page's scope; the message names it.
    const title = error instanceof ApiError && error.status === 403 ? 'Not allowed with this token' : 'Something went wrong';
    fill(main, heading(title), h('p', { class: 'error-text' }, error.message));
  }
  main.querySelector('h1')?.focus();
}

function showNav(current) {
  nav.hidden = false;
  signout.hidden = false;
  fill(nav, h('ul', {}, SECTIONS.map(([key, label]) =>
    h('li', {}, h('a', { href: '#/' + key, 'aria-current': key === current ? 'page' : undefined }, label)))));
}

function signIn(message) {
  nav.hidden = true;
  signout.hidden = true;
  const form = h('form', { novalidate: true, 'aria-labelledby': 'signin-title' },
    field({ id: 'token', label: 'API token', path: 'token', type: 'password',
      hint: 'The eex_… token of your organization. It is kept in this tab only (sessionStorage) and sent as a bearer token.',
      attrs: { autocomplete: 'current-password', required: true } }),
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = val('token');
    const button = form.querySelector('button');
    await busy(button, async () => {
      try {
        if (!token) throw new ApiError(400, { message: 'Enter your API token', issues: [{ path: 'token', message: 'Enter your API token' }] });
        // Any valid token may read itself, whatever its scopes.
        await api('GET', '/tokens/current', undefined, token);
        session.signIn(token);
        status('Signed in', 'ok');
        if (!location.hash || location.hash === '#/') location.hash = '#/destinations';
        else route();
      } catch (error) {
        const issue = error.status === 401 ? 'That token was not accepted: check it is complete and not revoked' : error.message;
        showIssues(form, { issues: [{ path: 'token', message: issue }] });
        document.getElementById('token').focus();
      }
    });
  });
  fill(main, h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in to edge-export'), message && h('p', { class: 'notice' }, message), form);
  document.title = 'Sign in · edge-export';
  main.querySelector('h1').focus();
}

async function audiences() {
  // Sources need "sources:read": without it, the picker offers the profiles in D1 only.
  const [list, sources] = await Promise.all([listAll('/audiences'), listAll('/sources').catch(() => [])]);
  const sourceName = new Map(sources.map((s) => [s.id, s.name]));
  const form = h('form', { novalidate: true, 'aria-labelledby': 'new-audience' },
    h('h2', { id: 'new-audience' }, 'New rule audience'),
    field({ id: 'aud-name', label: 'Name', path: 'name' }),
    field({ id: 'aud-rule', label: 'Rule', path: 'rule', type: 'textarea',
      hint: 'Segment rule, for example: attributes.tier = "gold" and attributes.country in ["FR", "DE"]' }),
    field({ id: 'aud-source', label: 'Profiles from', path: 'sourceId', type: 'select', value: '',
      options: [['', 'Profiles sent to edge-export (D1)'], ...sources.map((s) => [s.id, 'Source: ' + s.name])] }),
    h('button', { type: 'submit' }, 'Create audience'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form.querySelector('button'), async () => {
      try {
        clearIssues(form);
        const body = { kind: 'rule', name: val('aud-name'), rule: val('aud-rule') };
        if (val('aud-source')) body.sourceId = val('aud-source');
        const created = await api('POST', '/audiences', body);
        savedStatus('Audience ' + created.name + ' created', created);
        await route();
      } catch (error) {
        showIssues(form, error);
      }
    });
  });
  fill(main, heading('Audiences'),
    list.length === 0 ? h('p', {}, 'No audiences yet.') :
      h('table', {}, h('caption', { class: 'sr-only' }, 'Audiences'),
        h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Rule', 'Profiles from', 'ID', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((a) => h('tr', {}, h('td', {}, a.name), h('td', {}, a.kind),
          h('td', { class: 'mono' }, a.rule || '–'), h('td', {}, a.sourceId ? sourceName.get(a.sourceId) || a.sourceId : 'D1'), h('td', { class: 'mono' }, a.id), h('td', {}, formatTime(a.updatedAt)))))),
    form);
}

whenUnauthorized(() => {
  session.signOut();
  signIn('Your session ended (the token was rejected). Sign in again.');
});
signout.addEventListener('click', () => {
  session.signOut();
  status('Signed out', 'ok');
  signIn();
});
window.addEventListener('hashchange', route);
route();
`;
