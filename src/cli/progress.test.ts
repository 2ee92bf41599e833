import { describe, expect, it } from 'vitest';
import { progressLine, progressReporter } from './progress.ts';

function capture(isTTY: boolean) {
  const lines: string[] = [];
  let t = 0;
  const reporter = progressReporter({ out: { isTTY, write: (s: string) => lines.push(s) }, now: () => t });
  return { lines, reporter, tick: (ms: number) => (t += ms) };
}

describe('progress', () => {
  it('formats rows, bytes, rate and files', () => {
    expect(progressLine({ rows: 1_500_000, bytes: 150 * 1024 * 1024, files: 1 }, 10_000)).toBe(
      'rows 1,500,000 · 150.0 MiB · 150,000 rows/s · files 1 · 10.0 s',
    );
  });

  it('writes plain lines at most once per interval, and on every finished file, when not a terminal', () => {
    const { lines, reporter, tick } = capture(false);
    reporter.onProgress({ rows: 10, bytes: 0, files: 0 }); // first: shown
    tick(5_000);
    reporter.onProgress({ rows: 20, bytes: 0, files: 0 }); // within 10 s: not shown
    tick(5_000);
    reporter.onProgress({ rows: 30, bytes: 0, files: 0 }); // 10 s later: shown
    reporter.onProgress({ rows: 30, bytes: 0, files: 1 }); // a finished file: shown
    reporter.done();
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(lines[2]).toContain('files 1');
  });

  it('rewrites one line on a terminal and ends it with a newline', () => {
    const { lines, reporter, tick } = capture(true);
    reporter.onProgress({ rows: 10, bytes: 0, files: 0 });
    tick(50);
    reporter.onProgress({ rows: 15, bytes: 0, files: 0 }); // within 100 ms: not shown
    tick(100);
    reporter.onProgress({ rows: 20, bytes: 0, files: 0 });
    reporter.done();
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).every((l) => l.startsWith('\r\u001b[2K'))).toBe(true);
    expect(lines.at(-1)).toBe('\n');
  });
});
