/**
 * Runs in Node before the workerd tests: starts moto (S3/IAM with auth enforced), creates the bucket
 * and a least-privilege IAM user holding exactly the policy edge-export generates for the e2e
 * destination, and hands endpoint and keys to the tests through `provide` / `inject('moto')`.
 */
import type { TestProject } from 'vitest/node';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { createBucket, createUser, startMoto } from '../harness/moto.ts';

export const E2E_BUCKET = 'edge-e2e';
/** Every e2e destination writes under this folder; tests use sub-folders of it. */
export const E2E_FOLDER = 'exports/';

export interface MotoContext {
  endpoint: string;
  bucket: string;
  folder: string;
  admin: { accessKeyId: string; secretAccessKey: string };
  /** Holds `permissionPolicy({bucket, folderPath: folder})` and nothing else. */
  writer: { accessKeyId: string; secretAccessKey: string };
  /** Holds the same policy without s3:DeleteObject: test connection must name what is missing. */
  noDelete: { accessKeyId: string; secretAccessKey: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    moto: MotoContext;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  try {
    await createBucket(moto, E2E_BUCKET);
    const policy = permissionPolicy({ bucket: E2E_BUCKET, folderPath: E2E_FOLDER });
    const writer = await createUser(moto, 'e2e-writer', policy);
    const [objects, ...rest] = policy.Statement;
    const withoutDelete = {
      ...policy,
      Statement: [
        { ...objects!, Action: (objects!.Action as string[]).filter((a) => a !== 's3:DeleteObject') },
        ...rest,
      ],
    };
    const noDelete = await createUser(moto, 'e2e-no-delete', withoutDelete);
    await moto.enableAuth();
    project.provide('moto', {
      endpoint: moto.endpoint,
      bucket: E2E_BUCKET,
      folder: E2E_FOLDER,
      admin: moto.admin,
      writer: { accessKeyId: writer.accessKeyId, secretAccessKey: writer.secretAccessKey },
      noDelete: { accessKeyId: noDelete.accessKeyId, secretAccessKey: noDelete.secretAccessKey },
    });
  } catch (error) {
    await moto.stop();
    throw error;
  }
  return () => moto.stop();
}
