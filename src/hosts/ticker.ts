/**
 * A cron for hosts without one (Node): calls `onTick` at every whole minute with that minute as the
 * scheduled time, like a Cron Trigger's `scheduledTime`. Re-armed after each tick from the clock, so
 * it does not drift; a tick still running when the next is due makes that one skip (the Worker's tick
 * is idempotent and catches up from `scheduled_through`, so nothing is lost).
 */

export interface TickerOptions {
  /** Minutes between ticks, aligned to the hour (default 1). */
  readonly everyMinutes?: number;
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  readonly clearTimer?: (handle: unknown) => void;
  /** Told about a tick that threw; the ticker keeps going. */
  readonly onError?: (error: unknown) => void;
}

/** The next multiple of `minutes` minutes strictly after `now` (epoch ms). */
export function nextSlot(now: number, minutes = 1): number {
  const step = minutes * 60_000;
  return Math.floor(now / step) * step + step;
}

/** Starts ticking; returns a function that stops it. */
export function everyMinute(onTick: (scheduledTime: Date) => Promise<unknown>, options: TickerOptions = {}) {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? setTimeout;
  const clearTimer = options.clearTimer ?? ((h: unknown) => clearTimeout(h as never));
  let handle: unknown;
  let busy = false;
  let stopped = false;
  let last = 0;
  const arm = () => {
    if (stopped) return;
    // From the last slot too: a timer firing a little early must not run the same slot twice.
    const slot = nextSlot(Math.max(now(), last), options.everyMinutes ?? 1);
    handle = setTimer(() => fire(slot), Math.max(0, slot - now()));
  };
  const fire = (slot: number) => {
    last = slot;
    arm();
    if (busy) return;
    busy = true;
    onTick(new Date(slot))
      .catch((error) => options.onError?.(error))
      .finally(() => {
        busy = false;
      });
  };
  arm();
  return () => {
    stopped = true;
    clearTimer(handle);
  };
}
