/**
 * Alert delivery: a JSON POST to the dataflow's alert webhook for each outbox row, retried with
 * growing delays. The URL is checked against SSRF again at send time (the policy may have changed),
 * and the served platform's fetch checks the addresses its name resolves to as it connects. A failed
 * delivery records the class of failure (HTTP status, refused, timed out, TLS, DNS), never the
 * runtime's error text (it names addresses) nor the receiver's answer.
 * When the dataflow has an alert secret, the body is signed like inbound webhooks: HMAC-SHA256 over
 * `${timestamp}.${body}`, hex, in X-Edge-Export-Signature beside X-Edge-Export-Timestamp, so a
 * receiver can check it with `verifyWebhook`.
 */
import { openSecret } from '../core/security/secrets.ts';
import { ConfigError, ExportError } from '../core/errors.ts';
import { networkFailure } from '../core/security/failure.ts';
import { checkEndpoint, endpointRefusal } from '../core/security/ssrf.ts';
import { signWebhook } from '../core/security/webhook.ts';
import { endpointPolicy, type Env } from './env.ts';
import { alertSecretContext } from './routes/dataflows.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './routes/webhooks.ts';
import { type AlertRow, dueAlerts, markAlertDelivered, markAlertFailed } from './store/alerts.ts';
import { first } from './store/db.ts';

/** Minutes to wait before attempt n+1; after the last, the alert stays undelivered with its error. */
export const ALERT_BACKOFF_MINUTES = [1, 5, 30, 120, 600] as const;

/** Sends every due alert once; returns how many were delivered. */
export async function deliverAlerts(env: Env, now: Date, fetcher: typeof fetch): Promise<number> {
  let delivered = 0;
  for (const alert of await dueAlerts(env.DB, now)) {
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
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'X-Edge-Export-Event': alert.event,
      ...(await signature(env, alert, now)),
    };
    const response = await fetcher(alert.url, {
      method: 'POST',
      headers,
      body: alert.payload,
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

/** Signature headers when the dataflow has an alert secret (looked up at send time: it may have changed). */
async function signature(env: Env, alert: AlertRow, now: Date): Promise<Record<string, string>> {
  const row = await first<{ alert_secret: string | null }>(
    env.DB,
    'SELECT alert_secret FROM dataflows WHERE org_id = ? AND id = ?',
    alert.org_id,
    alert.dataflow_id,
  );
  if (!row?.alert_secret) return {};
  const secret = await openSecret(env.SECRETS_KEY, row.alert_secret, alertSecretContext(alert.dataflow_id));
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: await signWebhook(secret, timestamp, alert.payload),
  };
}
