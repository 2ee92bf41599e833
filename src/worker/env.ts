import type { DurableShardNamespace, ShardNamespace } from './shards/types.ts';

/**
 * The Worker's bindings, typed structurally: only the members edge-export calls, so the project
 * type-checks without the global workers-types (which clash with DOM and Node typings) and tests can
 * pass fakes (a recording queue, a fixed clock).
 */

export interface D1Meta {
  readonly changes: number;
  readonly last_row_id: number;
}
export interface D1Result<T> {
  readonly results: T[];
  readonly meta: D1Meta;
}
export interface D1PreparedStatement {
  bind(...values: unknown[]): D1PreparedStatement;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<D1Result<T>>;
  run(): Promise<D1Result<unknown>>;
}
export interface D1Database {
  prepare(query: string): D1PreparedStatement;
  batch(statements: D1PreparedStatement[]): Promise<D1Result<unknown>[]>;
}

export interface QueueSender<Body> {
  send(body: Body, options?: { delaySeconds?: number }): Promise<void>;
  /** Cloudflare Queues: up to 100 messages in one call (one subrequest); hosts without it send one by one. */
  sendBatch?(messages: readonly { body: Body }[]): Promise<void>;
}
export interface QueueMessage<Body> {
  readonly id: string;
  readonly body: Body;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}
export interface QueueBatch<Body> {
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
}
export interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}
export interface CronController {
  readonly scheduledTime: number;
  readonly cron: string;
}

/** A message on the EXPORTS queue: run this run (or one task of it), or take a resharding a step further. */
export interface RunMessage {
  readonly runId: string;
  readonly orgId: string;
  /** A task of a fanned-out run (its `run_tasks.seq`): the message maps that task (fanout.ts). */
  readonly task?: number;
  /**
   * A step of the organization's resharding from this layout generation (reshard.ts); `runId` is then
   * `reshard:<generation>`, no run.
   */
  readonly reshard?: number;
}

export interface Env {
  readonly DB: D1Database;
  readonly EXPORTS: QueueSender<RunMessage>;
  /**
   * Shards of sharded organizations (docs/SCALE.md): the ProfileShard Durable Object namespace on
   * Workers, a SQLite file per shard on the Node and Deno hosts. Read it through `shardNamespace`.
   */
  readonly SHARDS?: DurableShardNamespace | ShardNamespace;
  /** base64 of 32 bytes: AES-GCM key for destination secrets at rest. */
  readonly SECRETS_KEY: string;
  /** Bootstrap token for the admin endpoint; unset disables it. */
  readonly ADMIN_TOKEN?: string;
  /** "true" allows loopback endpoints (and http on them): local development only. */
  readonly ALLOW_LOOPBACK_ENDPOINTS?: string;
  readonly MAX_CATCH_UP?: string;
  /** The console's public address (e.g. https://export.example.com/): Slack alerts link to the run there. */
  readonly CONSOLE_URL?: string;
  /** Days finished runs and delivered alerts are kept; the cron deletes older ones (default "90"). */
  readonly RUNS_RETENTION_DAYS?: string;
  /** Platform identity that calls sts:AssumeRole for assumed-role destinations. */
  readonly EDGE_EXPORT_AWS_ACCESS_KEY_ID?: string;
  readonly EDGE_EXPORT_AWS_SECRET_ACCESS_KEY?: string;
  readonly EDGE_EXPORT_AWS_SESSION_TOKEN?: string;
  /** ARN of that platform identity: the principal of generated trust policies. */
  readonly PLATFORM_PRINCIPAL_ARN?: string;
  /** D1 queries one invocation may make (default 1000, D1's Paid limit; "0": uncounted). See budget.ts. */
  readonly D1_QUERIES_PER_INVOCATION?: string;
  /** D1's value limit in bytes (default 2,000,000): state chunks and spill rows stay under it; tests lower it. */
  readonly D1_MAX_VALUE_BYTES?: string;
  /** Profiles per D1 page an export reads (default 5,000); tests lower it to pause between more pages. */
  readonly EXPORT_PROFILE_PAGE?: string;
  /**
   * Profiles one task of a sharded organization's fanned-out export maps (default 100,000: see
   * shards/fanout.ts SHARD_TASK_ROWS); tests lower it to make more tasks.
   */
  readonly EXPORT_SHARD_TASK_ROWS?: string;
  /**
   * Test-only (the journeys), unset in any deployment: `<seq>` loses the second shard page read by the
   * first attempt of task <seq> of every sharded run (shards/fanout.ts `withTaskFault`).
   */
  readonly EDGE_EXPORT_TEST_TASK_FAULT?: string;
  /**
   * Heap bytes a deduplicating export (its candidates) or a partitioned one (its rows) sorts before it
   * spills a run to D1 (defaults: see execute.ts); tests lower it.
   */
  readonly EXPORT_SORT_BUDGET?: string;
  /** Seconds of wall time after which an export pauses and continues in another invocation (default 20). */
  readonly EXPORT_INVOCATION_SECONDS?: string;
  /** Profiles a resharding copies or deletes per page (default 1,000); tests lower it to take more steps. */
  readonly RESHARD_PAGE?: string;
  /** Seconds between a resharding's start and its first copy (default 30: ingests that read the old layout end). */
  readonly RESHARD_SETTLE_SECONDS?: string;
  /** Profiles an audience preview counts before it scales (default 100,000); tests lower it. */
  readonly PREVIEW_MAX_PROFILES?: string;
}

/** D1's value limit in bytes for this environment: 2,000,000, or lower when D1_MAX_VALUE_BYTES says so. */
export function d1ValueBytes(env: Pick<Env, 'D1_MAX_VALUE_BYTES'>): number {
  const n = Number(env.D1_MAX_VALUE_BYTES);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 2_000_000) : 2_000_000;
}

/** The endpoint policy the environment asks for. */
export function endpointPolicy(env: Env): { allowLoopback: boolean } {
  return { allowLoopback: env.ALLOW_LOOPBACK_ENDPOINTS === 'true' };
}
