/** Browser module `api.js`: the /v1 client — bearer token from sessionStorage, errors with field issues. */
// biome-ignore lint/complexity/noUselessStringRaw: browser source; raw keeps any later escape literal
export const API_JS = String.raw`
const KEY = 'edge-export.token';

export const session = {
  token: () => sessionStorage.getItem(KEY),
  signIn: (token) => sessionStorage.setItem(KEY, token),
  signOut: () => sessionStorage.removeItem(KEY),
};

/** A refused request: status, the API's code and message, and its field issues ({path, message}). */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || 'HTTP ' + status);
    this.status = status;
    this.code = error.code || 'HTTP_' + status;
    this.issues = Array.isArray(error.issues) ? error.issues : [];
  }
}

let onUnauthorized = () => {};
/** Called on any 401 (expired or revoked token): the app goes back to sign-in. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Calls the API; resolves with the parsed body, rejects with ApiError. */
export async function api(method, path, body, token = session.token()) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/v1' + path, init);
  } catch (cause) {
    throw new ApiError(0, { code: 'NETWORK', message: 'The server could not be reached (' + cause.message + ')' });
  }
  const text = res.status === 204 ? '' : await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const error = (data && data.error) || { message: text.slice(0, 200) || res.statusText };
    if (res.status === 401 && token === session.token()) onUnauthorized();
    throw new ApiError(res.status, error);
  }
  return data;
}

/** Every item of a paginated list (bounded: at most 'pages' pages of 100). */
export async function listAll(path, pages = 10) {
  const items = [];
  let cursor;
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', path + sep + 'limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    items.push(...page.items);
    cursor = page.cursor;
    if (!cursor) break;
  }
  return items;
}

/** True when the server lacks a route (an older or partial deployment): the UI explains instead of failing. */
export function isMissingRoute(error) {
  return error instanceof ApiError && error.status === 404 && /^No route/.test(error.message);
}
`;
