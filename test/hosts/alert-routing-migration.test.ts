/** Migration 0009 (alert routing) on a database created before it, on the Node host's SQLite. */
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openNodeDatabase } from '../../src/hosts/node/sqlite.ts';

const migrations = fileURLToPath(new URL('../../migrations', import.meta.url));

describe('migration 0009 (alert routing) on a database created before it', () => {
  it('keeps the outbox rows and ids, accepts run.recovered, and lets one lateness alert per run in', async () => {
    const before = mkdtempSync(join(tmpdir(), 'edge-export-migrations-'));
    for (const name of readdirSync(migrations).filter((n) => n.endsWith('.sql') && n < '0009')) copyFileSync(join(migrations, name), join(before, name));
    const path = join(mkdtempSync(join(tmpdir(), 'edge-export-d1-')), 'before-alert-routing.sqlite');
    const old = await openNodeDatabase(path, before);
    const insert = (event: string, runId: string | null) =>
      `INSERT INTO alerts (org_id, dataflow_id, run_id, event, url, payload, next_attempt_at, created_at) VALUES ('org_a', 'dfl_a', ${runId === null ? 'NULL' : `'${runId}'`}, '${event}', 'https://h.example/', '{}', 'now', 'now')`;
    await old.db.exec(`${insert('run.failed', 'run_1')}; ${insert('run.delayed', null)}; ${insert('run.delayed', null)}`);
    await expect(old.db.exec(insert('run.recovered', 'run_1'))).rejects.toThrow(/CHECK constraint/);
    old.close();

    const now = await openNodeDatabase(path, migrations);
    expect(now.applied).toContain('0009_alert_routing.sql');
    const rows = await now.db.prepare('SELECT id, event, run_id FROM alerts ORDER BY id').all();
    expect(rows.results).toEqual([
      { id: 1, event: 'run.failed', run_id: 'run_1' },
      { id: 2, event: 'run.delayed', run_id: null },
      { id: 3, event: 'run.delayed', run_id: null },
    ]);
    await now.db.exec(insert('run.recovered', 'run_2'));
    await now.db.exec(insert('run.delayed', 'run_2'));
    await expect(now.db.exec(insert('run.delayed', 'run_2'))).rejects.toThrow(/UNIQUE constraint/);
    await now.db.exec(insert('run.delayed', null));
    const ids = await now.db.prepare('SELECT id FROM alerts ORDER BY id').all<{ id: number }>();
    expect(ids.results.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6]);
    const flow = await now.db.prepare("SELECT name FROM pragma_table_info('dataflows') WHERE name IN ('alert_events', 'alert_format', 'late_after_minutes') ORDER BY name").all();
    expect(flow.results).toEqual([{ name: 'alert_events' }, { name: 'alert_format' }, { name: 'late_after_minutes' }]);
    now.close();
  });
});
