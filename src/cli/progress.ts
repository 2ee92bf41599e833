/**
 * Progress of a long export on stderr: a live line on a terminal, plain lines (one per interval and
 * one per finished file) when output goes to a file or a CI log.
 */
import type { ExportProgress } from '../core/pipeline.ts';

export interface ProgressOptions {
  readonly out: { write(text: string): unknown; isTTY?: boolean };
  readonly now?: () => number;
  /** Minimum time between two updates: 100 ms on a terminal, 10 s as plain lines by default. */
  readonly intervalMs?: number;
}

const MiB = 1024 * 1024;
const number = new Intl.NumberFormat('en-US');

/** Formats one progress line: rows, bytes, row rate, files. */
export function progressLine(p: ExportProgress, elapsedMs: number): string {
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  return `rows ${number.format(p.rows)} · ${(p.bytes / MiB).toFixed(1)} MiB · ${number.format(Math.round(p.rows / seconds))} rows/s · files ${p.files} · ${seconds.toFixed(1)} s`;
}

/** Returns the `onProgress` callback for an export and `done()` to close the display. */
export function progressReporter(options: ProgressOptions) {
  const now = options.now ?? Date.now;
  const tty = options.out.isTTY === true;
  const interval = options.intervalMs ?? (tty ? 100 : 10_000);
  const started = now();
  let last = Number.NEGATIVE_INFINITY;
  let files = 0;
  let shown = false;
  const show = (p: ExportProgress) => {
    const line = progressLine(p, now() - started);
    options.out.write(tty ? `\r\u001b[2K${line}` : `${line}\n`);
    shown = true;
  };
  return {
    onProgress(p: ExportProgress) {
      const t = now();
      if (p.files !== files || t - last >= interval) {
        files = p.files;
        last = t;
        show(p);
      }
    },
    done() {
      if (tty && shown) options.out.write('\n');
    },
  };
}
