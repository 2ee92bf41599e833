/**
 * The body an alert is posted with, in the dataflow's `alertFormat`: `signed-json`, the event as the
 * outbox holds it; or `slack`, a Slack incoming-webhook message `{text, blocks}` (Block Kit header,
 * section and context blocks) saying which run of which dataflow, what happened, the error summary and,
 * when the deployment knows its console's address (CONSOLE_URL), a link to the run there. Both are
 * built from the outbox payload alone, which never holds a secret.
 */
import type { AlertEvent } from './store/alerts.ts';

export type AlertFormat = 'signed-json' | 'slack';

export interface AlertContext {
  readonly format: AlertFormat;
  /** The dataflow's name, when it still exists. */
  readonly dataflowName?: string;
  /** The console's public address (CONSOLE_URL), e.g. `https://export.example.com/`. */
  readonly consoleUrl?: string;
}

/** The JSON text posted for an outbox payload (itself JSON text, with its `event`). */
export function alertBody(payload: string, context: AlertContext): string {
  if (context.format !== 'slack') return payload;
  return JSON.stringify(slackMessage(JSON.parse(payload) as AlertPayload, context));
}

/** What the outbox payload may carry (consumer.ts, scheduler.ts, lateness.ts). */
interface AlertPayload {
  event: AlertEvent;
  runId?: string;
  dataflowId: string;
  trigger?: string;
  scheduledTime?: string;
  reason?: 'late' | 'missedSlots';
  missedSlots?: number;
  lateAfterMinutes?: number;
  status?: string;
  rows?: number;
  bytes?: number;
  files?: number;
  skippedRate?: number;
  threshold?: number;
  failedRunId?: string;
  error?: { code?: string; message?: string };
}

const TITLES: Record<AlertEvent, string> = {
  'run.started': 'Run started',
  'run.succeeded': 'Run succeeded',
  'run.failed': 'Run failed',
  'run.delayed': 'Run delayed',
  'run.skipped_rate': 'Skipped rows above the threshold',
  'run.recovered': 'Run succeeded after a failure',
};

/** Slack's limits: section text 3,000 characters, a header 150, a field 2,000. */
const limit = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Slack mrkdwn treats & < > as control characters. */
const mrkdwn = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A Slack incoming-webhook message for an alert.
 * @example slackMessage({ event: 'run.failed', dataflowId: 'dfl_1', runId: 'run_1', error: { code: 'S3_ERROR', message: 'AccessDenied' } }, { format: 'slack' })
 */
export function slackMessage(alert: AlertPayload, context: AlertContext): { text: string; blocks: Record<string, unknown>[] } {
  const flow = context.dataflowName ? `${context.dataflowName} (${alert.dataflowId})` : alert.dataflowId;
  const title = `edge-export: ${TITLES[alert.event] ?? alert.event}`;
  const what = summary(alert);
  const text = limit(mrkdwn(`${title}: dataflow ${flow}${alert.runId ? `, run ${alert.runId}` : ''}. ${what}`), 3000);
  const fields = [
    ['Dataflow', flow],
    ['Run', alert.runId],
    ['Event', alert.event],
    ['Scheduled', alert.scheduledTime],
    ['Trigger', alert.trigger],
  ].flatMap(([label, value]) => (value ? [{ type: 'mrkdwn', text: limit(`*${label}*\n${mrkdwn(value)}`, 2000) }] : []));
  const link = context.consoleUrl && alert.runId ? consoleLink(context.consoleUrl, alert.runId) : undefined;
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: limit(title, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: limit(mrkdwn(what), 3000) }, fields },
  ];
  if (link) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${link}|Open the run in the console>` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `edge-export · ${mrkdwn(alert.event)}` }] });
  return { text, blocks };
}

/** One line on what happened. */
function summary(a: AlertPayload): string {
  switch (a.event) {
    case 'run.failed':
      return `Error${a.error?.code ? ` ${a.error.code}` : ''}: ${a.error?.message ?? 'unknown'}`;
    case 'run.succeeded':
      return `${a.rows ?? 0} rows in ${a.files ?? 0} file(s), ${a.bytes ?? 0} bytes.`;
    case 'run.recovered':
      return `${a.rows ?? 0} rows in ${a.files ?? 0} file(s), ${a.bytes ?? 0} bytes; the run before, ${a.failedRunId ?? 'unknown'}, had failed.`;
    case 'run.skipped_rate':
      return `Skipped ${percent(a.skippedRate)} of the rows read (threshold ${percent(a.threshold)}).`;
    case 'run.delayed':
      return a.reason === 'late'
        ? `Not finished ${a.lateAfterMinutes} minutes after its slot (status: ${a.status ?? 'unknown'}).`
        : `A late cron tick dropped ${a.missedSlots ?? 0} scheduled slot(s).`;
    default:
      return 'The run has started.';
  }
}

const percent = (share: number | undefined) => `${Math.round((share ?? 0) * 1000) / 10} %`;

/** The run's page in the console (its hash route), under the console's address. */
export function consoleLink(consoleUrl: string, runId: string): string | undefined {
  try {
    const url = new URL(consoleUrl);
    url.hash = `/runs/${encodeURIComponent(runId)}`;
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
