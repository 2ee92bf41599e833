/**
 * POST /v1/webhooks/:dataflowId — an export triggered by a signed delivery. The caller is
 * authenticated by the dataflow's webhook secret, not by an API token. Unknown dataflows and bad
 * signatures get the same 401, so the endpoint does not reveal which dataflow ids exist.
 */
import { Hono } from 'hono';
import { openSecret } from '../../core/security/secrets.ts';
import { idempotencyKey, verifyWebhook } from '../../core/security/webhook.ts';
import { ApiError } from '../errors.ts';
import type { AppDeps, AppEnv } from '../http.ts';
import { createRunOnce } from '../store/idempotency.ts';
import { getDataflowForWebhook } from '../store/resources.ts';
import { getRun } from '../store/runs.ts';
import { webhookSecretContext } from './dataflows.ts';
import { presentRun } from './runs.ts';

export const SIGNATURE_HEADER = 'X-Edge-Export-Signature';
export const TIMESTAMP_HEADER = 'X-Edge-Export-Timestamp';

/** Routes of /v1/webhooks. */
export function webhookRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post('/:dataflowId', async (c) => {
    const now = deps.now();
    const flow = await getDataflowForWebhook(c.env.DB, c.req.param('dataflowId'));
    const raw = await c.req.text();
    const signature = c.req.header(SIGNATURE_HEADER);
    const verdict = flow
      ? await verifyWebhook({
          secret: await openSecret(c.env.SECRETS_KEY, flow.webhook_secret, webhookSecretContext(flow.id)),
          timestamp: c.req.header(TIMESTAMP_HEADER),
          signature,
          body: raw,
          now,
        })
      : ({ ok: false, reason: 'mismatch' } as const);
    if (!verdict.ok || !flow) {
      throw new ApiError(
        401,
        'WEBHOOK_REFUSED',
        `The delivery was refused: signature ${verdict.ok ? 'mismatch' : verdict.reason}`,
        {
          reason: verdict.ok ? 'mismatch' : verdict.reason,
        },
      );
    }
    if (flow.enabled !== 1) throw new ApiError(409, 'CONFLICT', 'The dataflow is disabled');
    const key = idempotencyKey(c.req.header('Idempotency-Key'), signature!);
    if (!key)
      throw new ApiError(400, 'BAD_REQUEST', 'Idempotency-Key: expected 1–255 printable ASCII characters');
    const orgId = flow.org_id;
    const result = await createRunOnce(
      c.env.DB,
      { orgId, dataflowId: flow.id, trigger: 'webhook', scheduledTime: now },
      `webhook:${flow.id}`,
      key,
      now,
    );
    if (!result.created) {
      throw new ApiError(409, 'REPLAYED', 'This delivery was already received; it is not exported again', {
        runId: result.runId,
      });
    }
    await c.env.EXPORTS.send({ runId: result.runId, orgId });
    return c.json(presentRun((await getRun(c.env.DB, orgId, result.runId))!), 202);
  });
}
