/**
 * Summary of a V8 CPU profile (`node --cpu-prof`): self time by function and by module, largest
 * first. Self time of a node is the sum of the sampling intervals whose sample landed in it.
 * A `.cpuprofile` covers the main thread only: work on libuv's thread pool (node:zlib streams,
 * file reads) or in native addons called off-thread does not appear in it.
 */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Profiled time (first to last sample), ms. */
  totalMs: number;
  /** Time in V8's `(idle)` node: the main thread waiting (I/O, thread pool, timers), ms. */
  idleMs: number;
  functions: { name: string; ms: number }[];
  modules: { name: string; ms: number }[];
}

/** Where a script URL belongs: a file of the project, a package, Node's internals, or V8's pseudo-nodes. */
export function moduleOf(url: string, functionName: string, root: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  // node:internal/streams/readable → node:internal/streams; node:zlib stays.
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1]!;
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** A script URL as a short path: relative to the project, from the package in node_modules, or node:…. */
function fileOf(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, '');
  const inPackage = /node_modules\/(.*)$/.exec(path);
  if (inPackage) return inPackage[1]!;
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** The top `top` functions and modules by self time of the profile at `path`. */
export function summariseProfile(path: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url } = byId.get(id)!.callFrame;
    const module = moduleOf(url, functionName, root);
    if (functionName === '(idle)') idle += us;
    // tsx's transpiled output keeps no useful line numbers: a function is named by its file.
    const name = url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${fileOf(url, root)}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    modules.set(module, (modules.get(module) ?? 0) + us);
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000 }));
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: idle / 1000,
    functions: ranked(functions),
    modules: ranked(modules),
  };
}
