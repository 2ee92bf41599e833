/**
 * workerd's V8 inspector for the soak bench: one session per isolate (the Worker, Miniflare's D1 and
 * queue broker), reading heap usage and optionally forcing a full GC first. Runtime is never enabled,
 * so nothing accumulates in the inspected isolates. Needs `node --experimental-websocket` on Node 20.
 */
import { createServer } from 'node:net';

const MiB = 2 ** 20;

/** A free loopback port for workerd's inspector. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}
/** Isolate group of an inspector target id: the Worker itself, D1, the queue broker, or other Miniflare plumbing. */
const groupOf = (id: string) =>
  id === 'core:user:' ? 'worker' : id.startsWith('d1:') ? 'd1' : id.startsWith('queues:') ? 'queue' : 'other';
export interface Inspector {
  /** V8 heap used, heap committed and ArrayBuffer backing stores per isolate group, MiB. */
  heaps(): Promise<Record<string, number>>;
  /** Queues a full GC in the Worker and D1 isolates; workerd runs it when the isolate next handles an event. */
  collect(timeoutMs: number): Promise<number>;
  /**
   * A heap snapshot (V8's JSON) of the group's isolate. Like a GC, workerd takes it when the isolate
   * next handles an event, so `poke` sends it one until the snapshot has arrived.
   */
  snapshot(group: string, poke: () => Promise<unknown>): Promise<string>;
  close(): void;
}
type Usage = { usedSize: number; totalSize: number; backingStorageSize?: number };

/** Connects to every isolate workerd's inspector lists. */
export async function openInspector(port: number): Promise<Inspector> {
  const WS = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!WS) throw new Error('--inspect needs a WebSocket: run node --experimental-websocket bin/run-ts.js …');
  const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const sessions = await Promise.all(
    (list as { id: string; webSocketDebuggerUrl: string }[]).map(async (t) => {
      const ws = new WS(t.webSocketDebuggerUrl);
      const pending = new Map<number, (result: unknown) => void>();
      const chunks: string[] = [];
      ws.addEventListener('message', (e) => {
        const m = JSON.parse(String(e.data));
        if (m.id) pending.get(m.id)?.(m.result);
        else if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(m.params.chunk);
      });
      await new Promise((r) => ws.addEventListener('open', r, { once: true }));
      let next = 0;
      const send = <T>(method: string, params?: object) => {
        const id = ++next;
        return new Promise<T>((r) => {
          pending.set(id, (result) => {
            pending.delete(id);
            r(result as T);
          });
          ws.send(JSON.stringify({ id, method, ...(params && { params }) }));
        });
      };
      return { group: groupOf(t.id), ws, send, chunks };
    }),
  );
  return {
    heaps: async () => {
      const out: Record<string, number> = {};
      for (const s of sessions) {
        const u = await s.send<Usage>('Runtime.getHeapUsage');
        const values = [u.usedSize, u.totalSize, u.backingStorageSize ?? 0];
        ['', 'Total', 'AB'].forEach((suffix, i) => {
          out[s.group + suffix] = (out[s.group + suffix] ?? 0) + values[i]! / MiB;
        });
      }
      return out;
    },
    collect: async (timeoutMs) => {
      const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs));
      const done = sessions.map((s) =>
        Promise.race([s.send('HeapProfiler.collectGarbage').then(() => true), timeout]),
      );
      return (await Promise.all(done)).filter(Boolean).length;
    },
    snapshot: async (group, poke) => {
      const session = sessions.find((s) => s.group === group);
      if (!session) throw new Error(`no isolate of group ${group}`);
      session.chunks.length = 0;
      let done = false;
      const taken = session.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }).then(() => {
        done = true;
      });
      while (!done) await Promise.race([taken, poke().then(() => new Promise((r) => setTimeout(r, 200)))]);
      const json = session.chunks.join('');
      session.chunks.length = 0;
      return json;
    },
    close: () => {
      for (const s of sessions) s.ws.close();
    },
  };
}

/** Objects of one kind in a heap snapshot: V8's node type and name (constructor, or code kind). */
export type Census = Map<string, { count: number; bytes: number }>;

/** Counts a heap snapshot's objects by type and name, with their shallow sizes. */
export function census(snapshotJson: string): Census {
  const snapshot = JSON.parse(snapshotJson) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number];
  const types = snapshot.snapshot.meta.node_types[0];
  const out: Census = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const key = `${types[snapshot.nodes[i + typeAt]!]}: ${snapshot.strings[snapshot.nodes[i + nameAt]!]!.slice(0, 60)}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

/** The kinds whose total size changed most from `before` to `after`, largest growth first. */
export function censusGrowth(before: Census, after: Census, top: number) {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys]
    .map((kind) => {
      const a = before.get(kind) ?? { count: 0, bytes: 0 };
      const b = after.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, objects: b.count - a.count, bytes: b.bytes - a.bytes };
    })
    .sort((x, y) => Math.abs(y.bytes) - Math.abs(x.bytes))
    .slice(0, top);
}
