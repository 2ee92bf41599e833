import { describe, expect, it } from 'vitest';
import { everyMinute, nextSlot } from '../../src/hosts/ticker.ts';
import { fakeTimers } from './fake-timers.ts';

const at = (iso: string) => Date.parse(iso);
/** Drains pending promise callbacks (a finished tick clears its busy flag in one). */
const drain = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('everyMinute (the Node host cron)', () => {
  it('computes the next whole minute (or multiple of minutes) strictly after now', () => {
    expect(new Date(nextSlot(at('2026-03-01T10:00:59.999Z'))).toISOString()).toBe('2026-03-01T10:01:00.000Z');
    expect(new Date(nextSlot(at('2026-03-01T10:01:00.000Z'))).toISOString()).toBe('2026-03-01T10:02:00.000Z');
    expect(new Date(nextSlot(at('2026-03-01T10:01:00.000Z'), 5)).toISOString()).toBe(
      '2026-03-01T10:05:00.000Z',
    );
  });

  it('fires at each minute with that minute as the scheduled time, aligned to the clock', async () => {
    const timers = fakeTimers();
    let clock = at('2026-03-01T10:00:20Z');
    const ticks: string[] = [];
    const stop = everyMinute(async (time) => void ticks.push(time.toISOString()), {
      ...timers,
      now: () => clock,
    });
    expect(timers.delays()).toEqual([40_000]);
    clock = at('2026-03-01T10:01:00.004Z');
    timers.fireAll();
    await drain();
    expect(timers.delays()).toEqual([59_996]);
    clock = at('2026-03-01T10:02:00Z');
    timers.fireAll();
    stop();
    expect(timers.delays()).toEqual([]);
    expect(ticks).toEqual(['2026-03-01T10:01:00.000Z', '2026-03-01T10:02:00.000Z']);
  });

  it('never runs a slot twice when a timer fires early', () => {
    const timers = fakeTimers();
    let clock = at('2026-03-01T10:00:30Z');
    const ticks: string[] = [];
    everyMinute(async (time) => void ticks.push(time.toISOString()), { ...timers, now: () => clock });
    clock = at('2026-03-01T10:00:59.990Z'); // 10 ms early
    timers.fireAll();
    expect(timers.delays()).toEqual([60_010]);
    expect(ticks).toEqual(['2026-03-01T10:01:00.000Z']);
  });

  it('skips a tick while the previous one still runs, and reports failures without stopping', async () => {
    const timers = fakeTimers();
    let clock = at('2026-03-01T10:00:00Z');
    let release!: () => void;
    const errors: unknown[] = [];
    const ticks: string[] = [];
    everyMinute(
      (time) => {
        ticks.push(time.toISOString());
        if (ticks.length === 1) return new Promise<void>((resolve) => (release = resolve));
        return Promise.reject(new Error('tick failed'));
      },
      { ...timers, now: () => clock, onError: (e) => errors.push(e) },
    );
    for (const minute of ['01', '02']) {
      clock = at(`2026-03-01T10:${minute}:00Z`);
      timers.fireAll();
    }
    expect(ticks).toEqual(['2026-03-01T10:01:00.000Z']); // 10:02 skipped: 10:01 still running
    release();
    await drain();
    clock = at('2026-03-01T10:03:00Z');
    timers.fireAll();
    await drain();
    expect(ticks).toEqual(['2026-03-01T10:01:00.000Z', '2026-03-01T10:03:00.000Z']);
    expect(errors).toHaveLength(1);
  });
});
