import { describe, expect, it } from 'vitest';
import { parse } from '../validate.ts';
import { type ScheduledDataflow, dueAudienceRuns } from './audiences.ts';
import { dueRuns, runKey } from './due.ts';
import { type ScheduleInput, scheduleSchema } from './model.ts';

const at = (iso: string) => new Date(iso);
const schedule = (input: ScheduleInput) => parse(scheduleSchema, input, 'schedule');
const daily6 = schedule({ frequency: 'daily', time: '06:00', startDate: '2026-03-01' });
const every3h = schedule({ frequency: 'hourly', everyHours: 3, time: '01:00', startDate: '2026-03-01' });
const weekly = schedule({ frequency: 'weekly', time: '12:30', startDate: '2026-03-02' });
const brief = (runs: readonly { key: string; slot: Date; audienceIds?: readonly string[] }[]) =>
  runs.map((r) => [r.slot.toISOString().slice(0, 16), r.audienceIds?.join('+') ?? '*', r.key]);

describe('dueAudienceRuns', () => {
  it('without per-audience schedules: the dataflow schedule, its run keys, all audiences (no list)', () => {
    const flow: ScheduledDataflow = { id: 'dfl_1', schedule: daily6, audienceIds: ['a', 'b'] };
    const from = at('2026-03-01T00:00:00Z');
    const to = at('2026-03-02T12:00:00Z');
    const { runs, missed } = dueAudienceRuns(flow, from, to);
    expect(missed).toBe(0);
    expect(runs).toEqual(dueRuns(daily6, from, to).slots.map((slot) => ({ key: runKey('dfl_1', slot), slot })));
  });

  it('each audience on its own slots; the others on the dataflow schedule, together', () => {
    const flow: ScheduledDataflow = {
      id: 'dfl_1',
      schedule: daily6,
      audienceIds: ['a', 'b', 'c'],
      audiences: [{ id: 'b', schedule: every3h }, { id: 'c', schedule: weekly }],
    };
    const { runs } = dueAudienceRuns(flow, at('2026-03-02T00:00:00Z'), at('2026-03-02T12:59:00Z'), { maxCatchUp: 10 });
    expect(brief(runs)).toEqual([
      ['2026-03-02T01:00', 'b', 'dfl_1:b:2026-03-02T01:00:00.000Z'],
      ['2026-03-02T04:00', 'b', 'dfl_1:b:2026-03-02T04:00:00.000Z'],
      ['2026-03-02T06:00', 'a', 'dfl_1:2026-03-02T06:00:00.000Z'],
      ['2026-03-02T07:00', 'b', 'dfl_1:b:2026-03-02T07:00:00.000Z'],
      ['2026-03-02T10:00', 'b', 'dfl_1:b:2026-03-02T10:00:00.000Z'],
      ['2026-03-02T12:30', 'c', 'dfl_1:c:2026-03-02T12:30:00.000Z'],
    ]);
  });

  it('a tick exports only the audiences due in its window', () => {
    const flow: ScheduledDataflow = { id: 'f', schedule: daily6, audienceIds: ['a', 'b'], audiences: [{ id: 'b', schedule: weekly }] };
    expect(brief(dueAudienceRuns(flow, at('2026-03-02T05:59:00Z'), at('2026-03-02T06:01:00Z')).runs)).toEqual([['2026-03-02T06:00', 'a', 'f:2026-03-02T06:00:00.000Z']]);
    expect(brief(dueAudienceRuns(flow, at('2026-03-02T12:29:00Z'), at('2026-03-02T12:31:00Z')).runs)).toEqual([['2026-03-02T12:30', 'b', 'f:b:2026-03-02T12:30:00.000Z']]);
    expect(dueAudienceRuns(flow, at('2026-03-02T06:01:00Z'), at('2026-03-02T12:29:00Z')).runs).toEqual([]);
  });

  it('two audiences at the same time keep separate runs, so each slot key is unique', () => {
    const flow: ScheduledDataflow = { id: 'f', audienceIds: ['a', 'b'], audiences: [{ id: 'a', schedule: daily6 }, { id: 'b', schedule: daily6 }] };
    const { runs } = dueAudienceRuns(flow, at('2026-03-02T00:00:00Z'), at('2026-03-02T07:00:00Z'));
    expect(brief(runs)).toEqual([
      ['2026-03-02T06:00', 'a', 'f:a:2026-03-02T06:00:00.000Z'],
      ['2026-03-02T06:00', 'b', 'f:b:2026-03-02T06:00:00.000Z'],
    ]);
  });

  it('an audience with schedule null runs only on demand; every audience on its own: no dataflow run', () => {
    const quiet: ScheduledDataflow = { id: 'f', schedule: daily6, audienceIds: ['a', 'b'], audiences: [{ id: 'a', schedule: null }] };
    expect(brief(dueAudienceRuns(quiet, at('2026-03-02T00:00:00Z'), at('2026-03-02T07:00:00Z')).runs)).toEqual([['2026-03-02T06:00', 'b', 'f:2026-03-02T06:00:00.000Z']]);
    const own: ScheduledDataflow = { id: 'f', schedule: daily6, audienceIds: ['a'], audiences: [{ id: 'a', schedule: weekly }] };
    expect(dueAudienceRuns(own, at('2026-03-02T00:00:00Z'), at('2026-03-02T07:00:00Z')).runs).toEqual([]);
  });

  it('a dataset dataflow (no audiences) runs on its own schedule', () => {
    const { runs } = dueAudienceRuns({ id: 'd', schedule: daily6, audienceIds: [] }, at('2026-03-02T00:00:00Z'), at('2026-03-02T07:00:00Z'));
    expect(brief(runs)).toEqual([['2026-03-02T06:00', '*', 'd:2026-03-02T06:00:00.000Z']]);
  });

  it('bounded catch-up applies per schedule, and missed slots add up', () => {
    const flow: ScheduledDataflow = { id: 'f', schedule: daily6, audienceIds: ['a', 'b'], audiences: [{ id: 'b', schedule: every3h }] };
    const { runs, missed } = dueAudienceRuns(flow, at('2026-03-01T00:00:00Z'), at('2026-03-06T00:00:00Z'), { maxCatchUp: 2 });
    // daily: 5 slots (Mar 1–5), 2 kept; every 3 h: 40 slots, 2 kept.
    expect(missed).toBe(3 + 38);
    expect(brief(runs)).toEqual([
      ['2026-03-04T06:00', 'a', 'f:2026-03-04T06:00:00.000Z'],
      ['2026-03-05T19:00', 'b', 'f:b:2026-03-05T19:00:00.000Z'],
      ['2026-03-05T22:00', 'b', 'f:b:2026-03-05T22:00:00.000Z'],
      ['2026-03-05T06:00', 'a', 'f:2026-03-05T06:00:00.000Z'],
    ].sort((x, y) => x[0]!.localeCompare(y[0]!)));
  });

  it('after-evaluation schedules see only the evaluations of their own audiences', () => {
    const after = schedule({ frequency: 'daily', time: 'afterEvaluation', startDate: '2026-03-01' });
    const once = schedule({ frequency: 'once', time: 'afterEvaluation', startDate: '2026-03-01' });
    const flow: ScheduledDataflow = { id: 'f', schedule: after, audienceIds: ['a', 'b', 'c'], audiences: [{ id: 'b', schedule: after }, { id: 'c', schedule: once }] };
    const evaluated: Record<string, string[]> = { a: ['2026-03-02T03:00:00Z'], b: ['2026-03-02T04:00:00Z', '2026-03-02T05:00:00Z'], c: ['2026-03-02T02:00:00Z'] };
    const asked: string[][] = [];
    const evaluations = (ids: readonly string[]) => {
      asked.push([...ids]);
      return ids.flatMap((id) => evaluated[id] ?? []).map(at);
    };
    const { runs } = dueAudienceRuns(flow, at('2026-03-02T00:00:00Z'), at('2026-03-02T06:00:00Z'), { evaluations });
    expect(asked).toEqual([['a'], ['b'], ['c']]);
    expect(brief(runs)).toEqual([
      ['2026-03-02T02:00', 'c', 'f:c:once-after-evaluation'],
      ['2026-03-02T03:00', 'a', 'f:2026-03-02T03:00:00.000Z'],
      ['2026-03-02T04:00', 'b', 'f:b:2026-03-02T04:00:00.000Z'],
      ['2026-03-02T05:00', 'b', 'f:b:2026-03-02T05:00:00.000Z'],
    ]);
  });
});
