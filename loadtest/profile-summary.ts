/**
 * Top self-time functions of a V8 .cpuprofile (node --cpu-prof):
 * `node loadtest/profile-summary.ts file.cpuprofile [--top N] [--callers NAME [--depth D]]`. Self time is attributed from the
 * sample ticks; functions are keyed by name and source location, files by path (node_modules
 * folded to the package), so both "which function" and "which layer" are visible.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (url === "") return "(native/V8)";
  const path = url.replace(/^file:\/\//, "");
  const pkg = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return `npm:${pkg[1]}`;
  const inRepo = /\/(packages\/.*)$/.exec(path);
  if (inRepo) return inRepo[1] as string;
  return path.startsWith("node:") ? path : path.split("/").slice(-2).join("/");
}

const frameName = (node: ProfileNode) =>
  `${node.callFrame.functionName || "(anonymous)"}  ${where(node.callFrame.url)}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ""}`;

/** Where the self time of functions named `name` comes from: their callers, `depth` frames up. */
export function callers(profile: Profile, name: string, depth: number, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const stacks = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id) as ProfileNode;
    if (node.callFrame.functionName !== name) continue;
    total += us;
    const chain: string[] = [];
    for (let p = parent.get(id); p !== undefined && chain.length < depth; p = parent.get(p)) {
      chain.push(frameName(byId.get(p) as ProfileNode));
    }
    const key = chain.join("\n      <- ");
    stacks.set(key, (stacks.get(key) ?? 0) + us);
  }
  return [
    `${name}: ${(total / 1000).toFixed(0)} ms self time, by caller chain:`,
    ...[...stacks.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  <- ${k}`),
    "",
  ].join("\n");
}

export function summarize(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const file = where(frame.url);
    const name = `${frame.functionName || "(anonymous)"}  ${file}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      );
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled`,
    "",
    "self time by function:",
    ...rows(fns),
    "",
    "self time by file / package:",
    ...rows(files),
    "",
  ].join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: "string", default: "25" },
      callers: { type: "string" },
      depth: { type: "string", default: "4" },
    },
  });
  const file = positionals[0];
  if (!file) {
    process.stderr.write("usage: node loadtest/profile-summary.ts file.cpuprofile [--top N]\n");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  process.stdout.write(
    values.callers
      ? callers(profile, values.callers, Number(values.depth), Number(values.top))
      : summarize(profile, Number(values.top)),
  );
}
