/**
 * Alert delivery: a JSON POST to the dataflow's alert webhook for each outbox row, retried with
 * growing delays. The URL is checked against SSRF again at send time (the policy may have changed).
 */
import { checkEndpoint } from '../core/security/ssrf.ts';
import { endpointPolicy, type Env } from './env.ts';
import { type AlertRow, dueAlerts, markAlertDelivered, markAlertFailed } from './store/alerts.ts';

/** Minutes to wait before attempt n+1; after the last, the alert stays undelivered with its error. */
export const ALERT_BACKOFF_MINUTES = [1, 5, 30, 120, 600] as const;

/** Sends every due alert once; returns how many were delivered. */
export async function deliverAlerts(env: Env, now: Date, fetcher: typeof fetch): Promise<number> {
  let delivered = 0;
  for (const alert of await dueAlerts(env.DB, now)) {
    const error = await send(env, alert, fetcher);
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

async function send(env: Env, alert: AlertRow, fetcher: typeof fetch): Promise<string | undefined> {
  try {
    checkEndpoint(alert.url, 'alertWebhook', endpointPolicy(env));
    const response = await fetcher(alert.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Edge-Export-Event': alert.event },
      body: alert.payload,
      redirect: 'manual',
    });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
