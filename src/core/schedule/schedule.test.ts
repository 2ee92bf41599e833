import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { parse } from '../validate.ts';
import { dueRuns, runKey } from './due.ts';
import { type ScheduleInput, scheduleSchema } from './model.ts';

const at = (iso: string) => new Date(iso);
const schedule = (input: ScheduleInput) => parse(scheduleSchema, input, 'schedule');
const iso = (dates: readonly Date[]) => dates.map((d) => d.toISOString());

describe('dueRuns', () => {
  const cases: {
    name: string;
    s: ScheduleInput;
    from: string;
    to: string;
    want: string[];
    missed?: number;
    max?: number;
  }[] = [
    {
      name: 'daily at a time of day, one slot per day in the window',
      s: { frequency: 'daily', time: '06:30', startDate: '2026-03-01' },
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-03T06:30:00Z',
      want: ['2026-03-01T06:30:00.000Z', '2026-03-02T06:30:00.000Z', '2026-03-03T06:30:00.000Z'],
    },
    {
      name: 'window is half-open: a slot at lastTick is not due again',
      s: { frequency: 'daily', time: '06:30', startDate: '2026-03-01' },
      from: '2026-03-01T06:30:00Z',
      to: '2026-03-02T06:29:59Z',
      want: [],
    },
    {
      name: 'nothing before startDate',
      s: { frequency: 'daily', startDate: '2026-03-10' },
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-10T00:00:00Z',
      want: ['2026-03-10T00:00:00.000Z'],
    },
    {
      name: 'end day excluded',
      s: { frequency: 'daily', time: '00:00', startDate: '2026-03-01', endDate: '2026-03-03' },
      from: '2026-02-28T00:00:00Z',
      to: '2026-03-05T00:00:00Z',
      want: ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
    },
    {
      name: 'end day excluded even for a late-evening slot of the day before',
      s: {
        frequency: 'hourly',
        everyHours: 12,
        time: '11:00',
        startDate: '2026-03-01',
        endDate: '2026-03-02',
      },
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-03T00:00:00Z',
      want: ['2026-03-01T11:00:00.000Z', '2026-03-01T23:00:00.000Z'],
    },
    {
      name: 'every 8 hours from the anchor time',
      s: { frequency: 'hourly', everyHours: 8, time: '02:00', startDate: '2026-03-01' },
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-01T23:59:59Z',
      want: ['2026-03-01T02:00:00.000Z', '2026-03-01T10:00:00.000Z', '2026-03-01T18:00:00.000Z'],
    },
    {
      name: 'every 3 hours crosses midnight',
      s: { frequency: 'hourly', everyHours: 3, time: '22:00', startDate: '2026-03-01' },
      from: '2026-03-01T22:00:00Z',
      to: '2026-03-02T04:00:00Z',
      want: ['2026-03-02T01:00:00.000Z', '2026-03-02T04:00:00.000Z'],
    },
    {
      name: 'weekly keeps the start weekday',
      s: { frequency: 'weekly', time: '09:00', startDate: '2026-03-04' },
      from: '2026-03-05T00:00:00Z',
      to: '2026-03-25T09:00:00Z',
      want: ['2026-03-11T09:00:00.000Z', '2026-03-18T09:00:00.000Z', '2026-03-25T09:00:00.000Z'],
    },
    {
      name: 'monthly on the 31st falls on each month end',
      s: { frequency: 'monthly', time: '05:00', startDate: '2026-01-31' },
      from: '2026-01-31T05:00:00Z',
      to: '2026-05-01T00:00:00Z',
      max: 10,
      want: ['2026-02-28T05:00:00.000Z', '2026-03-31T05:00:00.000Z', '2026-04-30T05:00:00.000Z'],
    },
    {
      name: 'monthly in a leap year',
      s: { frequency: 'monthly', startDate: '2028-01-30' },
      from: '2028-02-01T00:00:00Z',
      to: '2028-03-30T00:00:00Z',
      want: ['2028-02-29T00:00:00.000Z', '2028-03-30T00:00:00.000Z'],
    },
    {
      name: 'monthly across a year boundary',
      s: { frequency: 'monthly', time: '12:00', startDate: '2026-11-15' },
      from: '2026-12-15T12:00:00Z',
      to: '2027-01-15T12:00:00Z',
      want: ['2027-01-15T12:00:00.000Z'],
    },
    {
      name: 'once runs exactly at its slot and never again',
      s: { frequency: 'once', time: '08:15', startDate: '2026-03-01' },
      from: '2026-02-01T00:00:00Z',
      to: '2027-01-01T00:00:00Z',
      want: ['2026-03-01T08:15:00.000Z'],
    },
    {
      name: 'once already past',
      s: { frequency: 'once', time: '08:15', startDate: '2026-03-01' },
      from: '2026-03-01T08:15:00Z',
      to: '2027-01-01T00:00:00Z',
      want: [],
    },
    {
      name: 'a late tick catches up at most N slots, newest kept',
      s: { frequency: 'hourly', everyHours: 3, startDate: '2026-03-01' },
      from: '2026-03-01T00:00:00Z',
      to: '2026-03-02T00:00:00Z',
      want: ['2026-03-01T18:00:00.000Z', '2026-03-01T21:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      missed: 5,
    },
    {
      name: 'a year-long outage is computed, not enumerated',
      s: { frequency: 'hourly', everyHours: 3, startDate: '2020-01-01' },
      from: '2020-01-01T00:00:00Z',
      to: '2026-01-01T00:00:00Z',
      max: 1,
      want: ['2026-01-01T00:00:00.000Z'],
      missed: (Date.parse('2026-01-01') - Date.parse('2020-01-01')) / 3_600_000 / 3 - 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = dueRuns(schedule(c.s), at(c.from), at(c.to), { maxCatchUp: c.max ?? 3 });
      expect(iso(result.slots)).toEqual(c.want);
      expect(result.missed).toBe(c.missed ?? 0);
    });
  }

  it('splitting a window into ticks yields the same slots as one tick (overlap-free, gap-free)', () => {
    const s = schedule({ frequency: 'hourly', everyHours: 6, time: '01:00', startDate: '2026-03-01' });
    const whole = dueRuns(s, at('2026-03-01T00:00:00Z'), at('2026-03-03T00:00:00Z'), {
      maxCatchUp: 100,
    }).slots;
    const pieces: Date[] = [];
    let last = at('2026-03-01T00:00:00Z');
    for (let t = last.getTime() + 300_000; t <= at('2026-03-03T00:00:00Z').getTime(); t += 300_000) {
      pieces.push(...dueRuns(s, last, new Date(t)).slots);
      last = new Date(t);
    }
    expect(iso(pieces)).toEqual(iso(whole));
    expect(whole).toHaveLength(8);
  });

  it('afterEvaluation: one slot per evaluation closed in the window, at its time, inside the dates', () => {
    const s = schedule({ frequency: 'daily', time: 'afterEvaluation', startDate: '2026-03-01', endDate: '2026-03-04' });
    const evaluations = [
      '2026-03-01T03:00:00Z',
      '2026-03-01T15:00:00Z',
      '2026-03-01T15:00:00Z', // two evaluations closed by the same tick: one run
      '2026-03-03T02:00:00Z',
      '2026-02-28T23:00:00Z', // before startDate
      '2026-03-04T00:00:00Z', // the end day is excluded
    ].map(at);
    const result = dueRuns(s, at('2026-02-28T00:00:00Z'), at('2026-03-04T12:00:00Z'), { evaluations, maxCatchUp: 10 });
    expect(iso(result.slots)).toEqual(['2026-03-01T03:00:00.000Z', '2026-03-01T15:00:00.000Z', '2026-03-03T02:00:00.000Z']);
    expect(dueRuns(s, at('2026-03-03T02:00:00Z'), at('2026-03-03T12:00:00Z'), { evaluations }).slots).toEqual([]);
    const once = schedule({ frequency: 'once', time: 'afterEvaluation', startDate: '2026-03-01' });
    expect(iso(dueRuns(once, at('2026-02-28T00:00:00Z'), at('2026-03-04T12:00:00Z'), { evaluations }).slots)).toEqual([
      '2026-03-01T03:00:00.000Z',
    ]);
  });

  it('a tick not after lastTick is empty (clock went backwards)', () => {
    const s = schedule({ frequency: 'daily', startDate: '2026-03-01' });
    expect(dueRuns(s, at('2026-03-05T00:00:00Z'), at('2026-03-04T00:00:00Z')).slots).toEqual([]);
  });
});

