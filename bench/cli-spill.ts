/**
 * Memory of a partitioned CLI export as rows grow, sorting in memory or spilling to disk: for each
 * size, `edge-export export --dry-run` (the whole pipeline, nothing stored) runs in a child process
 * over N generated profiles, partitioned by one of 16 values, once with a budget above the data (the
 * sort stays in memory) and once with a small one (sorted runs spill to a temporary folder). The
 * child samples `process.memoryUsage()` every 50 ms (peak heap, garbage included) and, every 500 ms,
 * after a full GC (peak live heap), and reports the peaks. Figures only: no timing.
 *
 * Run: node bin/run-ts.js bench/cli-spill.ts [ROWS…] [--spill-budget 8MiB]
 *      (default sizes 50000 200000)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..');

if (process.argv[2] === '--child') {
  // The child: the CLI's `main` with a memory sampler beside it.
  const { runCli } = await import('../test/support/cli.ts');
  const peak = { heapUsed: 0, live: 0, rss: 0, external: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.rss = Math.max(peak.rss, m.rss);
    peak.external = Math.max(peak.external, m.external + m.arrayBuffers);
  };
  const sampler = setInterval(sample, 50);
  const gc = (globalThis as { gc?: () => void }).gc!;
  const live = setInterval(() => {
    gc();
    peak.live = Math.max(peak.live, process.memoryUsage().heapUsed);
  }, 500);
  const { code, out, err } = await runCli(...process.argv.slice(3));
  clearInterval(sampler);
  clearInterval(live);
  if (code !== 0) process.stderr.write(err);
  sample();
  const summary = JSON.parse(out) as { rows: number; spilled?: { files: number; bytes: number } };
  process.stdout.write(`${JSON.stringify({ code, rows: summary.rows, spilled: summary.spilled ?? null, peak })}\n`);
} else {
  const { values, positionals } = parseArgs({ options: { 'spill-budget': { type: 'string', default: '8MiB' } }, allowPositionals: true });
  const sizes = positionals.length > 0 ? positionals.map(Number) : [50_000, 200_000];
  const dir = await mkdtemp(join(tmpdir(), 'bench-cli-spill-'));
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  try {
    console.log('rows     sort        peak heap MiB  peak live heap MiB  peak rss MiB  spilled files  spilled MiB');
    for (const n of sizes) {
      const source = join(dir, `profiles-${n}.ndjson`);
      const lines: string[] = [];
      for (let i = 0; i < n; i++) {
        const attributes = { region: `r${(i * 7) % 16}`, name: `person ${i}`, email: `user${i}@example.com`, score: i % 1000 };
        lines.push(JSON.stringify({ id: `p${i}`, identities: {}, attributes, updatedAt: '2026-01-01T00:00:00Z' }));
      }
      await writeFile(source, `${lines.join('\n')}\n`);
      const config = join(dir, `config-${n}.json`);
      await writeFile(
        config,
        JSON.stringify({
          plugins: { plugins: [{ use: 'format/csv' }, { use: 'sink/local', options: { directory: join(dir, 'out') } }] },
          destination: { id: 'bench', name: 'bench' },
          source: { path: source },
          audience: { id: 'all', name: 'all' },
          mapping: {
            fields: [
              { source: 'id' },
              { source: 'attributes.region', target: 'region' },
              { source: 'attributes.name', target: 'name' },
              { source: 'attributes.email', target: 'email' },
              { source: 'attributes.score', target: 'score' },
            ],
          },
          output: { partitionBy: { columns: ['region'] } },
        }),
      );
      for (const [label, budget] of [
        ['memory', '4GiB'],
        [`disk ${values['spill-budget']}`, values['spill-budget']!],
      ] as const) {
        const child = spawn(
          process.execPath,
          ['--expose-gc', join(ROOT, 'bin/run-ts.js'), 'bench/cli-spill.ts', '--child', 'export', '--config', config, '--dry-run', '--no-progress', '--sort-budget', budget],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        await once(child, 'exit');
        const r = JSON.parse(out) as { code: number; rows: number; spilled: { files: number; bytes: number } | null; peak: { heapUsed: number; live: number; rss: number } };
        if (r.code !== 0 || r.rows !== n) throw new Error(`export of ${n} rows failed: ${out}`);
        console.log(
          [String(n).padEnd(8), label.padEnd(11), mib(r.peak.heapUsed).padStart(13), mib(r.peak.live).padStart(19), mib(r.peak.rss).padStart(13), String(r.spilled?.files ?? 0).padStart(14), mib(r.spilled?.bytes ?? 0).padStart(12)].join(' '),
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
