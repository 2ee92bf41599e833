/**
 * `test-connection` and `policy`: what a user runs before the first export, from the same config
 * file as `export` (its sink/s3 and auth plugins, and its folder path).
 */
import * as v from 'valibot';
import { ConfigError } from '../core/errors.ts';
import type { PluginManifest, Pipeline } from '../core/registry.ts';
import { S3Client } from '../plugins/sink/s3/client.ts';
import type { CredentialProvider } from '../core/types.ts';
import { permissionPolicy, trustPolicy } from '../plugins/sink/s3/policy.ts';
import { type ProbeResult, testConnection } from '../plugins/sink/s3/probe.ts';
import type { Runtime } from '../core/types.ts';
import { parse } from '../core/validate.ts';
import { credentialProvider } from '../core/auth.ts';
import { type S3SinkOptions, s3SinkOptions } from '../plugins/sink/s3/options.ts';

export interface S3Destination {
  readonly options: S3SinkOptions;
  /** Folder under the bucket: the sink's prefix joined with the output folder path. */
  readonly folderPath: string;
}

/** The sink/s3 entry of a plugin manifest, validated; a ConfigError when there is none. */
export function s3Destination(manifest: PluginManifest, folderPath: string): S3Destination {
  const index = manifest.plugins.findIndex((p) => p.use === 'sink/s3');
  if (index < 0) {
    throw new ConfigError([{ path: 'plugins', message: 'no sink/s3 plugin: test-connection and policy need an S3 destination' }], 'export config');
  }
  const options = parse(s3SinkOptions, manifest.plugins[index]!.options, 'sink/s3 options', `plugins[${index}].options`);
  const prefix = options.prefix?.replace(/^\/+|\/+$/g, '');
  return { options, folderPath: [prefix, folderPath.replace(/^\/+/, '')].filter(Boolean).join('/') };
}

/** Probes every permission an export needs; each result names the IAM action and resource. */
export async function runTestConnection(destination: S3Destination, pipeline: Pipeline, runtime: Runtime): Promise<ProbeResult[]> {
  const { options } = destination;
  const ctx = { ...runtime, runId: 'test-connection', scheduledTime: runtime.now() };
  const credentials: CredentialProvider =
    pipeline.auth.length > 0
      ? credentialProvider(pipeline.auth, ctx)
      : async () => {
          if (!options.accessKeyId || !options.secretAccessKey) {
            throw new ConfigError([{ path: 'plugins', message: 'no credentials: add an auth/accessKey or auth/assumedRole plugin' }], 'export config');
          }
          return { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
        };
  const client = new S3Client({
    target: {
      bucket: options.bucket,
      region: options.region,
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.forcePathStyle !== undefined && { forcePathStyle: options.forcePathStyle }),
    },
    credentials,
    fetch: runtime.fetch,
  });
  return testConnection({ client, folderPath: destination.folderPath });
}

const roleOptions = v.object({ roleArn: v.string(), externalId: v.string() });

/**
 * The least-privilege permission policy for the destination and, for assumed roles, the trust
 * policy naming the platform principal and the external id.
 */
export function policies(destination: S3Destination, manifest: PluginManifest, principalArn: string | undefined) {
  const { options } = destination;
  const permission = permissionPolicy({
    bucket: options.bucket,
    folderPath: destination.folderPath,
    tags: options.tags !== undefined && Object.keys(options.tags).length > 0,
    acl: options.acl !== undefined,
    ...(options.kmsKeyId !== undefined && { kmsKeyId: options.kmsKeyId, region: options.region }),
  });
  const role = manifest.plugins.find((p) => p.use === 'auth/assumedRole');
  if (!role) return { permissionPolicy: permission };
  const { roleArn, externalId } = parse(roleOptions, role.options, 'auth/assumedRole options');
  if (!principalArn) {
    throw new ConfigError(
      [{ path: 'principal', message: 'the trust policy needs the platform principal ARN: pass --principal or set EDGE_EXPORT_PLATFORM_PRINCIPAL_ARN' }],
      'policy request',
    );
  }
  return { roleArn, permissionPolicy: permission, trustPolicy: trustPolicy({ platformPrincipalArn: principalArn, externalId }) };
}
