/**
 * The queue consumer: claim the run (a duplicate message finds it claimed and does nothing), execute
 * it through an injected `executeRun`, record the outcome, and write alert outbox rows. Retryable
 * failures (network, S3 5xx) go back to the queue with a delay; others fail the run.
 */
import { ExportError, leftoversOf } from '../core/errors.ts';
import type { Env, QueueBatch, QueueMessage, RunMessage } from './env.ts';
import { alertEventsOf, enqueueAlert, type AlertEvent } from './store/alerts.ts';
import { type DataflowRow, getDataflow } from './store/resources.ts';
import { consumeTask, type RunTask } from './fanout.ts';
import { awaitTasks, taskProgress } from './store/tasks.ts';
import {
  type RunOutcome,
  type RunRow,
  claimRun,
  continueRun,
  failRun,
  getRun,
  HEARTBEAT_SECONDS,
  previousFinishedRun,
  renewLease,
  requeueRun,
  succeedRun,
  waitingFor,
} from './store/runs.ts';

/**
 * Runs one export (or its next part); the real one is `executeRun` in execute.ts, tests inject
 * their own. `{continued}` means the run outgrew the invocation and goes on in another.
 * `lease.lost()` turns true if the consumer lost the run's lease: the export should pause at once
 * (its checkpoint is then refused, and the consumer that took the run over goes on).
 */
export type ExecuteRun = (env: Env, run: RunRow, lease: Lease) => Promise<RunOutcome | { continued: unknown } | { fannedOut: number }>;

export interface Lease {
  lost(): boolean;
}

/** How long a run waiting for another run of its dataflow waits before its message comes back. */
export const WAIT_SECONDS = 10;

export interface ConsumerDeps {
  readonly executeRun: ExecuteRun;
  readonly now?: () => Date;
  /** Called once the export is over, before its outcome is recorded (the budget's final reserve opens). */
  readonly finishing?: () => void;
  /** Removes what earlier invocations of a run published, when the run fails for good. */
  readonly abandonRun?: (env: Env, run: RunRow) => Promise<void>;
  /** Seconds between lease renewals (default HEARTBEAT_SECONDS; tests shorten it). */
  readonly heartbeatSeconds?: number;
  /** Maps one task of a fanned-out run (fanout.ts `runTask`); messages with a `task` go to it. */
  readonly runTask?: RunTask;
  /** Takes a resharding a step further (reshard.ts `consumeReshard`); messages with a `reshard` go to it. */
  readonly reshard?: (message: QueueMessage<RunMessage>, env: Env) => Promise<boolean>;
}

/** Delivery attempts before a retryable failure becomes a failed run. */
export const MAX_ATTEMPTS = 3;
export const RETRYABLE: ReadonlySet<string> = new Set(['NETWORK', 'S3_ERROR']);

/**
 * Handles a batch message by message (max_batch_size is 1, but any size works); returns the runs it
 * executed (claimed and ran, whatever the outcome).
 */
export async function consumeBatch(
  batch: QueueBatch<RunMessage>,
  env: Env,
  deps: ConsumerDeps,
): Promise<string[]> {
  const executed: string[] = [];
  for (const message of batch.messages) {
    const { runId, task, reshard } = message.body;
    if (reshard !== undefined) {
      if (deps.reshard && (await deps.reshard(message, env))) executed.push(`${message.body.orgId}#${runId}`);
      else if (!deps.reshard) message.retry({ delaySeconds: WAIT_SECONDS });
    } else if (task !== undefined) {
      if (await consumeTask(message, env, deps)) executed.push(`${runId}#${task}`);
    } else if (await consume(message, env, deps)) executed.push(runId);
  }
  return executed;
}

