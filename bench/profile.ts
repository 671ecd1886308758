/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by part of the stack. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  location: string;
  group: string;
  ms: number;
  /** Our module's functions: self time besides the inclusive `ms`. */
  selfMs?: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** True when only the samples in the given window were counted. */
  windowed: boolean;
  idleMs: number;
  busyMs: number;
  groups: { group: string; ms: number }[];
  top: FunctionTime[];
  /** Every function with self time, by self time. */
  functions: FunctionTime[];
  /** Our module's functions by inclusive time (their synchronous callees included). */
  ours: FunctionTime[];
}

/** Where in the stack a frame belongs, from its script URL. */
export function groupOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)' || functionName === '(root)') return 'V8/native (unattributed)';
    return 'V8/native builtins';
  }
  if (url.includes('/dist-bench/src/')) return 'our module (nestjs-http2-push)';
  if (url.includes('/dist-bench/bench/')) return 'bench app (controllers)';
  if (/\/node_modules\/(@nestjs|rxjs|reflect-metadata|iterare|uid|load-esm)\//.test(url)) return 'Nest pipeline (+rxjs)';
  if (/\/node_modules\/(@fastify\/static|@fastify\/send|send|content-disposition|glob|mime|@lukeed|fastq|fastfall|http-errors|range-parser)\//.test(url)) {
    return '@fastify/static (+send)';
  }
  if (/\/node_modules\/(fastify|find-my-way|avvio|@fastify|light-my-request|fast-json-stringify|pino|abstract-logging|toad-cache|rfdc|process-warning|fast-querystring|secure-json-parse|fast-decode-uri-component|safe-regex2|ret|proxy-addr|forwarded|ipaddr\.js|json-schema-ref-resolver|fast-uri)\//.test(url)) {
    return 'Fastify (routing, hooks, reply)';
  }
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.startsWith('node:internal/http2') || url === 'node:http2') return 'node http2 (core + compat)';
  if (/^node:internal\/(streams|stream_base_commons)|^node:(stream|events)$|^node:internal\/events/.test(url)) return 'node streams/events';
  if (/^node:internal\/(async_hooks|async_local_storage)|^node:async_hooks$/.test(url)) return 'node async_hooks (AsyncLocalStorage)';
  if (/^node:internal\/(process\/task_queues|timers)|^node:timers$/.test(url)) return 'node ticks, timers';
  if (/^node:internal\/fs|^node:fs$/.test(url)) return 'node fs';
  return 'node (other)';
}

/** A location to print: no machine paths, just the package-relative file. */
export function shortLocation(url: string, line: number): string {
  if (url === '') return '(native)';
  let file = url;
  const modules = url.lastIndexOf('/node_modules/');
  const bench = url.indexOf('/dist-bench/');
  if (modules >= 0) file = url.slice(modules + '/node_modules/'.length);
  else if (bench >= 0) file = url.slice(bench + 1);
  else if (!url.startsWith('node:')) file = url.split('/').pop() ?? url;
  return `${file}:${line + 1}`;
}

/**
 * `window`: monotonic microseconds (process.hrtime in the profiled process, the profiler's clock); only the
 * samples taken inside it count. Ignored when it does not fall inside the profile.
 */
export function summariseProfile(path: string, top = 25, window?: { from: number; to: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const windowed = !!window && window.from >= profile.startTime && window.to <= profile.endTime && window.from < window.to;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windowed && (at < window!.from || at > window!.to)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });

  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** A native function (no URL) counts in the group of the JavaScript that called it: fs bindings under fs, etc. */
  const groupOfNode = (node: ProfileNode): string => {
    const own = groupOf(node.callFrame.url, node.callFrame.functionName);
    if (own !== 'V8/native builtins') return own;
    for (let up = parent.get(node.id); up !== undefined; up = parent.get(up)) {
      const caller = byId.get(up)!;
      if (caller.callFrame.url !== '') return groupOf(caller.callFrame.url, caller.callFrame.functionName);
    }
    return own;
  };
  const keyOf = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'}\u0000${node.callFrame.url}\u0000${node.callFrame.lineNumber}`;
  const functions = new Map<string, FunctionTime>();
  const groups = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const group = groupOfNode(node);
    totalUs += us;
    if (group === 'idle') {
      idleUs += us;
      continue;
    }
    groups.set(group, (groups.get(group) ?? 0) + us);
    const key = keyOf(node);
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', location: shortLocation(url, lineNumber), group, ms: 0 };
    entry.ms += us / 1000;
    functions.set(key, entry);
  }

  // Inclusive time of our module's functions: a node's whole subtree, not counted twice under recursion.
  const subtreeUs = new Map<number, number>();
  const total = (id: number): number => {
    const known = subtreeUs.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    let us = selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) us += total(child);
    subtreeUs.set(id, us);
    return us;
  };
  // Iterative warm-up from the leaves up, so deep stacks do not overflow the recursion above.
  for (const node of [...profile.nodes].reverse()) total(node.id);
  const ours = new Map<string, FunctionTime>();
  for (const node of profile.nodes) {
    if (!node.callFrame.url.includes('/dist-bench/src/')) continue;
    const key = keyOf(node);
    let up = parent.get(node.id);
    let nested = false;
    while (up !== undefined) {
      if (keyOf(byId.get(up)!) === key) {
        nested = true;
        break;
      }
      up = parent.get(up);
    }
    if (nested) continue;
    const entry = ours.get(key) ?? { name: node.callFrame.functionName || '(anonymous)', location: shortLocation(node.callFrame.url, node.callFrame.lineNumber), group: 'our module (nestjs-http2-push)', ms: 0, selfMs: 0 };
    entry.ms += total(node.id) / 1000;
    ours.set(key, entry);
  }
  for (const node of profile.nodes) {
    const entry = ours.get(keyOf(node));
    if (entry) entry.selfMs! += (selfUs.get(node.id) ?? 0) / 1000;
  }

  const busyUs = totalUs - idleUs;
  return {
    totalMs: totalUs / 1000,
    windowed,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    groups: [...groups].map(([group, us]) => ({ group, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    top: [...functions.values()].sort((a, b) => b.ms - a.ms).slice(0, top),
    functions: [...functions.values()].sort((a, b) => b.ms - a.ms),
    ours: [...ours.values()].filter((f) => f.ms > 0).sort((a, b) => b.ms - a.ms).slice(0, 12),
  };
}
