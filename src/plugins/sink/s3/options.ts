/** Valibot schema of `sink/s3` options; every message names what was expected. */
import * as v from 'valibot';
import { confine } from '../../../core/naming.ts';
import { MAX_ECHO } from '../../../core/validate.ts';
import { MIN_PART_SIZE } from './upload.ts';
import { accessKeyIdSchema, secretSchema } from '../../auth/credentials.ts';

const IP_LIKE = /^\d{1,3}(\.\d{1,3}){3}$/;
/** Prefixes AWS reserves (`sthree-` also covers `sthree-configurator`). */
export const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
/** Suffixes AWS reserves, with what they are reserved for. */
export const RESERVED_BUCKET_SUFFIXES = {
  '-s3alias': 'access point aliases',
  '--ol-s3': 'Object Lambda Access Point aliases',
  '.mrap': 'Multi-Region Access Points',
  '--x-s3': 'directory buckets',
  '--table-s3': 'S3 table buckets',
} as const;

/**
 * Every rule of AWS's general purpose bucket naming, each refusal saying which rule the name breaks
 * (all broken rules are reported at once).
 *
 * @example v.parse(bucketSchema, 'acme-exports') // 'acme-exports'
 */
/**
 * What a bucket name holds besides `a-z 0-9 . -`: the characters themselves when the name is short
 * enough to quote (MAX_ECHO), else only their kinds, so a secret pasted here is not spelled out.
 */
function otherCharacters(name: string): string {
  const others = [...new Set(name.replace(/[a-z0-9.-]/g, ''))].join('');
  if (name.length <= MAX_ECHO) return JSON.stringify(others);
  const kinds = [
    /[A-Z]/.test(others) && 'upper-case letters',
    /_/.test(others) && 'underscores',
    /\s/.test(others) && 'spaces',
    /[^A-Z_\s]/.test(others) && 'other characters',
  ].filter(Boolean);
  return kinds.join(', ');
}

export const bucketSchema = v.pipe(
  v.string('Expected the bucket name as a string'),
  v.check(
    (b) => b.length >= 3 && b.length <= 63,
    (issue) => `Expected a bucket name of 3 to 63 characters, got ${(issue.input as string).length}`,
  ),
  v.check(
    (b) => /^[a-z0-9.-]*$/.test(b),
    (issue) => `Expected only lowercase letters, digits, dots and hyphens in a bucket name, got ${otherCharacters(issue.input as string)}`,
  ),
  v.check(
    (b) => b === '' || (/^[a-z0-9]/.test(b) && /[a-z0-9]$/.test(b)),
    'Expected a bucket name that begins and ends with a lowercase letter or digit',
  ),
  v.check((b) => !b.includes('..'), 'Expected a bucket name without two adjacent periods ("..")'),
  v.check(
    (b) => !IP_LIKE.test(b),
    'Expected a bucket name not formatted as an IP address (such as 192.168.5.4)',
  ),
  v.check(
    (b) => !RESERVED_BUCKET_PREFIXES.some((prefix) => b.startsWith(prefix)),
    (issue) => {
      const prefix = RESERVED_BUCKET_PREFIXES.find((p) => (issue.input as string).startsWith(p));
      return `Expected a bucket name not starting with "${prefix}": AWS reserves that prefix`;
    },
  ),
  v.check(
    (b) => !Object.keys(RESERVED_BUCKET_SUFFIXES).some((suffix) => b.endsWith(suffix)),
    (issue) => {
      const [suffix, use] = Object.entries(RESERVED_BUCKET_SUFFIXES).find(([s]) =>
        (issue.input as string).endsWith(s),
      )!;
      return `Expected a bucket name not ending with "${suffix}": AWS reserves that suffix for ${use}`;
    },
  ),
);

/** Multipart sizing when neither the options nor the host say otherwise. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 4;

const CANNED_ACLS = [
  'private',
  'bucket-owner-full-control',
  'bucket-owner-read',
  'authenticated-read',
  'public-read',
  'aws-exec-read',
] as const;
const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
  'REDUCED_REDUNDANCY',
  'EXPRESS_ONEZONE',
] as const;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export const s3SinkOptions = v.pipe(
  v.strictObject({
    bucket: bucketSchema,
    region: v.optional(
      v.pipe(v.string(), v.regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'Expected an AWS region like us-east-1')),
      'us-east-1',
    ),
    endpoint: v.optional(
      v.pipe(
        v.string(),
        v.url('Expected an http(s) URL'),
        v.regex(/^https?:\/\//, 'Expected an http(s) URL'),
      ),
    ),
    forcePathStyle: v.optional(v.boolean()),
    /** Check once with GetBucketLocation that the bucket is in `region` (stores that ignore regions may need false). */
    verifyRegion: v.optional(v.boolean(), true),
    /** Folder prepended to every key. */
    prefix: v.optional(
      v.pipe(
        v.string(),
        v.check(
          (p) => p === '' || isConfined(p.replace(/\/+$/, '')),
          'Expected a prefix of plain segments: no leading "/", no "." or ".." segment, no "//", no backslash',
        ),
      ),
    ),
    sse: v.optional(v.picklist(['AES256', 'aws:kms'], 'Expected "AES256" (SSE-S3) or "aws:kms" (SSE-KMS)')),
    kmsKeyId: v.optional(v.pipe(v.string(), v.minLength(1))),
    acl: v.optional(v.picklist(CANNED_ACLS, `Expected a canned ACL: ${CANNED_ACLS.join(', ')}`)),
    storageClass: v.optional(
      v.picklist(STORAGE_CLASSES, `Expected a storage class: ${STORAGE_CLASSES.join(', ')}`),
    ),
    tags: v.optional(
      v.pipe(
        v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(128)), v.pipe(v.string(), v.maxLength(256))),
        v.check((t) => Object.keys(t).length <= 10, 'Expected at most 10 object tags'),
      ),
    ),
    metadata: v.optional(
      v.record(
        v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, 'Expected letters, digits and hyphens')),
        v.pipe(v.string(), v.regex(PRINTABLE_ASCII, 'Expected printable ASCII')),
      ),
    ),
    /** Bytes per multipart part; default: the host's sizing, else DEFAULT_PART_SIZE. */
    partSize: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(MIN_PART_SIZE, 'Expected at least 5 MiB (5242880 bytes)'),
        v.maxValue(5 * 1024 ** 3),
      ),
    ),
    /** Parts in flight; default: the host's sizing, else DEFAULT_CONCURRENCY. */
    concurrency: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(64))),
    multipartThreshold: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    accessKeyId: v.optional(accessKeyIdSchema),
    secretAccessKey: v.optional(secretSchema('secret access key')),
    sessionToken: v.optional(secretSchema('session token')),
  }),
  v.forward(
    v.check(
      (o) => o.kmsKeyId === undefined || o.sse === 'aws:kms',
      'Expected sse "aws:kms" when kmsKeyId is set',
    ),
    ['kmsKeyId'],
  ),
  v.forward(
    v.check(
      (o) => (o.accessKeyId === undefined) === (o.secretAccessKey === undefined),
      'Expected accessKeyId and secretAccessKey together',
    ),
    ['secretAccessKey'],
  ),
);

export type S3SinkOptions = v.InferOutput<typeof s3SinkOptions>;
export type S3SinkInput = v.InferInput<typeof s3SinkOptions>;

/** The same confinement as object keys (core/naming.ts `confine`), as a boolean. */
function isConfined(prefix: string): boolean {
  try {
    confine(prefix);
    return true;
  } catch {
    return false;
  }
}
