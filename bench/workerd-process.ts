/**
 * Runs one Worker in the workerd binary from node_modules directly (not through Miniflare), so the
 * config can carry `v8Flags` — Miniflare builds its own config and exposes no way to set them.
 * With `--max-heap-size=128` V8 aborts the process when the isolate's heap passes 128 MB, which is
 * the closest local stand-in for the Workers 128 MB limit. `--trace-gc` makes V8 print the heap
 * size at every collection, which is how the bench reads the heap's peak from outside.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface WorkerdOptions {
  /** The bundled ES module. */
  script: string;
  /** Text bindings, by name. */
  bindings: Record<string, string>;
  v8Flags: string[];
  compatibilityDate: string;
}

export interface Workerd {
  readonly pid: number;
  readonly url: string;
  /** Everything workerd (and V8) printed on stdout and stderr so far; the bench clears it. */
  readonly output: string[];
  /** Set once the process has exited (e.g. V8 aborted it at the heap limit). */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Resolves at the first line (already printed or still to come) containing `text`. */
  waitForLine(text: string): Promise<void>;
  stop(): Promise<void>;
}

const WORKERD = (createRequire(import.meta.url)('workerd') as { default: string }).default;

/** Text capnp config: one Worker on 127.0.0.1 (port chosen by the OS), allowed to reach loopback. */
function capnpConfig(options: WorkerdOptions): string {
  const bindings = Object.keys(options.bindings)
    .map((name) => `(name = ${JSON.stringify(name)}, text = embed ${JSON.stringify(`${name}.txt`)})`)
    .join(', ');
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .bench),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
  v8Flags = [${options.v8Flags.map((f) => JSON.stringify(f)).join(', ')}],
);
const bench :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(options.compatibilityDate)},
  bindings = [${bindings}],
  globalOutbound = "loopback",
);
`;
}

function collect(stream: Readable | null, into: string[], onLine: (line: string) => void): void {
  if (!stream) return;
  createInterface(stream).on('line', (line) => {
    into.push(line);
    onLine(line);
  });
}

/** The port workerd reports on its control descriptor once the socket listens. */
function listenPort(control: Readable, child: ChildProcess, output: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface(control);
    lines.on('line', (line) => {
      const message = JSON.parse(line) as { event?: string; port?: number };
      if (message.event === 'listen' && message.port) resolve(message.port);
    });
    child.once('exit', () => reject(new Error(`workerd exited before listening:\n${output.join('\n')}`)));
  });
}

/** Starts workerd with the Worker; resolves once it listens. */
export async function startWorkerd(options: WorkerdOptions): Promise<Workerd> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-workerd-'));
  writeFileSync(join(dir, 'worker.js'), options.script);
  for (const [name, value] of Object.entries(options.bindings))
    writeFileSync(join(dir, `${name}.txt`), value);
  writeFileSync(join(dir, 'config.capnp'), capnpConfig(options));
  // stdbuf -oL: V8's trace goes through stdio, block-buffered on a pipe; line-buffered, each GC line
  // arrives before the console.log marker the Worker prints after it (same stdout, same order).
  const args = ['serve', 'config.capnp', '--control-fd=3'];
  const child = spawn('stdbuf', ['-oL', WORKERD, ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiting: { text: string; resolve: () => void }[] = [];
  const onLine = (line: string) => {
    for (const w of waiting.filter((w) => line.includes(w.text))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve();
    }
  };
  collect(child.stdout, output, onLine);
  collect(child.stderr, output, onLine);
  let exit: Workerd['exit'];
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const port = await listenPort(child.stdio[3] as Readable, child, output);
  return {
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    output,
    exited,
    waitForLine(text: string) {
      if (output.some((l) => l.includes(text))) return Promise.resolve();
      return Promise.race([new Promise<void>((resolve) => waiting.push({ text, resolve })), exited]);
    },
    get exit() {
      return exit;
    },
    async stop() {
      if (!exit) child.kill('SIGKILL'); // SIGTERM waits for a running invocation to finish
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { cpuSeconds, memoryMiB, resetPeak } from './proc.ts';

export interface GcTrace {
  /** Largest heap in use when a collection started, MiB (V8 prints 2^20-byte "MB"). */
  peakUsedMiB: number;
  /** Largest heap committed (reserved pages V8 holds, used or not), MiB. */
  peakCommittedMiB: number;
  /** Heap in use after the last collection, MiB. */
  lastAfterMiB: number;
  /** Heap still in use after each full collection V8 chose to run (not forced ones): the live set, MiB. */
  liveAfterFullGcMiB: number[];
  /** Largest "External memory reported" (ArrayBuffer backing stores and other off-heap memory V8 is told of), MiB. */
  peakExternalMiB: number;
  collections: number;
}

const GC_LINE =
  /: (?:Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)\b.*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;
const EXTERNAL_LINE = /External memory reported:\s+(\d+) KB/;

/**
 * Reads `--trace-gc` lines (`Scavenge 12.3 (14.0) -> 8.1 (15.0) MB`: used (committed) before ->
 * after) and the `--trace-gc-verbose` statistics printed after each collection.
 */
export function gcTrace(lines: readonly string[]): GcTrace {
  const trace: GcTrace = {
    peakUsedMiB: 0,
    peakCommittedMiB: 0,
    lastAfterMiB: 0,
    liveAfterFullGcMiB: [],
    peakExternalMiB: 0,
    collections: 0,
  };
  for (const line of lines) {
    const gc = GC_LINE.exec(line);
    if (gc) {
      trace.collections++;
      trace.peakUsedMiB = Math.max(trace.peakUsedMiB, Number(gc[1]));
      trace.peakCommittedMiB = Math.max(trace.peakCommittedMiB, Number(gc[2]), Number(gc[4]));
      trace.lastAfterMiB = Number(gc[3]);
      if (line.includes('Mark-Compact') && !line.includes('testing'))
        trace.liveAfterFullGcMiB.push(Number(gc[3]));
      continue;
    }
    const external = EXTERNAL_LINE.exec(line);
    if (external) trace.peakExternalMiB = Math.max(trace.peakExternalMiB, Number(external[1]) / 1024);
  }
  return trace;
}