describe('runKey', () => {
  it('is deterministic per dataflow and slot', () => {
    expect(runKey('df_1', at('2026-03-01T06:30:00Z'))).toBe('df_1:2026-03-01T06:30:00.000Z');
  });
});

describe('scheduleSchema', () => {
  const issuesOf = (input: unknown) => {
    try {
      parse(scheduleSchema, input, 'schedule');
      return [];
    } catch (error) {
      return (error as ConfigError).issues.map((i) => i.path);
    }
  };
  it('defaults time to midnight UTC', () => {
    expect(v.parse(scheduleSchema, { frequency: 'daily', startDate: '2026-01-01' }).time).toBe('00:00');
  });
  it.each([
    [{ frequency: 'hourly', startDate: '2026-01-01' }, ['everyHours']],
    [{ frequency: 'daily', everyHours: 3, startDate: '2026-01-01' }, ['everyHours']],
    [{ frequency: 'hourly', everyHours: 5, startDate: '2026-01-01' }, ['everyHours']],
    [{ frequency: 'hourly', everyHours: 3, time: 'afterEvaluation', startDate: '2026-01-01' }, ['time']],
    [{ frequency: 'daily', time: '24:00', startDate: '2026-01-01' }, ['time']],
    [{ frequency: 'daily', startDate: '2026-02-30' }, ['startDate']],
    [{ frequency: 'daily', startDate: '2026-03-01', endDate: '2026-03-01' }, ['endDate']],
    [{ frequency: 'yearly', startDate: '2026-03-01' }, ['frequency']],
    [{ frequency: 'daily', startDate: '2026-03-01', extra: 1 }, ['extra']],
  ])('refuses %j naming %j', (input, paths) => {
    expect(issuesOf(input)).toEqual(paths);
  });
  it('reports a ConfigError', () => {
    expect(() => parse(scheduleSchema, {}, 'schedule')).toThrow(ConfigError);
  });
});
