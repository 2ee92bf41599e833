import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { NamingStage } from '../../../core/types.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Date-partition macros from the run's scheduled time (UTC): `%YYYY%/%MM%/%DD%/%HH%`, `%MI%` (the
 * minute), `%DATE%` (`YYYY-MM-DD`) and Hive-style `%DT%` (`dt=YYYY-MM-DD`).
 */
export function date(): NamingStage {
  return {
    kind: 'naming',
    name: 'date',
    macros: {
      YYYY: (ctx) => String(ctx.scheduledTime.getUTCFullYear()),
      MM: (ctx) => pad(ctx.scheduledTime.getUTCMonth() + 1),
      DD: (ctx) => pad(ctx.scheduledTime.getUTCDate()),
      HH: (ctx) => pad(ctx.scheduledTime.getUTCHours()),
      MI: (ctx) => pad(ctx.scheduledTime.getUTCMinutes()),
      DATE: (ctx) => ctx.scheduledTime.toISOString().slice(0, 10),
      DT: (ctx) => `dt=${ctx.scheduledTime.toISOString().slice(0, 10)}`,
    },
  };
}

export const plugin = definePlugin({
  name: 'naming/date',
  description: 'Date-partition macros %YYYY% %MM% %DD% %HH% %MI% %DATE% %DT% (UTC, from the scheduled time)',
  options: v.optional(v.strictObject({}), {}),
  create: () => date(),
});
