/**
 * A check of Slack incoming-webhook bodies against Slack's Block Kit reference
 * (api.slack.com/reference/block-kit/blocks, …/composition-objects#text): `text` a non-empty string,
 * `blocks` at most 50 of the layout blocks our alerts may use (header, section, context, divider),
 * each with only the keys Slack defines and within its length limits. Unknown keys or block types
 * fail, as Slack answers them with `invalid_blocks`.
 */
import * as v from 'valibot';

const textObject = (max: number) =>
  v.variant('type', [
    v.strictObject({ type: v.literal('plain_text'), text: v.pipe(v.string(), v.minLength(1), v.maxLength(max)), emoji: v.optional(v.boolean()) }),
    v.strictObject({ type: v.literal('mrkdwn'), text: v.pipe(v.string(), v.minLength(1), v.maxLength(max)), verbatim: v.optional(v.boolean()) }),
  ]);
const blockId = v.optional(v.pipe(v.string(), v.maxLength(255)));

const block = v.variant('type', [
  v.strictObject({
    type: v.literal('header'),
    text: v.strictObject({ type: v.literal('plain_text'), text: v.pipe(v.string(), v.minLength(1), v.maxLength(150)), emoji: v.optional(v.boolean()) }),
    block_id: blockId,
  }),
  v.pipe(
    v.strictObject({
      type: v.literal('section'),
      text: v.optional(textObject(3000)),
      fields: v.optional(v.pipe(v.array(textObject(2000)), v.maxLength(10))),
      block_id: blockId,
    }),
    v.check((s) => s.text !== undefined || (s.fields?.length ?? 0) > 0, 'a section needs text or fields'),
  ),
  v.strictObject({ type: v.literal('context'), elements: v.pipe(v.array(textObject(3000)), v.minLength(1), v.maxLength(10)), block_id: blockId }),
  v.strictObject({ type: v.literal('divider'), block_id: blockId }),
]);

/** A Slack incoming-webhook body with text and blocks. */
export const slackWebhookBody = v.strictObject({
  text: v.pipe(v.string(), v.minLength(1)),
  blocks: v.pipe(v.array(block), v.minLength(1), v.maxLength(50)),
});

/** The problems Slack would refuse the body for (none: it is accepted). */
export function slackProblems(body: unknown): string[] {
  const result = v.safeParse(slackWebhookBody, body);
  return result.success ? [] : result.issues.map((i) => `${v.getDotPath(i) ?? ''}: ${i.message}`);
}
