/**
 * Which scheduled slots are due at a tick. Pure and UTC-only (no DST), so overlapping, repeated and
 * late ticks all compute the same slots; the store makes each slot run once by inserting its run key
 * with `INSERT OR IGNORE`.
 */
import type { Schedule } from './model.ts';

/**
 * How many missed slots a late tick still enqueues, newest first kept. A scheduler that was down for a
 * week must not flood a bucket with 56 three-hourly exports of the same audience: it exports the last
 * few and reports how many it dropped.
 */
export const DEFAULT_MAX_CATCH_UP = 3;

export interface DueOptions {
  /** Most slots returned by one call; older due slots are dropped and counted in `missed`. */
  readonly maxCatchUp?: number;
  /**
   * For `afterEvaluation` schedules: when audience evaluations of the dataflow's audiences were
   * closed (the cron tick that saw them). Each distinct time inside [startDate, endDate) is one slot;
   * `once` takes only the first. Ignored for time-of-day schedules.
   */
  readonly evaluations?: readonly Date[];
}

export interface DueResult {
  /** Slot times due in (lastTick, now], oldest first, at most `maxCatchUp` of them. */
  readonly slots: readonly Date[];
  /** Due slots dropped because the tick came too late (bounded catch-up). */
  readonly missed: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Slots of `schedule` due in the half-open window (lastTick, now].
 *
 * @example dueRuns({ frequency: 'daily', time: '06:00', startDate: '2026-01-01' }, lastTick, now)
 */
export function dueRuns(schedule: Schedule, lastTick: Date, now: Date, options: DueOptions = {}): DueResult {
  const max = Math.max(1, options.maxCatchUp ?? DEFAULT_MAX_CATCH_UP);
  if (now.getTime() <= lastTick.getTime()) return { slots: [], missed: 0 };
  const series = slotSeries(schedule);
  if (schedule.time === 'afterEvaluation') {
    const times = evaluationTimes(schedule, lastTick, now, options.evaluations ?? []);
    const missed = Math.max(0, times.length - max);
    return { slots: times.slice(missed), missed };
  }
  // Computed, not enumerated: a tick after a year-long outage costs the same as a punctual one.
  const first = series.lastAtOrBefore(lastTick) + 1;
  const last = series.lastAtOrBefore(now);
  const missed = Math.max(0, last - first + 1 - max);
  const slots: Date[] = [];
  for (let k = first + missed; k <= last; k++) slots.push(series.at(k));
  return { slots, missed };
}

/** The deterministic key of one slot's run: the store's uniqueness makes a slot run exactly once. */
export function runKey(dataflowId: string, slot: Date): string {
  return `${dataflowId}:${slot.toISOString()}`;
}

/** Slot k ≥ 0 of a schedule, and the inverse: the last slot index at or before a time. */
interface SlotSeries {
  at(k: number): Date;
  /** Largest k with at(k) <= t and at(k) inside [startDate, endDate); -1 when there is none. */
  lastAtOrBefore(t: Date): number;
}

function slotSeries(schedule: Schedule): SlotSeries {
  const [hh, mm] = schedule.time === 'afterEvaluation' ? [0, 0] : schedule.time.split(':').map(Number);
  const start = new Date(`${schedule.startDate}T00:00:00Z`);
  const anchor = new Date(start.getTime() + (hh ?? 0) * HOUR + (mm ?? 0) * 60_000);
  const end =
    schedule.endDate === undefined ? Number.POSITIVE_INFINITY : Date.parse(`${schedule.endDate}T00:00:00Z`);
  const base = baseSeries(schedule, anchor);
  const lastBefore = (t: number) => base.lastAtOrBefore(Math.min(t, end - 1));
  return { at: (k) => new Date(base.at(k)), lastAtOrBefore: (t) => lastBefore(t.getTime()) };
}

function baseSeries(
  schedule: Schedule,
  anchor: Date,
): { at(k: number): number; lastAtOrBefore(t: number): number } {
  const a = anchor.getTime();
  switch (schedule.frequency) {
    case 'once':
      return { at: () => a, lastAtOrBefore: (t) => (t >= a ? 0 : -1) };
    case 'monthly':
      return monthlySeries(anchor);
    default: {
      const period =
        schedule.frequency === 'weekly'
          ? 7 * DAY
          : schedule.frequency === 'daily'
            ? DAY
            : (schedule.everyHours ?? 24) * HOUR;
      return {
        at: (k) => a + k * period,
        lastAtOrBefore: (t) => (t < a ? -1 : Math.floor((t - a) / period)),
      };
    }
  }
}

/**
 * Monthly slots keep the start date's day of month; in shorter months they fall on the month's last
 * day (a schedule starting on the 31st runs on Feb 28/29, Apr 30, …, and on the 31st again in May).
 */
function monthlySeries(anchor: Date): { at(k: number): number; lastAtOrBefore(t: number): number } {
  const y = anchor.getUTCFullYear();
  const m = anchor.getUTCMonth();
  const day = anchor.getUTCDate();
  const timeOfDay = anchor.getTime() - Date.UTC(y, m, day);
  const at = (k: number) => {
    const lastDay = new Date(Date.UTC(y, m + k + 1, 0)).getUTCDate();
    return Date.UTC(y, m + k, Math.min(day, lastDay)) + timeOfDay;
  };
  return {
    at,
    lastAtOrBefore(t) {
      if (t < anchor.getTime()) return -1;
      const d = new Date(t);
      let k = (d.getUTCFullYear() - y) * 12 + (d.getUTCMonth() - m);
      while (k >= 0 && at(k) > t) k--;
      return k;
    },
  };
}

/** Distinct evaluation times in (lastTick, now] and in [startDate, endDate), oldest first. */
function evaluationTimes(schedule: Schedule, lastTick: Date, now: Date, evaluations: readonly Date[]): Date[] {
  const start = Date.parse(`${schedule.startDate}T00:00:00Z`);
  const end = schedule.endDate === undefined ? Number.POSITIVE_INFINITY : Date.parse(`${schedule.endDate}T00:00:00Z`);
  const times = new Set<number>();
  for (const at of evaluations) {
    const t = at.getTime();
    if (t > lastTick.getTime() && t <= now.getTime() && t >= start && t < end) times.add(t);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return (schedule.frequency === 'once' ? sorted.slice(0, 1) : sorted).map((t) => new Date(t));
}
