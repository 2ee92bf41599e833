import { createMessage, encrypt, type PublicKey } from 'openpgp';
import * as v from 'valibot';
import { ConfigError, type ConfigIssue, ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { EncryptionStage, RunContext, Runtime } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { armorProblem, encryptionProblem, readPublicKey, toIssue } from './key.ts';

export { inspectPgpKey, validatePgpKey } from './key.ts';

const PLUGIN = 'encryption/pgp';

/**
 * Options of `encryption/pgp`. The synchronous check refuses private keys and non-key text at
 * manifest time; full parsing (expiry, revocation, encryption subkey) is async: `validatePgpKey`.
 */
export const pgpOptions = v.strictObject({
  publicKey: v.pipe(
    v.string('publicKey must be a string holding an ASCII-armored OpenPGP public key'),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const found = armorProblem(dataset.value);
      if (found) addIssue({ ...found, message: toIssue(found).message, input: '[key text withheld]' });
    }),
  ),
});

export type PgpOptions = v.InferInput<typeof pgpOptions>;

/** The PGP stage: a plain encryption stage plus `validate()` for up-front checks (connect, test). */
export interface PgpStage extends EncryptionStage {
  /** Every problem with the key at `now` (none when it can encrypt). Parsing is cached; time checks are not. */
  validate(now?: Date): Promise<readonly ConfigIssue[]>;
}

/**
 * Encrypts each file to the customer's public key as binary OpenPGP (`.gpg`), streamed in constant
 * memory. The key is parsed once, on first use; expiry and revocation are checked at every open.
 *
 * @example pgp({ publicKey }).open(ctx) // { writable: plaintext in, readable: .gpg bytes out }
 */
export function pgp(options: PgpOptions): PgpStage {
  const { publicKey } = parse(pgpOptions, options, `${PLUGIN} options`);
  let parsed: ReturnType<typeof readPublicKey> | undefined;
  const check = async (now: Date) => {
    parsed ??= readPublicKey(publicKey);
    const { key, problem } = await parsed;
    const found = key ? await encryptionProblem(key, now) : problem;
    return { key, issues: found ? [toIssue(found)] : [] };
  };
  return Object.freeze({
    kind: 'encryption',
    name: 'pgp',
    extension: 'gpg',
    contentType: 'application/pgp-encrypted',
    validate: async (now: Date = new Date()) => (await check(now)).issues,
    // Configuration time (API create/update, `validate`): the key parsed, able to encrypt now.
    check: async (runtime: Runtime) => (await check(runtime.now())).issues,
    open: async (ctx: RunContext) => {
      const { key, issues } = await check(ctx.now());
      if (!key || issues.length > 0) throw new ConfigError(issues, `${PLUGIN} options`);
      return encryptStream(key, ctx);
    },
  });
}

/** Plaintext goes into `writable`; binary OpenPGP comes out of `readable` as it is produced. */
async function encryptStream(
  key: PublicKey,
  ctx: RunContext,
): Promise<ReadableWritablePair<Uint8Array, Uint8Array>> {
  const plaintext = new TransformStream<Uint8Array, Uint8Array>();
  try {
    const message = await createMessage({
      binary: plaintext.readable,
      date: ctx.scheduledTime,
      format: 'binary',
    });
    const encrypted = await encrypt({ message, encryptionKeys: key, format: 'binary', date: ctx.now() });
    return { writable: plaintext.writable, readable: encrypted as ReadableStream<Uint8Array> };
  } catch (error) {
    throw new ExportError('ENCRYPTION_FAILED', `${PLUGIN}: could not start encryption`, {
      plugin: PLUGIN,
      stage: 'encryption',
      cause: error,
    });
  }
}

export const plugin = definePlugin({
  name: PLUGIN,
  description: "OpenPGP encryption to the customer's public key: binary .gpg, streamed, readable by GnuPG.",
  options: pgpOptions,
  create: (options) => pgp(options),
});
