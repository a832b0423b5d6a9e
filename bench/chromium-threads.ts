/**
 * CPU time by thread of the processes this benchmark started (headless Chromium and its helpers),
 * from Linux's /proc: a snapshot before and after a window says which threads (the page's main
 * thread, its workers, the compositor, the GPU process's software drawing, the fake camera) spent
 * what. Unlike wall time it hardly moves with the machine's load. Empty where /proc is not there.
 */

import { readdirSync, readFileSync } from 'node:fs';

/** One thread's CPU so far: its process's kind (Chromium's --type, or the command), its name and its CPU milliseconds. */
export interface ThreadCpu {
  pid: number;
  tid: number;
  process: string;
  name: string;
  cpuMs: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fields after the command name in a stat file (field 3 is index 0). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The pids below `root` (its children, theirs, …). */
function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const ppid = Number(statFields(stat)[1]);
    const list = parents.get(ppid) ?? [];
    list.push(Number(entry));
    parents.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** A process's kind: Chromium's `--type=` (with a utility's sub-type), else its command's name. */
function processKind(pid: number): string {
  // Chromium rewrites its helpers' command lines into one string: split on spaces too.
  const args = (read(`/proc/${pid}/cmdline`) ?? '').split(/[\0 ]/);
  const type = args.find((a) => a.startsWith('--type='))?.slice(7);
  const sub = args.find((a) => a.startsWith('--utility-sub-type='))?.slice(19);
  if (type) return sub ? `${type}:${sub.split('.').at(-1)}` : type;
  return (read(`/proc/${pid}/comm`) ?? '').trim() || String(pid);
}

/** Every thread of the processes below this one, with its CPU so far. */
export function threadCpu(root = process.pid): ThreadCpu[] {
  const threads: ThreadCpu[] = [];
  for (const pid of descendants(root)) {
    const kind = processKind(pid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    const before = threads.length;
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      const fields = statFields(stat);
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.push({ pid, tid: Number(tid), process: kind, name, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 });
    }
    // The renderer running workers is the app's page (the /output page runs none).
    const own = threads.slice(before);
    if (kind === 'renderer') for (const t of own) t.process = own.some((o) => o.name.startsWith('DedicatedWorker')) ? 'renderer (app)' : 'renderer (other page)';
  }
  return threads;
}

/**
 * CPU milliseconds spent between two snapshots, by process kind and thread name (threads of one
 * name summed, except workers: each its own), largest first.
 */
export function cpuBetween(before: ThreadCpu[], after: ThreadCpu[]): { process: string; name: string; threads: number; cpuMs: number }[] {
  const start = new Map(before.map((t) => [t.tid, t.cpuMs]));
  const groups = new Map<string, { process: string; name: string; threads: number; cpuMs: number }>();
  for (const t of after) {
    const spent = t.cpuMs - (start.get(t.tid) ?? 0);
    if (spent <= 0) continue;
    const key = `${t.process}\0${t.name}${/worker/i.test(t.name) ? `\0${t.tid}` : ''}`;
    const group = groups.get(key) ?? { process: t.process, name: t.name, threads: 0, cpuMs: 0 };
    group.threads++;
    group.cpuMs += spent;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.cpuMs - a.cpuMs);
}
