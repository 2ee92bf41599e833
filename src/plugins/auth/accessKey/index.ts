import type * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { AuthStage, Credentials } from '../../../core/types.ts';
import { keyPairSchema } from '../credentials.ts';

/** Options of `auth/accessKey`: the customer's own IAM user key pair (session token optional). */
export const accessKeyOptions = keyPairSchema;

export type AccessKeyOptions = v.InferOutput<typeof accessKeyOptions>;

/**
 * Signs with a fixed key pair the customer gave us. The stage never prints the secret: its
 * `toJSON` shows only the key id, so logging the stage is safe.
 *
 * @example accessKey({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: '…' })
 */
export function accessKey(options: AccessKeyOptions): AuthStage {
  const credentials: Credentials = Object.freeze({
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    ...(options.sessionToken !== undefined && { sessionToken: options.sessionToken }),
  });
  return Object.freeze({
    kind: 'auth',
    name: 'accessKey',
    credentials: async () => credentials,
    toJSON: () => ({ kind: 'auth', name: 'accessKey', accessKeyId: options.accessKeyId }),
  });
}

export const plugin = definePlugin({
  name: 'auth/accessKey',
  description: 'Access key id + secret access key of an IAM user allowed to write the destination folder.',
  options: accessKeyOptions,
  secrets: ['secretAccessKey', 'sessionToken'],
  create: (options) => accessKey(options),
});