/** True when the run was claimed and executed. */
async function consume(message: QueueMessage<RunMessage>, env: Env, deps: ConsumerDeps): Promise<boolean> {
  const now = deps.now ?? (() => new Date());
  const { runId, orgId } = message.body;
  if (!(await claimRun(env.DB, orgId, runId, now()))) {
    // One run of a dataflow at a time: a run that must wait comes back later (not as a retry, so
    // waiting never uses up its attempts); a finished or held run needs nothing.
    if (await waitingFor(env.DB, orgId, runId)) await env.EXPORTS.send({ runId, orgId }, { delaySeconds: WAIT_SECONDS });
    message.ack();
    return false;
  }
  const run = (await getRun(env.DB, orgId, runId))!;
  const attempt = run.attempts;
  const flow = await getDataflow(env.DB, orgId, run.dataflow_id);
  const wanted = flow ? alertEventsOf(flow) : new Set<AlertEvent>();
  const alert = runAlerter(env, run, flow, now);
  // A continued run already announced its start, and so did a fanned-out run back for its reduce.
  if (run.checkpoint === null && !(run.attempts > 1 && (await taskProgress(env.DB, runId)).total > 0)) await alert('run.started', {});
  // The lease is renewed while the run executes; a consumer that loses it stops writing the run.
  let lost = false;
  let beat = Promise.resolve();
  const heartbeat = setInterval(() => {
    beat = beat.then(async () => {
      if (!lost && !(await renewLease(env.DB, runId, attempt, now()).catch(() => true))) lost = true;
    });
  }, (deps.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000);
  const stopHeartbeat = async () => {
    clearInterval(heartbeat);
    await beat;
  };
  try {
    const outcome = await deps
      .executeRun(env, run, { lost: () => lost })
      .finally(async () => {
        await stopHeartbeat();
        deps.finishing?.();
      });
    if ('fannedOut' in outcome) {
      // The run waits for its tasks without a lease; if they all finished meanwhile, it goes on now.
      if ((await awaitTasks(env.DB, runId, attempt, now())) === 'queued') await env.EXPORTS.send({ runId, orgId });
      return settle(() => message.ack());
    }
    if ('continued' in outcome) {
      if (await continueRun(env.DB, runId, outcome.continued, now(), attempt)) await env.EXPORTS.send({ runId, orgId });
      return settle(() => message.ack());
    }
    if (!(await succeedRun(env.DB, runId, outcome, now(), attempt))) return settle(() => message.ack());
    const summary = { rows: outcome.rows, bytes: outcome.bytes, skipped: outcome.skipped, files: outcome.files.length };
    await alert('run.succeeded', summary);
    if (wanted.has('run.recovered')) {
      const previous = await previousFinishedRun(env.DB, run);
      if (previous?.status === 'failed') await alert('run.recovered', { ...summary, failedRunId: previous.id });
    }
    const rate = skippedRate(outcome);
    const threshold = flow?.skipped_rate_threshold;
    if (threshold !== null && threshold !== undefined && rate > threshold)
      await alert('run.skipped_rate', {
        skippedRate: rate,
        threshold,
        rows: outcome.rows,
        skipped: outcome.skipped,
      });
  } catch (thrown) {
    const error = describeError(thrown);
    // A consumer that lost the lease leaves the run to the one that took it over.
    if (lost) return settle(() => message.ack());
    if (RETRYABLE.has(String(error.code)) && message.attempts < MAX_ATTEMPTS) {
      if (!(await requeueRun(env.DB, runId, error, attempt))) return settle(() => message.ack());
      return settle(() => message.retry({ delaySeconds: 30 * message.attempts }));
    }
    // Files published by earlier invocations, and spills (a fanned-out run's tasks'), are taken back.
    await deps.abandonRun?.(env, (await getRun(env.DB, orgId, runId)) ?? run);
    if (!(await failRun(env.DB, runId, error, now(), attempt))) return settle(() => message.ack());
    await alert('run.failed', { error });
  }
  message.ack();
  return true;
}

/** Writes a run's alert to the outbox when its dataflow alerts on the event. */
export function runAlerter(env: Env, run: RunRow, flow: DataflowRow | undefined, now: () => Date) {
  const wanted = flow ? alertEventsOf(flow) : new Set<AlertEvent>();
  return async (event: AlertEvent, payload: Record<string, unknown>): Promise<void> => {
    // Events the dataflow does not alert on are never written to the outbox.
    if (!flow?.alert_webhook || !wanted.has(event)) return;
    const body = {
      runId: run.id,
      dataflowId: run.dataflow_id,
      trigger: run.trigger,
      scheduledTime: run.scheduled_time,
      ...payload,
    };
    await enqueueAlert(
      env.DB,
      { orgId: run.org_id, dataflowId: run.dataflow_id, runId: run.id, event, url: flow.alert_webhook, payload: body },
      now(),
    );
  };
}

/** Settles a message of an executed run. */
function settle(how: () => void): true {
  how();
  return true;
}

/** Skipped rows as a share of the rows read (exported + skipped); 0 for an empty run. */
export function skippedRate(outcome: RunOutcome): number {
  const skipped = Object.values(outcome.skipped).reduce((sum, n) => sum + n, 0);
  const read = outcome.rows + skipped;
  return read === 0 ? 0 : skipped / read;
}

/**
 * What a run records about its failure: code, message, plugin and stage, and any upload it had to
 * leave open (with the command that removes it); never a cause chain or stack.
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof ExportError) {
    const { code, message, plugin, stage } = error;
    const leftoverUploads = leftoversOf(error);
    return { code, message, ...(plugin && { plugin }), ...(stage && { stage }), ...(leftoverUploads.length > 0 && { leftoverUploads }) };
  }
  return {
    code: 'INTERNAL',
    message: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'internal error',
  };
}
