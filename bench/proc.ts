/**
 * Process figures from /proc for the benches (fan-out, soak, workerd): a descendant process by its
 * command name (the workerd Miniflare started, moto's python), its CPU seconds and memory, and a
 * reset of its peak. Linux only.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const TICKS = 100;

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === ppid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** The first descendant of this process whose command name passes `match`. */
export function descendantPid(match: (comm: string) => boolean): number | undefined {
  const queue = childPids(process.pid);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      if (match(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) return pid;
    } catch {
      continue;
    }
    queue.push(...childPids(pid));
  }
  return undefined;
}

/** utime + stime of a process, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** VmRSS, VmHWM (peak) or RssAnon of a process in whole MiB (0 once it is gone). */
export function memoryMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  if (pid === undefined) return 0;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return Math.round(Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** Resets a process's peak RSS (VmHWM) so it covers only what follows; false when not permitted. */
export function resetPeak(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
