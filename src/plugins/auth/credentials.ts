/**
 * Valibot schemas for AWS key pairs, shared by the auth plugins. Validation messages describe a bad
 * value by its length only, so a secret pasted into the wrong field is never echoed back.
 */
import * as v from 'valibot';

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/** Describes a value without revealing it. */
function redacted(value: unknown): string {
  return typeof value === 'string' ? `a ${value.length}-character string` : typeof value;
}

/** An access key id: 16–128 upper-case letters and digits (`AKIA…`, `ASIA…`). */
export const accessKeyIdSchema = v.pipe(
  v.string('Expected the access key id as a string'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.typed && !ACCESS_KEY_ID.test(dataset.value)) {
      addIssue({
        message: 'Expected an access key id of 16–128 upper-case letters and digits (like AKIA…)',
        expected: '/^[A-Z0-9]{16,128}$/',
        received: redacted(dataset.value),
        input: '[redacted]',
      });
    }
  }),
);

/** A secret that must be present; its content is never reported. */
export function secretSchema(what: string) {
  return v.pipe(
    v.string(`Expected the ${what} as a string`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (dataset.typed && dataset.value.trim() === '') {
        addIssue({
          message: `Expected a non-empty ${what}`,
          expected: 'non-empty string',
          received: 'an empty string',
          input: '',
        });
      }
    }),
  );
}

/** An access key pair, with the session token of temporary credentials when there is one. */
export const keyPairSchema = v.strictObject({
  accessKeyId: accessKeyIdSchema,
  secretAccessKey: secretSchema('secret access key'),
  sessionToken: v.optional(secretSchema('session token')),
});
