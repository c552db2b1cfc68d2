/**
 * Draws a run's figures as one SVG: `node loadtest/chart.ts run.json [out.svg] [--table]`.
 * run.json is the line `bench.ts --json` printed. Left: saturation throughput per scenario
 * (records/s; requests/s for GET /healthz and GET assignments). Right: p50 and p99 latency of each
 * open-model phase. --table also prints the text report of that run to stdout.
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

const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en") : n.toFixed(n >= 10 ? 1 : 2));

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

export function chart(data: Run): string {
  const throughput: Bar[] = data.phases
    .filter((p) => p.phase === "max")
    .map((p) => {
      const perRequest = p.recordsPerSec === 0 && p.requestsPerSec;
      const value = perRequest ? (p.requestsPerSec as number) : p.recordsPerSec;
      return {
        label: phaseName(p).replace(", max (closed)", ""),
        values: [{ value, color: p.recordsPerRequest === null && !p.connections ? "#888" : "#2b6cb0" }],
        text: `${fmt(value)} ${perRequest ? "req/s" : "records/s"}`,
      };
    });
  const latency: Bar[] = data.phases
    .filter((p) => p.latencyMs !== null && p.model === "open")
    .map((p) => ({
      label: phaseName(p),
      values: [
        { value: p.latencyMs?.p50 ?? 0, color: "#38a169" },
        { value: p.latencyMs?.p99 ?? 0, color: "#dd6b20" },
      ],
      text: `p50 ${fmt(p.latencyMs?.p50 ?? 0)} / p99 ${fmt(p.latencyMs?.p99 ?? 0)} ms`,
    }));
  const width = PAD * 2 + LABEL_W + BAR_W + 190;
  const topH = 40 + throughput.length * ROW;
  const height = PAD * 2 + 60 + topH + 40 + latency.length * ROW;
  const m = data.run.machine;
  const subtitle =
    `${data.run.startedAt}, ${m.cpus} x ${m.cpuModel}, load average ${m.loadAvgStart.map((l) => l.toFixed(1)).join(" ")}; ` +
    "grey: plain librdkafka ceilings, blue: through Wharf";
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

if (import.meta.main) {
  const args = process.argv.slice(2).filter((a) => a !== "--table");
  const input = args[0];
  if (!input) {
    process.stderr.write("usage: node loadtest/chart.ts run.json [out.svg] [--table]\n");
    process.exit(2);
  }
  const line = readFileSync(input, "utf8").trim().split("\n").pop() as string;
  const data = JSON.parse(line) as Run;
  const out = args[1] ?? join(import.meta.dirname, "results.svg");
  writeFileSync(out, chart(data));
  process.stderr.write(`wrote ${out}\n`);
  if (process.argv.includes("--table")) process.stdout.write(toText(data.run, data.phases, data.comparison));
}
