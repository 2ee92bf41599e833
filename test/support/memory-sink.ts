import { collectBytes } from '../../src/core/streams.ts';
import type { FormatContext, RunContext, Schema, SinkStage } from '../../src/core/types.ts';

/** An in-memory sink for pipeline unit tests: atomic like the real ones, and can fail on demand. */
export function memorySink(options: { failOn?: (key: string) => boolean } = {}) {
  const objects = new Map<string, { body: Uint8Array; contentType: string; contentEncoding?: string }>();
  const removed: string[] = [];
  const sink: SinkStage = {
    kind: 'sink',
    name: 'memory',
    async write(_ctx: RunContext, file) {
      const body = await collectBytes(file.body);
      if (options.failOn?.(file.key)) throw new Error(`injected failure for ${file.key}`);
      objects.set(file.key, {
        body,
        contentType: file.contentType,
        ...(file.contentEncoding && { contentEncoding: file.contentEncoding }),
      });
      return { key: file.key, size: body.byteLength, location: `memory://${file.key}` };
    },
    async remove(_ctx, key) {
      removed.push(key);
      objects.delete(key);
    },
  };
  return { sink, objects, removed, text: (key: string) => new TextDecoder().decode(objects.get(key)?.body) };
}

/** A fixed runtime: deterministic time and ids. */
export function fixedRuntime(iso = '2026-03-04T05:06:07Z') {
  let n = 0;
  return {
    now: () => new Date(iso),
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    fetch: globalThis.fetch,
  };
}

/** The context a format stage is opened with in unit tests: file 1 of run "run", time 0. */
export function formatContext(schema: Schema = []): FormatContext {
  return {
    schema,
    fileIndex: 1,
    runId: 'run',
    scheduledTime: new Date(0),
    now: () => new Date(0),
    uuid: () => 'uuid',
    fetch,
  };
}
