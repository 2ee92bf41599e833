/**
 * Test harness: a real moto_server on loopback with SigV4 and IAM policies enforced.
 *
 * startMoto() launches test/harness/moto_launcher.py (moto plus a fix for its URL-decoding flaw),
 * which binds a free port on 127.0.0.1 and reports it; an admin IAM user is created while auth is
 * still off, so the harness can keep setting things up after enableAuth().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import Papa from 'papaparse';
import { keyPair, writerPolicy } from './data.ts';

export interface MotoCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Moto {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  region: 'us-east-1';
  /** Full-access IAM user; valid before and after auth is enforced. */
  admin: MotoCredentials;
  /** Turns on signature and IAM policy checks for every following request. */
  enableAuth(): Promise<void>;
  /** Stops the server (by pid) and waits for it to exit. */
  stop(): Promise<void>;
}

const LAUNCHER = fileURLToPath(new URL('./moto_launcher.py', import.meta.url));
const ADMIN_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

/** Starts moto on a free loopback port with auth off, and creates the admin user. */
export async function startMoto(): Promise<Moto> {
  const child = spawn('python3', [LAUNCHER, '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let port: number;
  try {
    port = await readPort(child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await resetAuth(endpoint, 'inf');
    const admin = await createAdmin(endpoint);
    return { endpoint, region: 'us-east-1', admin, enableAuth: () => resetAuth(endpoint, '0'), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves with the port the launcher prints once it is listening. */
function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`moto launcher exited (${code}) before listening:\n${stderr()}`)),
    );
    child.once('error', reject);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

async function resetAuth(endpoint: string, count: 'inf' | '0'): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset-auth`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: count,
  });
  if (!res.ok) throw new Error(`moto reset-auth ${count} failed: ${res.status} ${await res.text()}`);
}

function iamClient(endpoint: string, credentials: MotoCredentials): IAMClient {
  return new IAMClient({ endpoint, region: 'us-east-1', credentials });
}

async function createAdmin(endpoint: string): Promise<MotoCredentials> {
  const bootstrap = { accessKeyId: 'AKIABOOTSTRAP0000000', secretAccessKey: 'bootstrap' };
  const iam = iamClient(endpoint, bootstrap);
  await iam.send(new CreateUserCommand({ UserName: 'harness-admin' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'harness-admin',
      PolicyName: 'admin',
      PolicyDocument: JSON.stringify(ADMIN_POLICY),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'harness-admin' }));
  iam.destroy();
  return accessKeyOf(key.AccessKey);
}

function accessKeyOf(key: { AccessKeyId?: string; SecretAccessKey?: string } | undefined): MotoCredentials {
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('moto returned no access key');
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

/** Creates a bucket in us-east-1 with the admin credentials. */
export async function createBucket(moto: Moto, bucket: string): Promise<void> {
  const s3 = s3Reader(moto);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
}

/** Creates an IAM user holding exactly `policy` (inline) and an access key for it. */
export async function createUser(
  moto: Moto,
  name: string,
  policy: object,
): Promise<{ accessKeyId: string; secretAccessKey: string; arn: string }> {
  const iam = iamClient(moto.endpoint, moto.admin);
  const user = await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: `${name}-policy`,
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  iam.destroy();
  const arn = user.User?.Arn;
  if (!arn) throw new Error('moto returned no user ARN');
  return { ...accessKeyOf(key.AccessKey), arn };
}

/** Creates an IAM role with a trust policy and an inline permission policy. */
export async function createRole(
  moto: Moto,
  name: string,
  trustPolicy: object,
  policy: object,
): Promise<{ arn: string }> {
  const iam = iamClient(moto.endpoint, moto.admin);
  const role = await iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trustPolicy) }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: `${name}-policy`,
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  iam.destroy();
  const arn = role.Role?.Arn;
  if (!arn) throw new Error('moto returned no role ARN');
  return { arn };
}

/** An independent reader (@aws-sdk/client-s3) with the admin credentials, path-style. */
export function s3Reader(moto: Moto): S3Client {
  return new S3Client({
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: moto.admin,
    forcePathStyle: true,
  });
}

/**
 * The usual start of an S3 test: moto with auth enforced, one bucket, and a user holding exactly
 * `policy` (by default `writerPolicy(bucket)`). Stops moto again if the setup fails half-way.
 */
export async function startMotoWithWriter(
  bucket: string,
  userName: string,
  policy: object = writerPolicy(bucket),
): Promise<{ moto: Moto; reader: S3Client; writer: { accessKeyId: string; secretAccessKey: string } }> {
  const moto = await startMoto();
  try {
    const reader = s3Reader(moto);
    await createBucket(moto, bucket);
    const writer = keyPair(await createUser(moto, userName, policy));
    await moto.enableAuth();
    return { moto, reader, writer };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}

/**
 * The data rows of CSV files (a run's files but its manifest), read back with @aws-sdk/client-s3 and
 * parsed by papaparse (header row), as sorted JSON lines: two exports compared row for row.
 */
export async function csvRowsOf(s3: S3Client, bucket: string, files: readonly { key: string }[]): Promise<string[]> {
  const rows: string[] = [];
  for (const { key } of files) {
    if (key.includes('/manifest-')) continue;
    const text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    const parsed = Papa.parse<Record<string, string>>(text.trim(), { header: true, skipEmptyLines: true });
    if (parsed.errors.length > 0) throw new Error(`${key}: ${JSON.stringify(parsed.errors)}`);
    rows.push(...parsed.data.map((r) => JSON.stringify(r)));
  }
  return rows.sort();
}

/** The last two plugins of a CLI config that writes to moto: access-key auth with `creds`, and sink/s3 at `bucket`. */
export function motoSinkPlugins(moto: Moto, bucket: string, creds: MotoCredentials, sinkOptions: Record<string, unknown> = {}): object[] {
  return [
    { use: 'auth/accessKey', options: creds },
    { use: 'sink/s3', options: { bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, ...sinkOptions } },
  ];
}
