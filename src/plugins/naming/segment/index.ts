import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { NamingStage } from '../../../core/types.ts';

/**
 * The reference's folder macros: `%SEGMENT_NAME%`, `%SEGMENT_ID%`, plus `%DATASET_ID%`,
 * `%DESTINATION_ID%` and `%RUN_ID%`.
 *
 * @example segment().macros.SEGMENT_ID(ctx) // 'a1b2…'
 */
export function segment(): NamingStage {
  return {
    kind: 'naming',
    name: 'segment',
    macros: {
      SEGMENT_NAME: (ctx) => ctx.audience?.name ?? ctx.dataset?.id ?? 'export',
      SEGMENT_ID: (ctx) => ctx.audience?.id ?? ctx.dataset?.id ?? 'export',
      DATASET_ID: (ctx) => ctx.dataset?.id ?? ctx.audience?.id ?? 'export',
      DESTINATION_ID: (ctx) => ctx.destination.id,
      RUN_ID: (ctx) => ctx.runId,
    },
  };
}

export const plugin = definePlugin({
  name: 'naming/segment',
  description: 'Folder macros %SEGMENT_NAME%, %SEGMENT_ID%, %DATASET_ID%, %DESTINATION_ID%, %RUN_ID%',
  options: v.optional(v.strictObject({}), {}),
  create: () => segment(),
});
