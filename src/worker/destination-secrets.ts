/**
 * How a destination is kept: the secret options of its auth plugin (the plugin declares them:
 * auth/accessKey's `secretAccessKey`, `sessionToken`) sealed with AES-GCM, bound to destination id
 * and field, a mask beside each so responses show `****ABCD` without decrypting, and an external id
 * generated once for assumed roles. Only the export runner and the connection test open the sealed
 * values. A snapshot source's `location.auth` is kept the same way (source-secrets.ts): the `*Auth`
 * functions below work on an auth object wherever it sits, its masks keyed by its path (`auth.x`,
 * `location.auth.x`).
 */
import { maskSecret, openSecret, sealSecret } from '../core/security/secrets.ts';
import type { Registry } from '../core/registry.ts';
import type { Destination } from '../service/destination.ts';
import type { Env } from './env.ts';
import { newId } from './store/db.ts';
import type { DestinationRow } from './store/resources.ts';

/** The stored form: the destination with its secrets sealed, masks beside them. */
export type StoredDestination = Destination & {
  masks: Record<string, string>;
  externalId?: string;
};

/** An auth object: a method and its plugin's options. */
export type Auth = Destination['auth'];
/** Masks of sealed secrets by path (`auth.secretAccessKey`). */
export type Masks = Record<string, string>;

/** The secret option names of an auth method's plugin. */
export function secretFields(registry: Registry, d: { auth: Auth }): readonly string[] {
  return registry.get(`auth/${d.auth.method}`)?.secrets ?? [];
}

/**
 * An update that leaves a secret out, or sends back its mask (`****abcd`, as a read showed it), keeps
 * the stored one (same auth method): the sealed values are carried over, and `kept` lists which, so
 * they are not sealed twice. `previous` is the stored auth at `at`, with the stored masks.
 */
export function keepAuthSecrets(
  registry: Registry,
  input: Auth,
  previous: { auth: Auth; masks: Masks | undefined; at: string } | undefined,
): { auth: Auth; kept: Set<string> } {
  const kept = new Set<string>();
  if (!previous || previous.auth.method !== input.method) return { auth: input, kept };
  const auth: Record<string, unknown> = { ...input };
  for (const field of secretFields(registry, { auth: input })) {
    const mask = previous.masks?.[`${previous.at}.${field}`];
    const unchanged = auth[field] === undefined || (mask !== undefined && auth[field] === mask);
    if (unchanged && previous.auth[field] !== undefined) {
      auth[field] = previous.auth[field];
      kept.add(field);
    }
  }
  return { auth: auth as Auth, kept };
}

/** Seals the secrets of an auth object at `at` of row `id` (those not kept sealed from before), with their masks. */
export async function sealAuth(
  env: Env,
  registry: Registry,
  id: string,
  at: string,
  input: { auth: Auth; kept: Set<string> },
  previousMasks: Masks | undefined,
): Promise<{ auth: Auth; masks: Masks }> {
  const masks: Masks = {};
  const auth: Record<string, unknown> = { ...input.auth };
  for (const field of secretFields(registry, input)) {
    const value = auth[field];
    if (typeof value !== 'string') continue;
    if (input.kept.has(field)) {
      masks[`${at}.${field}`] = previousMasks?.[`${at}.${field}`] ?? '****';
      continue;
    }
    auth[field] = await sealSecret(env.SECRETS_KEY, value, `${id}:${at}.${field}`);
    masks[`${at}.${field}`] = maskSecret(value);
  }
  return { auth: auth as Auth, masks };
}

/** The auth object at `at` as the API shows it: masks in place of sealed values. */
export function maskAuth(auth: Auth, masks: Masks, at: string): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...auth };
  for (const path of Object.keys(masks)) {
    if (!path.startsWith(`${at}.`)) continue;
    const field = path.slice(at.length + 1);
    if (field in shown) shown[field] = masks[path];
  }
  return shown;
}

/** The auth object at `at` of row `id` with its secrets in the clear. */
export async function openAuth(
  env: Env,
  id: string,
  auth: Auth,
  masks: Masks | undefined,
  at: string,
): Promise<Auth> {
  const open: Record<string, unknown> = { ...auth };
  for (const path of Object.keys(masks ?? {})) {
    if (!path.startsWith(`${at}.`)) continue;
    const field = path.slice(at.length + 1);
    const sealed = open[field];
    if (typeof sealed === 'string') open[field] = await openSecret(env.SECRETS_KEY, sealed, `${id}:${path}`);
  }
  return open as Auth;
}

/** keepAuthSecrets for a destination: left-out or masked secrets keep the stored ones. */
export function withKeptSecrets(
  registry: Registry,
  input: Destination,
  previous: StoredDestination | undefined,
): { destination: Destination; kept: Set<string> } {
  const { auth, kept } = keepAuthSecrets(registry, input.auth, previous && { auth: previous.auth, masks: previous.masks, at: 'auth' });
  return { destination: { ...input, auth }, kept };
}

/** Seals the secrets of a validated destination (those not kept sealed from before). */
export async function sealDestination(
  env: Env,
  registry: Registry,
  id: string,
  input: { destination: Destination; kept: Set<string> },
  previous?: StoredDestination,
): Promise<StoredDestination> {
  const { destination, kept } = input;
  const { auth, masks } = await sealAuth(
    env,
    registry,
    id,
    'auth',
    { auth: destination.auth, kept },
    previous?.masks,
  );
  const externalId =
    destination.auth.method === 'assumedRole' ? (previous?.externalId ?? newId('ext')) : undefined;
  return { ...destination, auth, masks, ...(externalId && { externalId }) };
}

/** The API view of a stored destination: masks in place of sealed values. */
export function presentDestination(row: DestinationRow): Record<string, unknown> {
  const { masks, auth, ...rest } = JSON.parse(row.config) as StoredDestination;
  return {
    id: row.id,
    ...rest,
    auth: maskAuth(auth, masks, 'auth'),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The destination with its secrets in the clear: for exporting and testing, nothing else. */
export async function openDestination(env: Env, row: DestinationRow): Promise<StoredDestination> {
  const stored = JSON.parse(row.config) as StoredDestination;
  return { ...stored, auth: await openAuth(env, row.id, stored.auth, stored.masks, 'auth') };
}

/** The destination model of a stored destination (masks and the external id set aside). */
export function destinationOf(stored: StoredDestination): Destination {
  const { masks: _masks, externalId: _externalId, ...destination } = stored;
  return destination;
}
