/** Bucket-level checks made once before uploading. */
import { ExportError } from '../../../core/errors.ts';
import type { S3Client } from './client.ts';
import { xmlValue } from '../../../core/xml.ts';

/** GetBucketLocation's answer as a region name ('' is us-east-1, 'EU' is eu-west-1). */
export function locationToRegion(constraint: string | undefined): string {
  if (!constraint) return 'us-east-1';
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

/**
 * Fails early with S3_WRONG_REGION when the bucket lives in another region than configured
 * (S3-compatible stores and moto accept any region, so the mistake would otherwise go unnoticed
 * until AWS rejects it). Lacking s3:GetBucketLocation only skips the check.
 */
export async function verifyBucketRegion(client: S3Client, signal?: AbortSignal): Promise<void> {
  let xml: string;
  try {
    const res = await client.request({
      action: 's3:GetBucketLocation',
      method: 'GET',
      query: { location: '' },
      ...(signal && { signal }),
    });
    xml = await res.text();
  } catch (error) {
    if (error instanceof ExportError && error.code === 'S3_ACCESS_DENIED') return;
    throw error;
  }
  const { bucket, region } = client.target;
  const actual = locationToRegion(xmlValue(xml, 'LocationConstraint')?.trim());
  if (actual !== region) {
    throw new ExportError(
      'S3_WRONG_REGION',
      `Bucket "${bucket}" is in region ${actual}, not ${region}: set the destination's region to ${actual}.`,
      {
        stage: 'sink',
        details: { action: 's3:GetBucketLocation', bucketRegion: actual, configuredRegion: region },
      },
    );
  }
}
