/** Object keys, URLs and ARNs: how a key travels on the wire and how IAM names it. */

/** RFC 3986 encoding of one key segment: encodeURIComponent plus `!'()*`. */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Encodes an object key for a URL path, segment by segment, so that `+`, spaces, unicode and
 * `( ' ! *` reach S3 (and the SigV4 canonical request) exactly as written.
 *
 * @example encodeKey('a b/c+d.csv') // 'a%20b/c%2Bd.csv'
 */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeSegment).join('/');
}

/** A query string in canonical SigV4 form (RFC 3986, sorted), so the signed and sent URLs agree. */
export function encodeQuery(query: Readonly<Record<string, string>> | undefined): string {
  if (!query) return '';
  const pairs = Object.entries(query)
    .map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`)
    .sort();
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** The AWS partition of a region, for ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The IAM resource an S3 request acts on: the object ARN when a key is given, else the bucket ARN. */
export function resourceArn(bucket: string, region: string, key?: string): string {
  const base = `arn:${partitionOf(region)}:s3:::${bucket}`;
  return key === undefined ? base : `${base}/${key}`;
}
