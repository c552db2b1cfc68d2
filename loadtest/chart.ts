/**
 * Draws a run's figures as one SVG:
 * `node loadtest/chart.ts run.json [out.svg] [--before earlier.json] [--table]`.
 * run.json is the line `bench.ts --json` printed. Top: saturation throughput per scenario
 * (records/s; requests/s for GET /healthz and GET assignments). Below: p50 and p99 latency of each
 * open-model phase. --before draws an earlier run's figure under each bar, lighter, for a
 * before/after picture. --table also prints the text report of that run to stdout.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PhaseResult } from "./phase.ts";
import { type Comparison, phaseName, type RunInfo, toText } from "./report.ts";

interface Run {
  run: RunInfo;
  phases: PhaseResult[];
  comparison: Comparison;
}

const ROW = 22;
const LABEL_W = 430;
const BAR_W = 330;
const PAD = 16;

export const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
export const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en") : n.toFixed(n >= 10 ? 1 : 2));

interface Bar {
  label: string;
  values: { value: number; color: string }[];
  text: string;
}

function panel(title: string, bars: Bar[], x: number, y: number, log: boolean): string {
  const max = Math.max(1, ...bars.flatMap((b) => b.values.map((v) => v.value)));
  const scale = (v: number) => (log ? (Math.log10(1 + v) / Math.log10(1 + max)) * BAR_W : (v / max) * BAR_W);
  const out = [`<text x="${x}" y="${y}" font-weight="bold">${xmlText(title)}</text>`];
  bars.forEach((bar, i) => {
    const top = y + 12 + i * ROW;
    out.push(`<text x="${x + LABEL_W - 6}" y="${top + 14}" text-anchor="end">${xmlText(bar.label)}</text>`);
    const h = (ROW - 6) / bar.values.length;
    bar.values.forEach((v, k) => {
      const w = Math.max(1, scale(v.value));
      out.push(
        `<rect x="${x + LABEL_W}" y="${top + 2 + k * h}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${v.color}"/>`,
      );
    });
    out.push(`<text x="${x + LABEL_W + BAR_W + 6}" y="${top + 14}">${xmlText(bar.text)}</text>`);
  });
  return out.join("\n");
}

const saturation = (p: PhaseResult) => {
  const perRequest = p.recordsPerSec === 0 && p.requestsPerSec !== null && p.requestsPerSec > 0;
  return {
    value: perRequest ? (p.requestsPerSec as number) : p.recordsPerSec,
    unit: perRequest ? "req/s" : "records/s",
  };
};

export function chart(data: Run, before?: Run): string {
  const earlier = (p: PhaseResult) => before?.phases.find((b) => phaseName(b) === phaseName(p));
  const throughput: Bar[] = data.phases
    .filter((p) => p.phase === "max")
    .map((p) => {
      const { value, unit } = saturation(p);
      const old = earlier(p);
      const ceiling = p.recordsPerRequest === null && !p.connections;
      return {
        label: phaseName(p).replace(", max (closed)", ""),
        values: [
          ...(old ? [{ value: saturation(old).value, color: ceiling ? "#ccc" : "#a3bffa" }] : []),
          { value, color: ceiling ? "#888" : "#2b6cb0" },
        ],
        text: `${fmt(value)} ${unit}${old ? ` (was ${fmt(saturation(old).value)})` : ""}`,
      };
    });
  const latency: Bar[] = data.phases
    .filter((p) => p.latencyMs !== null && ((p.model === "open" && p.phase !== "ramp") || p.phase === "lone"))
    .map((p) => {
      const old = earlier(p)?.latencyMs;
      return {
        label: phaseName(p),
        values: [
          ...(old ? [{ value: old.p50, color: "#9ae6b4" }] : []),
          { value: p.latencyMs?.p50 ?? 0, color: "#38a169" },
          ...(old ? [{ value: old.p99, color: "#fbd38d" }] : []),
          { value: p.latencyMs?.p99 ?? 0, color: "#dd6b20" },
        ],
        text:
          `p50 ${fmt(p.latencyMs?.p50 ?? 0)} / p99 ${fmt(p.latencyMs?.p99 ?? 0)} ms` +
          (old ? ` (was ${fmt(old.p50)} / ${fmt(old.p99)})` : ""),
      };
    });
  const width = PAD * 2 + LABEL_W + BAR_W + (before ? 300 : 190);
  const topH = 40 + throughput.length * ROW;
  const height = PAD * 2 + 60 + topH + 40 + latency.length * ROW;
  const m = data.run.machine;
  const subtitle =
    `${data.run.startedAt}, ${m.cpus} x ${m.cpuModel}, load average ${m.loadAvgStart.map((l) => l.toFixed(1)).join(" ")}; ` +
    "grey: plain librdkafka ceilings, blue: through Wharf" +
    (before ? `; lighter bars: the run of ${before.run.startedAt} (${before.run.gatewaySource})` : "");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>Wharf benchmark: saturation throughput and fixed-rate latency per scenario</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${PAD}" y="${PAD + 8}" font-size="15" font-weight="bold">Wharf benchmark (everything on one machine)</text>`,
    `<text x="${PAD}" y="${PAD + 26}" fill="#555">${xmlText(subtitle)}</text>`,
    panel("Saturation throughput (closed model, log scale)", throughput, PAD, PAD + 56, true),
    panel(
      "Latency of fixed-rate phases: p50 (green), p99 (orange), ms, log scale",
      latency,
      PAD,
      PAD + 56 + topH + 20,
      true,
    ),
    "</svg>",
  ].join("\n");
}

const readRun = (file: string) => JSON.parse(readFileSync(file, "utf8").trim().split("\n").pop() as string) as Run;

if (import.meta.main) {
  const argv = process.argv.slice(2).filter((a) => a !== "--table");
  const beforeAt = argv.indexOf("--before");
  const beforeFile = beforeAt === -1 ? undefined : argv[beforeAt + 1];
  const args = beforeAt === -1 ? argv : argv.filter((_, i) => i !== beforeAt && i !== beforeAt + 1);
  const input = args[0];
  if (!input || (beforeAt !== -1 && !beforeFile)) {
    process.stderr.write("usage: node loadtest/chart.ts run.json [out.svg] [--before earlier.json] [--table]\n");
    process.exit(2);
  }
  const data = readRun(input);
  const out = args[1] ?? join(import.meta.dirname, "results.svg");
  writeFileSync(out, chart(data, beforeFile ? readRun(beforeFile) : undefined));
  process.stderr.write(`wrote ${out}\n`);
  if (process.argv.includes("--table")) process.stdout.write(toText(data.run, data.phases, data.comparison));
}
