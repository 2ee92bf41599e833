import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import { TIME_PARTS } from '../../../core/name-template.ts';
import type { NamingStage } from '../../../core/types.ts';

/**
 * Date-partition macros from the run's scheduled time (UTC): `%YYYY%/%MM%/%DD%/%HH%`, `%MI%` (the
 * minute), `%DATE%` (`YYYY-MM-DD`) and Hive-style `%DT%` (`dt=YYYY-MM-DD`).
 */
export function date(): NamingStage {
  return {
    kind: 'naming',
    name: 'date',
    macros: {
      YYYY: TIME_PARTS.YYYY,
      MM: TIME_PARTS.MM,
      DD: TIME_PARTS.DD,
      HH: TIME_PARTS.HH,
      MI: TIME_PARTS.MI,
      DATE: TIME_PARTS.DATE,
      DT: (ctx) => `dt=${TIME_PARTS.DATE(ctx)}`,
    },
  };
}

export const plugin = definePlugin({
  name: 'naming/date',
  description: 'Date-partition macros %YYYY% %MM% %DD% %HH% %MI% %DATE% %DT% (UTC, from the scheduled time)',
  options: v.optional(v.strictObject({}), {}),
  create: () => date(),
});
