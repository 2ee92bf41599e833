/**
 * The least-privilege permission policy a destination's writer needs (the role trust policy is the
 * assumed-role auth's: plugins/auth/assumedRole/trust.ts). Pure functions, plain JSON out.
 */

import type { LifecycleConfiguration, PolicyDocument, PolicyStatement } from '../../../core/types.ts';

export type { LifecycleConfiguration, PolicyDocument, PolicyStatement };

/** Actions evaluated on objects under the folder (`arn:aws:s3:::bucket/prefix*`). */
export const OBJECT_ACTIONS = [
  's3:PutObject',
  's3:GetObject',
  's3:DeleteObject',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
] as const;

/** Actions evaluated on the bucket itself (`arn:aws:s3:::bucket`). */
export const BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'] as const;

const MACRO = /%[A-Z][A-Z0-9_]*%/;

/**
 * The fixed key prefix of a folder path: everything before its first macro, without a leading `/`,
 * ending in `/` when the folder has no macro (so `exports` does not also grant `exports-old/`).
 *
 * @example folderPrefix('/exports/%SEGMENT_ID%') // 'exports/'
 */
export function folderPrefix(folderPath: string): string {
  const match = MACRO.exec(folderPath);
  const fixed = (match ? folderPath.slice(0, match.index) : folderPath).replace(/^\/+/, '');
  if (match || fixed === '' || fixed.endsWith('/')) return fixed;
  return `${fixed}/`;
}

/** Escapes IAM wildcard characters so a folder's literal `*`, `?` or `$` grants nothing wider. */
function iamLiteral(text: string): string {
  return text.replace(/[$*?]/g, (c) => `\${${c}}`);
}

/** ARN of the bucket, the resource of ListBucket and GetBucketLocation. */
export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** ARN pattern of every object a destination may write: `arn:aws:s3:::bucket/prefix*`. */
export function objectArn(bucket: string, folderPath: string): string {
  return `${bucketArn(bucket)}/${iamLiteral(folderPrefix(folderPath))}*`;
}

export interface PermissionPolicyInput {
  readonly bucket: string;
  readonly folderPath: string;
  /** Limit s3:ListBucket to keys under the folder (an `s3:prefix` condition). Defaults to true. */
  readonly restrictListToFolder?: boolean;
  /** The sink sets object tags: AWS then also checks s3:PutObjectTagging. */
  readonly tags?: boolean;
  /** The sink sets a canned ACL: AWS then also checks s3:PutObjectAcl. */
  readonly acl?: boolean;
  /** SSE-KMS key (id or ARN): uploads need kms:GenerateDataKey, multipart also kms:Decrypt. */
  readonly kmsKeyId?: string;
  /** Account and region to turn a bare KMS key id into an ARN; `*` when unknown. */
  readonly kmsAccount?: string;
  readonly region?: string;
}

/**
 * The least-privilege permission policy for writing a destination. GetBucketLocation is granted on
 * the bucket ARN, where AWS evaluates it (the reference page puts it on `bucket/folder/*`, which
 * grants nothing), and AbortMultipartUpload is included so failed multipart uploads can be cleaned up.
 *
 * @example permissionPolicy({ bucket: 'acme-exports', folderPath: 'edge/%SEGMENT_ID%' })
 */
export function permissionPolicy(input: PermissionPolicyInput): PolicyDocument {
  const prefix = folderPrefix(input.folderPath);
  const restrict = (input.restrictListToFolder ?? true) && prefix !== '';
  // A separate statement: an s3:prefix condition on GetBucketLocation would deny it (no prefix there).
  const list: PolicyStatement = {
    Sid: 'ListFolder',
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: bucketArn(input.bucket),
    ...(restrict && { Condition: { StringLike: { 's3:prefix': [`${iamLiteral(prefix)}*`] } } }),
  };
  const objectActions: string[] = [...OBJECT_ACTIONS];
  if (input.tags) objectActions.push('s3:PutObjectTagging');
  if (input.acl) objectActions.push('s3:PutObjectAcl');
  const kms: PolicyStatement[] = input.kmsKeyId
    ? [{ Sid: 'EncryptWithKmsKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: kmsKeyArn(input) }]
    : [];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'WriteObjects',
        Effect: 'Allow',
        Action: objectActions,
        Resource: objectArn(input.bucket, input.folderPath),
      },
      {
        // ListBucketMultipartUploads lets the sink abort uploads orphaned by a lost CreateMultipartUpload answer.
        Sid: 'LocateBucketAndSweepUploads',
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
        Resource: bucketArn(input.bucket),
      },
      list,
      ...kms,
    ],
  };
}

/** A KMS key id as an ARN (`arn:aws:kms:<region>:<account>:key/<id>`); ARNs and aliases pass through. */
function kmsKeyArn(input: PermissionPolicyInput): string {
  const id = input.kmsKeyId!;
  if (id.startsWith('arn:')) return id;
  const resource = id.startsWith('alias/') ? id : `key/${id}`;
  return `arn:aws:kms:${input.region ?? '*'}:${input.kmsAccount ?? '*'}:${resource}`;
}

/**
 * The lifecycle rule to add as a backstop: S3 itself aborts multipart uploads under the folder's
 * fixed prefix `days` after they started (an upload an export could not abort, e.g. without
 * s3:AbortMultipartUpload). The prefix is literal here: lifecycle filters have no wildcards.
 *
 * @example abortIncompleteUploadsRule('exports/%SEGMENT_ID%') // Filter { Prefix: 'exports/' }, 1 day
 */
export function abortIncompleteUploadsRule(folderPath: string, days = 1): LifecycleConfiguration {
  const prefix = folderPrefix(folderPath);
  return {
    Rules: [
      {
        ID: `edge-export-abort-incomplete-uploads${prefix ? ` under ${prefix}` : ''}`.slice(0, 255),
        Status: 'Enabled',
        Filter: { Prefix: prefix },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
      },
    ],
  };
}

/** How the bucket owner adds the rule with awscli, and the one thing to watch (it replaces every rule). */
export function lifecycleNote(target: { readonly bucket: string; readonly endpoint?: string }): string {
  const endpoint = target.endpoint !== undefined ? ` --endpoint-url ${target.endpoint}` : '';
  return (
    'A backstop for multipart uploads an export could not abort: save lifecycleConfiguration as lifecycle.json, then, as the bucket owner, ' +
    `aws s3api put-bucket-lifecycle-configuration --bucket ${target.bucket}${endpoint} --lifecycle-configuration file://lifecycle.json. ` +
    `That call replaces the bucket's whole lifecycle configuration: first merge in the rules it already has (aws s3api get-bucket-lifecycle-configuration --bucket ${target.bucket}${endpoint}).`
  );
}

/** Serialises a policy the way the AWS console shows it (2-space JSON), ready to paste. */
export function policyJson(policy: PolicyDocument): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}
