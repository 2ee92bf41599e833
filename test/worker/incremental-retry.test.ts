/**
 * An incremental dataflow with two audiences whose run fails on the second audience and is retried
 * by the queue: the retry must export the same deltas again. Before the states were staged, audience
 * 1 committed on its own, so the retry found "nothing changed" and overwrote its delta file (same
 * key, same scheduled time) with a header-only file: the delta was lost.
 */
import { describe, expect, inject, it } from 'vitest';
import { consumeBatch } from '../../src/worker/consumer.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import { executeRun } from '../../src/worker/execute.ts';
import { call, newOrg, platformOf, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';

const moto = inject('moto');
const profiles = (n: number, tier: (i: number) => string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `p${i}`, identities: { email: [`p${i}@x.com`] }, attributes: { tier: tier(i) } }),
  ).join('\n');

describe('incremental runs with several audiences', () => {
  it('a run retried after a failure in audience 2 exports audience 1’s delta again, not an empty file', async () => {
    const folder = `${moto.folder}incremental-retry/`;
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const org = await newOrg(e);
    const api = (method: string, path: string, body?: unknown, raw?: string) =>
      call(e, method, path, {
        token: org.token,
        ...(raw ? { raw, headers: { 'Content-Type': 'application/x-ndjson' } } : { body }),
      });
    await api(
      'POST',
      '/profiles',
      undefined,
      profiles(10, (i) => (i % 2 ? 'silver' : 'gold')),
    );
    const dest = await api('POST', '/destinations', motoDestinationBody(folder));
    const gold = await api('POST', '/audiences', {
      kind: 'rule',
      name: 'gold',
      rule: 'attributes.tier = "gold"',
    });
    const silver = await api('POST', '/audiences', {
      kind: 'rule',
      name: 'silver',
      rule: 'attributes.tier = "silver"',
    });
    const flow = await api('POST', '/dataflows', {
      name: 'incremental',
      destinationId: dest.body.id,
      audienceIds: [gold.body.id, silver.body.id],
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.tier' }] },
      schedule: { frequency: 'once', startDate: '2026-04-01' },
      exportMode: 'incremental',
    });
    expect(flow.status, flow.text).toBe(201);

    let failSilver = false;
    const faultyFetch: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (failSilver && url.includes('/silver/'))
        return Promise.resolve(new Response('<Error><Code>InternalError</Code></Error>', { status: 500 }));
      return fetch(input, init);
    };
    const deliver = async (message: RunMessage, attempts: number) => {
      let retried = false;
      await consumeBatch(
        {
          queue: 'edge-export-runs',
          messages: [
            {
              id: 'm',
              body: message,
              attempts,
              ack: () => {},
              retry: () => {
                retried = true;
              },
            },
          ],
        },
        e,
        { executeRun: (env, run) => executeRun(env, run, platformOf(env, { fetch: faultyFetch })) },
      );
      return retried;
    };
    const runOnce = async () => {
      const run = await api('POST', `/dataflows/${flow.body.id}/run`);
      return { runId: run.body.id as string, orgId: org.id };
    };

    // Run 1: the first full state (5 gold, 5 silver).
    expect(await deliver(await runOnce(), 1)).toBe(false);
    // New members: p10 and p12 are gold, p11 silver.
    await api(
      'POST',
      '/profiles',
      undefined,
      profiles(13, (i) => (i % 2 ? 'silver' : 'gold')),
    );
    const second = await runOnce();
    failSilver = true;
    expect(await deliver(second, 1)).toBe(true); // S3 errors on silver: the queue will retry the run
    const s3 = motoAdmin();
    failSilver = false;
    expect(await deliver(second, 2)).toBe(false);

    const runs = (await api('GET', `/runs?dataflowId=${flow.body.id}`)).body.items as {
      id: string;
      status: string;
      files: { key: string }[];
    }[];
    const retried = runs.find((r) => r.id === second.runId)!;
    expect(retried.status).toBe('succeeded');
    const goldFile = retried.files.find((f) => f.key.includes('/gold/') && f.key.endsWith('.csv'))!;
    const silverFile = retried.files.find((f) => f.key.includes('/silver/') && f.key.endsWith('.csv'))!;
    // Whether the failed attempt's gold file is still there depends on whether run 1 wrote the same
    // key (both runs in the same second) — a new file is taken back when its run fails. What matters
    // is what the retry leaves: the delta, not a header-only file.
    const goldText = (await s3.get(goldFile.key)).text;
    const ids = (text: string) =>
      text
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort();
    expect(ids(goldText)).toEqual(['p10', 'p12']);
    expect(ids((await s3.get(silverFile.key)).text)).toEqual(['p11']);

    // The states moved on together: a third run finds nothing new in either audience.
    expect(await deliver(await runOnce(), 1)).toBe(false);
    const third = (await api('GET', `/runs?dataflowId=${flow.body.id}`)).body.items as {
      status: string;
      rows: number;
    }[];
    expect(third[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    const staged = await e.DB.prepare(
      "SELECT count(*) AS n FROM export_state WHERE subject_id LIKE '%@staged:%'",
    ).first<{ n: number }>();
    expect(staged?.n).toBe(0);
  });
});
