import { describe, expect, it } from 'vitest';
import { builtinPlugins } from '../../plugins/index.ts';
import { Registry } from '../registry.ts';
import { snapshotAuthIssues, snapshotSourceIssues, toSnapshotSource } from './schema.ts';

const auth = {
  method: 'accessKey',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const valid = {
  name: 'CRM',
  format: 'parquet',
  location: { type: 's3', bucket: 'acme-lake', prefix: 'crm/', auth },
};
const registry = new Registry(builtinPlugins);

const problems = (input: unknown) => snapshotSourceIssues(input).issues.map((i) => `${i.path}: ${i.message}`);

describe('snapshotSourceSchema', () => {
  it('accepts an S3 prefix with defaults and turns it into the reading half', () => {
    const { source, issues } = snapshotSourceIssues({
      ...valid,
      hivePartitioning: true,
      idColumn: 'user_id',
      rowsPerTask: 100_000,
    });
    expect(issues).toEqual([]);
    expect(source?.location).toMatchObject({ type: 's3', region: 'us-east-1', prefix: 'crm/' });
    expect(toSnapshotSource(source!)).toEqual({
      format: 'parquet',
      prefix: 'crm/',
      hivePartitioning: true,
      idColumn: 'user_id',
      rowsPerTask: 100_000,
    });
    expect(snapshotAuthIssues(source!.location, registry)).toEqual([]);
  });

  it('accepts an R2 key, and CSV options for CSV with their defaults', () => {
    const { source, issues } = snapshotSourceIssues({
      name: 'r2',
      format: 'csv',
      location: { type: 'r2', binding: 'SNAPSHOTS', key: 'crm/all.csv' },
      csv: { delimiter: ';' },
    });
    expect(issues).toEqual([]);
    expect(toSnapshotSource(source!)).toMatchObject({
      format: 'csv',
      key: 'crm/all.csv',
      csv: { delimiter: ';', header: true },
    });
    expect(snapshotAuthIssues(source!.location, registry)).toEqual([]);
  });

  it('needs exactly one of key and prefix, named at the field', () => {
    expect(problems({ ...valid, location: { type: 's3', bucket: 'acme-lake', auth } })).toEqual([
      'location.key: give key (one object) or prefix (a folder of objects)',
    ]);
    expect(problems({ ...valid, location: { ...valid.location, key: 'a.parquet' } })).toEqual([
      'location.prefix: give key or prefix, not both',
    ]);
  });

  it('names every bad field with what was expected', () => {
    const out = problems({
      name: '',
      format: 'parket',
      location: { type: 's3', bucket: 'Acme', prefix: '../up', auth, regoin: 'eu-west-1' },
      rowsPerTask: 10,
      csv: { delimiter: ';' },
    });
    expect(out).toEqual(
      expect.arrayContaining([
        'name: must not be empty',
        expect.stringMatching(/^format: expected "parquet", "ndjson", "csv".*did you mean "parquet"/),
        expect.stringMatching(/^location.bucket: Expected only lowercase letters/),
        expect.stringMatching(/^location.prefix: expected plain path segments/),
        expect.stringMatching(/^location.regoin: unknown field.*did you mean "region"/),
        'rowsPerTask: at least 1000',
      ]),
    );
  });

  it('refuses CSV options for other formats, and an unknown location type', () => {
    expect(problems({ ...valid, csv: { delimiter: ';' } })).toEqual([
      'csv: options apply to format "csv" only',
    ]);
    expect(problems({ ...valid, location: { type: 'gcs', bucket: 'x' } })).toEqual([
      expect.stringMatching(/^location.type: expected "s3" or "r2"/),
    ]);
    expect(problems({ ...valid, format: 'csv', csv: { delimter: ';' } })).toEqual([
      expect.stringMatching(/^csv.delimter: .*did you mean "delimiter"/),
    ]);
  });

  it('has the auth plugin check its options, never echoing a secret', () => {
    const secret = 'x'.repeat(40);
    const bad = { ...valid.location, auth: { method: 'accessKey', accessKeyId: secret } };
    const issues = snapshotAuthIssues(
      snapshotSourceIssues({ ...valid, location: bad }).source!.location,
      registry,
    );
    expect(issues.map((i) => i.path).sort()).toEqual([
      'location.auth.accessKeyId',
      'location.auth.secretAccessKey',
    ]);
    expect(JSON.stringify(issues)).not.toContain(secret);
    const unknown = { ...valid.location, auth: { method: 'accesKey' } };
    expect(
      snapshotAuthIssues(snapshotSourceIssues({ ...valid, location: unknown }).source!.location, registry),
    ).toEqual([
      expect.objectContaining({
        path: 'location.auth.method',
        message: expect.stringMatching(/did you mean "accessKey"/),
      }),
    ]);
  });
});
