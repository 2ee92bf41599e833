/**
 * How a destination is kept: its secret fields sealed (AES-GCM, bound to destination id and field),
 * a mask kept beside each so responses can show `****ABCD` without decrypting, and an external id
 * generated once for assumed roles. Only the queue consumer ever opens the sealed values.
 */
import { ConfigError } from '../core/errors.ts';
import { checkEndpoint } from '../core/security/ssrf.ts';
import { maskSecret, openSecret, sealSecret } from '../core/security/secrets.ts';
import { endpointPolicy, type Env } from './env.ts';
import type { DestinationInput } from './schemas.ts';
import { newId } from './store/db.ts';
import type { DestinationRow } from './store/resources.ts';

type Auth = DestinationInput['auth'];
/** The stored form: secrets sealed, masks beside them. */
export type StoredDestination = Omit<DestinationInput, 'auth'> & {
  auth: Auth;
  masks: Record<string, string>;
  externalId?: string;
};

const SECRET_FIELDS = ['secretAccessKey', 'sessionToken'] as const;

/** Validates what cannot be checked by the schema (SSRF) and seals the secrets of a new or updated destination. */
export async function sealDestination(
  env: Env,
  id: string,
  input: DestinationInput,
  previous?: StoredDestination,
): Promise<StoredDestination> {
  if (input.endpoint !== undefined) checkEndpoint(input.endpoint, 'endpoint', endpointPolicy(env));
  const masks: Record<string, string> = {};
  let auth: Auth = input.auth;
  if (auth.method === 'accessKey') {
    auth = { ...auth };
    if (auth.secretAccessKey === undefined) {
      // An update without the secret keeps the stored key pair's secrets.
      if (previous?.auth.method !== 'accessKey' || previous.auth.secretAccessKey === undefined) {
        throw new ConfigError(
          [
            {
              path: 'auth.secretAccessKey',
              message: 'auth.secretAccessKey: required',
              expected: 'the secret access key',
            },
          ],
          'destination',
        );
      }
      for (const field of SECRET_FIELDS) {
        const kept = previous.auth[field];
        if (kept !== undefined) {
          auth[field] = kept;
          masks[`auth.${field}`] = previous.masks[`auth.${field}`] ?? '****';
        }
      }
    } else {
      for (const field of SECRET_FIELDS) {
        const plain = auth[field];
        if (plain === undefined) continue;
        auth[field] = await sealSecret(env.SECRETS_KEY, plain, `${id}:auth.${field}`);
        masks[`auth.${field}`] = maskSecret(plain);
      }
    }
  }
  const externalId = input.auth.method === 'assumedRole' ? (previous?.externalId ?? newId('ext')) : undefined;
  return { ...input, auth, masks, ...(externalId && { externalId }) };
}

/** The API view of a stored destination: masks in place of sealed values. */
export function presentDestination(row: DestinationRow): Record<string, unknown> {
  const { masks, auth, ...rest } = JSON.parse(row.config) as StoredDestination;
  const shown: Record<string, unknown> = { ...auth };
  for (const field of SECRET_FIELDS) if (field in shown) shown[field] = masks[`auth.${field}`] ?? '****';
  return { id: row.id, ...rest, auth: shown, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The destination with its secrets in the clear: for building the export pipeline, nothing else. */
export async function openDestination(env: Env, row: DestinationRow): Promise<StoredDestination> {
  const stored = JSON.parse(row.config) as StoredDestination;
  if (stored.auth.method !== 'accessKey') return stored;
  const auth = { ...stored.auth };
  for (const field of SECRET_FIELDS) {
    const sealed = auth[field];
    if (sealed !== undefined)
      auth[field] = await openSecret(env.SECRETS_KEY, sealed, `${row.id}:auth.${field}`);
  }
  return { ...stored, auth };
}
