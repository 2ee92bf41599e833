import * as v from 'valibot';
import { ConfigError, type ConfigIssue } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import { type AssumeRoleParams, CredentialCache, assumeRole } from './sts.ts';
import { checkEndpoint, type EndpointPolicy, endpointIssues, type ResolveHost } from '../../../core/security/ssrf.ts';
import type { AuthStage, Credentials, RunContext } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { keyPairSchema } from '../credentials.ts';
import { trustPolicy } from './trust.ts';

/** `arn:aws:iam::<12 digits>:role/<optional path/><name>`, the name ≤ 64 chars of `\w+=,.@-`. */
export const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

/** Options of `auth/assumedRole`. */
export const assumedRoleOptions = v.strictObject({
  roleArn: v.pipe(
    v.string(),
    v.regex(
      ROLE_ARN,
      'Expected a role ARN arn:aws:iam::<12-digit account>:role/<name>, the name 1–64 characters of letters, digits and +=,.@-_',
    ),
  ),
  /** Given to the customer for their trust policy; AWS allows 2–1224 chars of `\w+=,.@:/-`. */
  externalId: v.pipe(
    v.string(),
    v.regex(
      /^[\w+=,.@:/-]{2,1224}$/,
      'Expected an external id of 2–1224 characters of letters, digits and +=,.@:/-_',
    ),
  ),
  roleSessionName: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^[\w+=,.@-]{2,64}$/,
        'Expected a session name of 2–64 characters of letters, digits and +=,.@-_',
      ),
    ),
    'edge-export',
  ),
  durationSeconds: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(900, 'Expected at least 900 seconds'),
      v.maxValue(43200, 'Expected at most 43200 seconds'),
    ),
    3600,
  ),
  /** Refresh this long before expiry; below STS's 900 s minimum lifetime so credentials are used at all. */
  refreshSkewSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(600)), 300),
  stsEndpoint: v.optional(
    v.pipe(v.string(), v.url('Expected an STS endpoint URL like https://sts.eu-west-1.amazonaws.com')),
  ),
  stsRegion: v.optional(
    v.pipe(v.string(), v.regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, 'Expected an AWS region like eu-west-1')),
    'us-east-1',
  ),
  /** The platform's own credentials; normally taken from the host environment instead. */
  platformCredentials: v.optional(keyPairSchema),
});

export type AssumedRoleOptions = v.InferInput<typeof assumedRoleOptions>;

/** Host environment variables holding the platform identity that calls AssumeRole. */
export const PLATFORM_ENV = {
  accessKeyId: 'EDGE_EXPORT_AWS_ACCESS_KEY_ID',
  secretAccessKey: 'EDGE_EXPORT_AWS_SECRET_ACCESS_KEY',
  sessionToken: 'EDGE_EXPORT_AWS_SESSION_TOKEN',
} as const;

/** The platform credentials from options, else from the host environment; undefined if neither. */
export function platformCredentials(
  options: { platformCredentials?: Credentials | undefined },
  env: Readonly<Record<string, string | undefined>>,
): Credentials | undefined {
  if (options.platformCredentials) return options.platformCredentials;
  const accessKeyId = env[PLATFORM_ENV.accessKeyId];
  const secretAccessKey = env[PLATFORM_ENV.secretAccessKey];
  const sessionToken = env[PLATFORM_ENV.sessionToken];
  if (accessKeyId && secretAccessKey)
    return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  return undefined;
}

const NO_PLATFORM_IDENTITY: ConfigIssue = {
  path: 'platformCredentials',
  message: `The platform identity that assumes roles is not configured: set ${PLATFORM_ENV.accessKeyId} and ${PLATFORM_ENV.secretAccessKey} in the host environment`,
  expected: 'platform AWS credentials',
  received: 'none',
};

/**
 * Assumes the customer's role with the platform's credentials and hands out the temporary ones,
 * cached until `refreshSkewSeconds` before expiry so a long export keeps signing with live keys.
 * One AssumeRole is shared by all concurrent callers. STS is called at its regional endpoint for
 * `stsRegion` (AWS's recommendation), or at `stsEndpoint` when given. The platform identity is
 * looked up when credentials are first needed, so policies and checks work without it.
 *
 * @example assumedRole({ roleArn: 'arn:aws:iam::123456789012:role/exports', externalId: 'dest-1' }, platform.env)
 */
export function assumedRole(
  input: AssumedRoleOptions,
  env: Readonly<Record<string, string | undefined>> = {},
  endpoints?: EndpointPolicy,
  resolveHost?: ResolveHost,
): AuthStage {
  const options = parse(assumedRoleOptions, input, 'auth/assumedRole options');
  // A custom STS endpoint is a URL the platform calls on the customer's say: the host's SSRF policy applies.
  if (options.stsEndpoint !== undefined && endpoints) checkEndpoint(options.stsEndpoint, 'stsEndpoint', endpoints);
  const cache = new CredentialCache(options.refreshSkewSeconds * 1000);
  const params: AssumeRoleParams = {
    roleArn: options.roleArn,
    roleSessionName: options.roleSessionName,
    externalId: options.externalId,
    durationSeconds: options.durationSeconds,
  };
  const load = (ctx: RunContext) => async () => {
    const platform = platformCredentials(options, env);
    if (!platform) throw new ConfigError([NO_PLATFORM_IDENTITY], 'auth/assumedRole options');
    return assumeRole(
      {
        credentials: platform,
        fetch: ctx.fetch,
        now: () => ctx.now(),
        endpoint: options.stsEndpoint ?? stsEndpointOf(options.stsRegion),
        region: options.stsRegion,
      },
      params,
    );
  };
  return Object.freeze({
    kind: 'auth',
    name: 'assumedRole',
    credentials: (ctx: RunContext, opts?: { forceRefresh?: boolean }) =>
      cache.get(ctx.now(), load(ctx), opts?.forceRefresh),
    check: async () => [
      ...(platformCredentials(options, env) ? [] : [NO_PLATFORM_IDENTITY]),
      // A custom STS endpoint's addresses, resolved where the host can (the fetch checks again).
      ...(options.stsEndpoint !== undefined && endpoints
        ? await endpointIssues(options.stsEndpoint, 'stsEndpoint', endpoints, resolveHost)
        : []),
    ],
    trustPolicy: (principalArn: string) => trustPolicy({ platformPrincipalArn: principalArn, externalId: options.externalId }),
    toJSON: () => ({
      kind: 'auth',
      name: 'assumedRole',
      roleArn: options.roleArn,
      externalId: options.externalId,
    }),
  });
}

/** STS's regional endpoint (AWS recommends regional over the global `sts.amazonaws.com`). */
export function stsEndpointOf(region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sts.${region}.${suffix}/`;
}

export const plugin = definePlugin({
  name: 'auth/assumedRole',
  description: "Assumes the customer's IAM role (with an external id) using the platform's own AWS identity.",
  options: assumedRoleOptions,
  secrets: ['platformCredentials.secretAccessKey', 'platformCredentials.sessionToken'],
  create: (options, platform) =>
    assumedRole(
      options,
      platform.env,
      platform.endpoints,
      platform.resolveHost && ((name: string) => platform.resolveHost!(name)),
    ),
});
