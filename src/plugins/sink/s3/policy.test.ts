import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trustPolicy } from '../../auth/assumedRole/trust.ts';
import { abortIncompleteUploadsRule, folderPrefix, objectArn, permissionPolicy, policyJson } from './policy.ts';

const golden = (name: string) =>
  readFileSync(new URL(`../../../../fixtures/iam/${name}`, import.meta.url), 'utf8');

describe('permissionPolicy', () => {
  it('grants object actions under the folder prefix up to the first macro (golden)', () => {
    const policy = permissionPolicy({
      bucket: 'acme-exports',
      folderPath: '/edge/audiences/%SEGMENT_NAME%/%SEGMENT_ID%',
    });
    expect(policyJson(policy)).toBe(golden('permission-policy-macro.json'));
  });

  it('grants the whole bucket when the folder is empty, with no prefix condition (golden)', () => {
    expect(policyJson(permissionPolicy({ bucket: 'acme-exports', folderPath: '' }))).toBe(
      golden('permission-policy-root.json'),
    );
  });

  it('puts GetBucketLocation, ListBucket and ListBucketMultipartUploads on the bucket ARN, never on objects', () => {
    const policy = permissionPolicy({ bucket: 'b', folderPath: 'f' });
    const onBucket = policy.Statement.filter((s) => s.Resource === 'arn:aws:s3:::b').flatMap((s) => s.Action);
    expect(onBucket.sort()).toEqual(['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads']);
    const onObjects = policy.Statement.find((s) => s.Resource === 'arn:aws:s3:::b/f/*');
    expect(onObjects?.Action).toContain('s3:AbortMultipartUpload');
    expect(onObjects?.Action).not.toContain('s3:GetBucketLocation');
  });

  it('can leave ListBucket unconditioned', () => {
    const policy = permissionPolicy({ bucket: 'b', folderPath: 'f/', restrictListToFolder: false });
    expect(policy.Statement.every((s) => s.Condition === undefined)).toBe(true);
  });
});

describe('folderPrefix', () => {
  it.each([
    ['exports', 'exports/'],
    ['/exports/', 'exports/'],
    ['a/b/%SEGMENT_ID%', 'a/b/'],
    ['a/run-%SEGMENT_ID%', 'a/run-'],
    ['%SEGMENT_NAME%', ''],
    ['', ''],
    ['100%/x', '100%/x/'],
  ])('%j → %j', (folder, prefix) => {
    expect(folderPrefix(folder)).toBe(prefix);
  });

  it('escapes IAM wildcards that occur literally in the folder', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${*} ${?} ${$} are IAM's literal-character escapes
    expect(objectArn('b', 'q?/*/$x')).toBe('arn:aws:s3:::b/q${?}/${*}/${$}x/*');
  });
});

describe('trustPolicy', () => {
  it('allows only the platform principal with the external id (golden)', () => {
    const policy = trustPolicy({
      platformPrincipalArn: 'arn:aws:iam::123456789012:user/edge-export-platform',
      externalId: 'dest-7f3a9c2e',
    });
    expect(policyJson(policy)).toBe(golden('trust-policy.json'));
  });
});

describe('permissionPolicy extras', () => {
  it('adds tagging, ACL and KMS permissions only when the sink uses them', () => {
    const plain = permissionPolicy({ bucket: 'b', folderPath: 'f' });
    expect(JSON.stringify(plain)).not.toMatch(/PutObjectTagging|PutObjectAcl|kms:/);
    const full = permissionPolicy({ bucket: 'b', folderPath: 'f', tags: true, acl: true, kmsKeyId: '1234abcd', region: 'eu-west-1' });
    expect(full.Statement[0]!.Action).toEqual(expect.arrayContaining(['s3:PutObjectTagging', 's3:PutObjectAcl']));
    expect(full.Statement.at(-1)).toEqual({
      Sid: 'EncryptWithKmsKey',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: 'arn:aws:kms:eu-west-1:*:key/1234abcd',
    });
  });
});

describe('abortIncompleteUploadsRule', () => {
  it('aborts uploads under the folder prefix (literal, up to the first macro) after a day', () => {
    expect(abortIncompleteUploadsRule('/edge/audiences/%SEGMENT_ID%')).toEqual({
      Rules: [
        {
          ID: 'edge-export-abort-incomplete-uploads under edge/audiences/',
          Status: 'Enabled',
          Filter: { Prefix: 'edge/audiences/' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    // Lifecycle prefixes have no wildcards: a folder's literal `*` stays as it is (unlike in IAM).
    expect(abortIncompleteUploadsRule('odd*name', 3).Rules[0]).toMatchObject({
      Filter: { Prefix: 'odd*name/' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
    });
    expect(abortIncompleteUploadsRule('').Rules[0]).toMatchObject({ ID: 'edge-export-abort-incomplete-uploads', Filter: { Prefix: '' } });
  });
});
