/**
 * How a destination is kept: the secret options of its auth plugin (the plugin declares them:
 * auth/accessKey's `secretAccessKey`, `sessionToken`) sealed with AES-GCM, bound to destination id
 * and field, a mask beside each so responses show `****ABCD` without decrypting, and an external id
 * generated once for assumed roles. Only the export runner and the connection test open the sealed
 * values.
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

/** The secret option names of a destination's auth plugin. */
export function secretFields(registry: Registry, d: Pick<Destination, 'auth'>): readonly string[] {
  return registry.get(`auth/${d.auth.method}`)?.secrets ?? [];
}

/**
 * An update that leaves a secret out keeps the stored one (same auth method): the sealed values and
 * their masks are carried over, and `kept` lists which, so they are not sealed twice.
 */
export function withKeptSecrets(
  registry: Registry,
  input: Destination,
  previous: StoredDestination | undefined,
): { destination: Destination; kept: Set<string> } {
  const kept = new Set<string>();
  if (!previous || previous.auth.method !== input.auth.method) return { destination: input, kept };
  const auth: Record<string, unknown> = { ...input.auth };
  for (const field of secretFields(registry, input)) {
    if (auth[field] === undefined && previous.auth[field] !== undefined) {
      auth[field] = previous.auth[field];
      kept.add(field);
    }
  }
  return { destination: { ...input, auth: auth as Destination['auth'] }, kept };
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
  const masks: Record<string, string> = {};
  const auth: Record<string, unknown> = { ...destination.auth };
  for (const field of secretFields(registry, destination)) {
    const value = auth[field];
    if (typeof value !== 'string') continue;
    if (kept.has(field)) {
      masks[`auth.${field}`] = previous?.masks[`auth.${field}`] ?? '****';
      continue;
    }
    auth[field] = await sealSecret(env.SECRETS_KEY, value, `${id}:auth.${field}`);
    masks[`auth.${field}`] = maskSecret(value);
  }
  const externalId = destination.auth.method === 'assumedRole' ? (previous?.externalId ?? newId('ext')) : undefined;
  return { ...destination, auth: auth as Destination['auth'], masks, ...(externalId && { externalId }) };
}

/** The API view of a stored destination: masks in place of sealed values. */
export function presentDestination(row: DestinationRow): Record<string, unknown> {
  const { masks, auth, ...rest } = JSON.parse(row.config) as StoredDestination;
  const shown: Record<string, unknown> = { ...auth };
  for (const path of Object.keys(masks)) {
    const field = path.slice('auth.'.length);
    if (field in shown) shown[field] = masks[path];
  }
  return { id: row.id, ...rest, auth: shown, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The destination with its secrets in the clear: for exporting and testing, nothing else. */
export async function openDestination(env: Env, row: DestinationRow): Promise<StoredDestination> {
  const stored = JSON.parse(row.config) as StoredDestination;
  const auth: Record<string, unknown> = { ...stored.auth };
  for (const path of Object.keys(stored.masks ?? {})) {
    const field = path.slice('auth.'.length);
    const sealed = auth[field];
    if (typeof sealed === 'string') auth[field] = await openSecret(env.SECRETS_KEY, sealed, `${row.id}:${path}`);
  }
  return { ...stored, auth: auth as Destination['auth'] };
}

/** The destination model of a stored destination (masks and the external id set aside). */
export function destinationOf(stored: StoredDestination): Destination {
  const { masks: _masks, externalId: _externalId, ...destination } = stored;
  return destination;
}
