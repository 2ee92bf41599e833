/**
 * POST /v1/webhooks/:dataflowId — an export triggered by a signed delivery. The caller is
 * authenticated by the dataflow's webhook secret, not by an API token. Unknown dataflows and bad
 * signatures get the same 401, so the endpoint does not reveal which dataflow ids exist. The body
 * (at most BODY_LIMITS.webhook, enforced before this handler runs) is read before anything is looked
 * up; the signature covers the timestamp, the Idempotency-Key and the body, and a verified delivery
 * is accepted once (see core/security/webhook.ts).
 */
import { Hono } from 'hono';
import { openSecret } from '../../core/security/secrets.ts';
import { deliveryKeys, verifyWebhook } from '../../core/security/webhook.ts';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { ApiError } from '../errors.ts';
import type { AppDeps, AppEnv } from '../http.ts';
import { createRunOnce } from '../store/idempotency.ts';
import { getDataflowForWebhook } from '../store/resources.ts';
import { getRun } from '../store/runs.ts';
import { webhookSecretContext } from './dataflows.ts';
import { presentRun } from './runs.ts';

export const SIGNATURE_HEADER = 'X-Edge-Export-Signature';
export const TIMESTAMP_HEADER = 'X-Edge-Export-Timestamp';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Routes of /v1/webhooks. */
export function webhookRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().post(
    '/:dataflowId',
    describe({
      operationId: 'triggerWebhook',
      tag: 'Webhooks',
      summary: 'A signed delivery: export the dataflow now',
      description:
        'Authenticated by the dataflow\'s webhook secret (securitySchemes.webhookSignature), not by a token. Unknown dataflows and bad signatures get the same 401. The body (at most 64 KiB) is only signed, never read for content.',
      body: {
        description: 'The delivery: any body up to 64 KiB, covered by the signature (its content is not read)',
        content: { '*/*': 'Any text, e.g. the event that triggered the delivery as JSON' },
      },
      headers: [
        { name: TIMESTAMP_HEADER, required: true, description: 'Unix seconds; within 5 minutes of the server clock' },
        { name: IDEMPOTENCY_HEADER, description: 'Part of the signed message when sent: one run per key' },
      ],
      success: { status: 202, description: 'The queued run', schema: views.runView },
      errors: { 400: 'Malformed Idempotency-Key', 409: 'Replayed or duplicate delivery, or the dataflow is disabled' },
    }),
    async (c) => {
    const now = deps.now();
    const raw = await c.req.text();
    const signature = c.req.header(SIGNATURE_HEADER);
    const idempotencyKey = c.req.header(IDEMPOTENCY_HEADER);
    const flow = await getDataflowForWebhook(c.env.DB, c.req.param('dataflowId'));
    const verdict = flow
      ? await verifyWebhook({
          secret: await openSecret(c.env.SECRETS_KEY, flow.webhook_secret, webhookSecretContext(flow.id)),
          timestamp: c.req.header(TIMESTAMP_HEADER),
          signature,
          body: raw,
          idempotencyKey,
          now,
        })
      : ({ ok: false, reason: 'mismatch' } as const);
    if (!verdict.ok || !flow) {
      const reason = verdict.ok ? 'mismatch' : verdict.reason;
      throw new ApiError(401, 'WEBHOOK_REFUSED', `The delivery was refused: signature ${reason}`, { reason });
    }
    if (flow.enabled !== 1) throw new ApiError(409, 'CONFLICT', 'The dataflow is disabled');
    const keys = deliveryKeys(idempotencyKey, signature!);
    if (!keys) throw new ApiError(400, 'BAD_REQUEST', 'Idempotency-Key: expected 1–255 printable ASCII characters');
    const orgId = flow.org_id;
    const result = await createRunOnce(
      c.env.DB,
      { orgId, dataflowId: flow.id, trigger: 'webhook', scheduledTime: now },
      `webhook:${flow.id}`,
      keys,
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
