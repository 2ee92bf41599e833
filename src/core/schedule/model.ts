/**
 * The schedule of a dataflow, as a user configures it: how often, at which UTC time of day (or after
 * audience evaluation), from which day, until which day (excluded). Validated with valibot so every
 * host reports the same problems with the same paths.
 */
import * as v from 'valibot';

/** Hours between runs for the `hourly` frequency: the divisors of 24 the reference offers. */
export const EVERY_HOURS = [3, 6, 8, 12] as const;
export const FREQUENCIES = ['once', 'daily', 'weekly', 'monthly', 'hourly'] as const;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** True for a real calendar day in `YYYY-MM-DD` form (no 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

const calendarDate = (field: string) =>
  v.pipe(
    v.string(`${field}: expected a date string YYYY-MM-DD`),
    v.check(isCalendarDate, `${field}: expected a calendar date YYYY-MM-DD (UTC)`),
  );

/**
 * A dataflow schedule. `time` is a UTC `HH:MM`, or `afterEvaluation` to run once per period as soon
 * as an audience evaluation has completed in it. `endDate` is excluded: no slot falls on it or later.
 *
 * @example { frequency: 'daily', time: '06:30', startDate: '2026-01-01', endDate: '2026-02-01' }
 */
export const scheduleSchema = v.pipe(
  v.strictObject({
    frequency: v.picklist(FREQUENCIES, `frequency: expected one of ${FREQUENCIES.join(', ')}`),
    /** Only for `hourly`: hours between runs. */
    everyHours: v.optional(v.picklist(EVERY_HOURS, `everyHours: expected one of ${EVERY_HOURS.join(', ')}`)),
    time: v.optional(
      v.union(
        [v.literal('afterEvaluation'), v.pipe(v.string(), v.regex(TIME))],
        'time: expected a UTC time of day HH:MM (00:00–23:59) or "afterEvaluation"',
      ),
      '00:00',
    ),
    startDate: calendarDate('startDate'),
    endDate: v.optional(calendarDate('endDate')),
  }),
  v.forward(
    v.check(
      (s) => (s.frequency === 'hourly') === (s.everyHours !== undefined),
      'everyHours: required for frequency "hourly", and only for it',
    ),
    ['everyHours'],
  ),
  v.forward(
    v.check(
      (s) => !(s.frequency === 'hourly' && s.time === 'afterEvaluation'),
      'time: "afterEvaluation" cannot be combined with frequency "hourly"',
    ),
    ['time'],
  ),
  v.forward(
    v.check(
      (s) => s.endDate === undefined || s.endDate > s.startDate,
      'endDate: must be after startDate (the end day is excluded)',
    ),
    ['endDate'],
  ),
);

export type Schedule = v.InferOutput<typeof scheduleSchema>;
export type ScheduleInput = v.InferInput<typeof scheduleSchema>;
