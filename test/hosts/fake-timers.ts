/** A hand-driven timer for the host tests: nothing fires until the test says so, so nothing sleeps. */
export function fakeTimers() {
  let next = 0;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  return {
    setTimer: (fn: () => void, ms: number): unknown => {
      pending.set(++next, { fn, ms });
      return next;
    },
    clearTimer: (handle: unknown) => void pending.delete(handle as number),
    /** Delays of the timers armed and not yet fired, in arming order. */
    delays: () => [...pending.values()].map((t) => t.ms),
    /** Fires every armed timer (those armed meanwhile wait for the next call). */
    fireAll() {
      const due = [...pending.entries()];
      for (const [id, timer] of due) {
        pending.delete(id);
        timer.fn();
      }
    },
  };
}
