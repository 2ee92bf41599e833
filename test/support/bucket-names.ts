/**
 * Bucket names against AWS's general purpose bucket naming rules: the examples of AWS's "Bucket
 * naming rules" page (valid, valid but only advisable for static websites, not valid), every
 * reserved prefix and suffix, and near misses on each side of every rule. `reason` is a fragment
 * the refusal's message must contain. Shared by the schema's unit test, and meant for the API and
 * CLI `validate` tests too.
 */
export interface BucketNameCase {
  readonly name: string;
  readonly valid: boolean;
  /** For invalid names: words the message gives as the reason. */
  readonly reason?: string;
}

const LENGTH = '3 to 63 characters';
const CHARS = 'only lowercase letters, digits, dots and hyphens';
const ENDS = 'begins and ends with a lowercase letter or digit';

export const BUCKET_NAMES: readonly BucketNameCase[] = [
  // AWS's examples: valid.
  { name: 'docexamplebucket1', valid: true },
  { name: 'log-delivery-march-2020', valid: true },
  { name: 'my-hosted-content', valid: true },
  // AWS's examples: valid, but advised only for static website hosting (dots).
  { name: 'docexamplewebsite.com', valid: true },
  { name: 'www.docexamplewebsite.com', valid: true },
  { name: 'my.example.s3.bucket', valid: true },
  // AWS's examples: not valid.
  { name: 'doc_example_bucket', valid: false, reason: CHARS },
  { name: 'DocExampleBucket', valid: false, reason: CHARS },
  { name: 'doc-example-bucket-', valid: false, reason: ENDS },
  { name: '192.168.5.4', valid: false, reason: 'IP address' },
  // Length: 3 to 63.
  { name: 'abc', valid: true },
  { name: 'ab', valid: false, reason: LENGTH },
  { name: '', valid: false, reason: LENGTH },
  { name: 'a'.repeat(63), valid: true },
  { name: 'a'.repeat(64), valid: false, reason: LENGTH },
  // Characters.
  { name: 'my bucket', valid: false, reason: CHARS },
  { name: 'bücket', valid: false, reason: CHARS },
  { name: 'bucket/name', valid: false, reason: CHARS },
  // First and last character.
  { name: '-bucket', valid: false, reason: ENDS },
  { name: '.bucket', valid: false, reason: ENDS },
  { name: 'bucket.', valid: false, reason: ENDS },
  { name: '1bucket9', valid: true },
  // Adjacent periods.
  { name: 'my..bucket', valid: false, reason: 'two adjacent periods' },
  { name: 'my.-bucket', valid: true },
  // IP-shaped.
  { name: '10.0.0.1', valid: false, reason: 'IP address' },
  { name: '999.999.999.999', valid: false, reason: 'IP address' },
  { name: '1.2.3', valid: true },
  { name: '192.168.5.4.5', valid: true },
  { name: '192.168.5.4a', valid: true },
  // Reserved prefixes.
  { name: 'xn--bucket', valid: false, reason: 'starting with "xn--"' },
  { name: 'xn-bucket', valid: true },
  { name: 'sthree-bucket', valid: false, reason: 'starting with "sthree-"' },
  { name: 'sthree-configurator', valid: false, reason: 'starting with "sthree-"' },
  { name: 'sthree-configurator-bucket', valid: false, reason: 'starting with "sthree-"' },
  { name: 'sthree', valid: true },
  { name: 'amzn-s3-demo-bucket', valid: false, reason: 'starting with "amzn-s3-demo-"' },
  { name: 'amzn-s3-demo', valid: true },
  // Reserved suffixes.
  { name: 'bucket-s3alias', valid: false, reason: 'ending with "-s3alias"' },
  { name: 'bucket-s3alias-x', valid: true },
  { name: 'bucket--ol-s3', valid: false, reason: 'ending with "--ol-s3"' },
  { name: 'bucket-ol-s3', valid: true },
  { name: 'bucket.mrap', valid: false, reason: 'ending with ".mrap"' },
  { name: 'bucket-mrap', valid: true },
  { name: 'bucket--x-s3', valid: false, reason: 'ending with "--x-s3"' },
  { name: 'bucket-x-s3', valid: true },
  { name: 'bucket--table-s3', valid: false, reason: 'ending with "--table-s3"' },
  { name: 'bucket-table-s3', valid: true },
];
