/**
 * Alert delivery: a JSON POST to the dataflow's alert webhook for each outbox row (the event as JSON,
 * or a Slack message: alert-body.ts), retried with growing delays. Each due row is claimed first, so
 * a cron tick and a queue consumer delivering at once send it once. The URL is checked against SSRF
 * again at send time (the policy may have changed), and the served platform's fetch checks the
 * addresses its name resolves to as it connects. A failed delivery records the class of failure
 * (HTTP status, refused, timed out, TLS, DNS), never the runtime's error text (it names addresses)
 * nor the receiver's answer.
 * When the dataflow has an alert secret, the body sent (either format) is signed like inbound
 * webhooks: HMAC-SHA256 over `${timestamp}.${body}`, hex, in X-Edge-Export-Signature beside
 * X-Edge-Export-Timestamp, so a receiver can check it with `verifyWebhook`.
 */
import { openSecret } from '../core/security/secrets.ts';
import { ConfigError, ExportError } from '../core/errors.ts';
import { networkFailure } from '../core/security/failure.ts';
import { checkEndpoint, endpointRefusal } from '../core/security/ssrf.ts';
import { signWebhook } from '../core/security/webhook.ts';
import { alertBody } from './alert-body.ts';
import { endpointPolicy, type Env } from './env.ts';
import { alertSecretContext } from './routes/dataflows.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './routes/webhooks.ts';
import { type AlertRow, claimAlert, dueAlerts, markAlertDelivered, markAlertFailed } from './store/alerts.ts';
import { first } from './store/db.ts';

/** Minutes to wait before attempt n+1; after the last, the alert stays undelivered with its error. */
export const ALERT_BACKOFF_MINUTES = [1, 5, 30, 120, 600] as const;

/** Sends every due alert once; returns how many were delivered. */
export async function deliverAlerts(env: Env, now: Date, fetcher: typeof fetch): Promise<number> {
  let delivered = 0;
  for (const alert of await dueAlerts(env.DB, now)) {
    if (!(await claimAlert(env.DB, alert, now))) continue;
    const error = await send(env, alert, now, fetcher);
    if (error === undefined) {
      await markAlertDelivered(env.DB, alert.id, now);
      delivered++;
    } else {
      const wait = ALERT_BACKOFF_MINUTES[alert.attempts];
      await markAlertFailed(
        env.DB,
        alert.id,
        error,
        wait === undefined ? undefined : new Date(now.getTime() + wait * 60_000),
      );
    }
  }
  return delivered;
}

async function send(
  env: Env,
  alert: AlertRow,
  now: Date,
  fetcher: typeof fetch,
): Promise<string | undefined> {
  try {
    checkEndpoint(alert.url, 'alertWebhook', endpointPolicy(env));
    // The format, name and secret are read at send time: the dataflow may have changed since.
    const flow = await first<FlowAlertSettings>(
      env.DB,
      'SELECT name, alert_secret, alert_format FROM dataflows WHERE org_id = ? AND id = ?',
      alert.org_id,
      alert.dataflow_id,
    );
    const body = alertBody(alert.payload, {
      format: flow?.alert_format === 'slack' ? 'slack' : 'signed-json',
      ...(flow && { dataflowName: flow.name }),
      ...(env.CONSOLE_URL && { consoleUrl: env.CONSOLE_URL }),
    });
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Edge-Export-Event': alert.event,
      ...(await signature(env, alert, flow, body, now)),
    };
    const response = await fetcher(alert.url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    if (error instanceof ConfigError) return `refused by the endpoint policy: ${error.issues[0]?.message ?? 'not a public https URL'}`;
    const refused = endpointRefusal(error);
    if (refused) return refused.message;
    // Our own errors (an alert secret that cannot be opened) say what they are; a fetch's say too much.
    if (error instanceof ExportError) return error.message;
    return networkFailure(error);
  }
}

interface FlowAlertSettings {
  name: string;
  alert_secret: string | null;
  alert_format: string | null;
}

/** Signature headers over the body sent, when the dataflow has an alert secret (Slack bodies too). */
async function signature(
  env: Env,
  alert: AlertRow,
  flow: FlowAlertSettings | undefined,
  body: string,
  now: Date,
): Promise<Record<string, string>> {
  if (!flow?.alert_secret) return {};
  const secret = await openSecret(env.SECRETS_KEY, flow.alert_secret, alertSecretContext(alert.dataflow_id));
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: await signWebhook(secret, timestamp, body),
  };
}
