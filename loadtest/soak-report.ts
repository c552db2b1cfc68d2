/**
 * The soak's figures: a text table per window and over the run, and an SVG of each gateway's RSS
 * and the produce p99 over time (line charts, in the style and with the helpers of chart.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fmt, xmlText } from "./chart.ts";
import type { OpenModelResult } from "./open-model.ts";

export interface SoakSample {
  atS: number;
  /** Per gateway, in the run's gateway order; null where it could not be read. */
  gateways: { rssMiB: number | null; fds: number | null; lagP99Ms: number; handles: number | null }[];
  loadavg1: number;
}

export interface SoakWindow {
  fromS: number;
  toS: number;
  produce: OpenModelResult;
  consumedRecords: number;
  streamEvents: number;
  /** Running totals since the start. */
  sideProduced: number;
  consumerErrors: number;
  streamErrors: number;
  sideProduceErrors: number;
}

export interface SoakRun {
  startedAt: string;
  minutes: number;
  saturationRecordsPerSec: number | null;
  offeredRecordsPerSec: number;
  recordsPerRequest: number;
  consumers: number;
  forwardedConsumers: number;
  streams: number;
  gateways: string[];
  gatewaySource: string;
  windows: SoakWindow[];
  samples: SoakSample[];
}

/** Answers that were not a 200 with every record acknowledged (429s counted apart). */
const produceErrors = (p: OpenModelResult) => p.outcomes.httpError + p.outcomes.recordError + p.outcomes.transportError;

const max = (xs: (number | null)[]) => Math.max(...xs.filter((x): x is number => x !== null && Number.isFinite(x)));

/** The open model's cap on requests in flight, past which a due request is not sent. */
const MAX_OUTSTANDING_NOTE = "2000 requests were already in flight";

export function soakTable(run: SoakRun): string {
  const lines: string[] = [];
  const sum = (f: (w: SoakWindow) => number) => run.windows.reduce((n, w) => n + f(w), 0);
  const rate = run.saturationRecordsPerSec
    ? `${run.offeredRecordsPerSec} records/s (${Math.round((run.offeredRecordsPerSec / run.saturationRecordsPerSec) * 100)}% of the ${run.saturationRecordsPerSec} measured)`
    : `${run.offeredRecordsPerSec} records/s (given)`;
  lines.push(`soak ${run.startedAt}, ${run.minutes} min, produce ${rate} in ${run.recordsPerRequest}-record requests`);
  lines.push(
    `readers: ${run.consumers} v2 consumers (${run.forwardedConsumers} forwarded), ${run.streams} SSE streams; ${run.gatewaySource}`,
  );
  lines.push("");
  lines.push("   window   records/s    p50 ms    p99 ms  max ms  errors  429s   shed  consumed  sse events");
  for (const w of run.windows) {
    const l = w.produce.latencyMs;
    lines.push(
      [
        `${w.fromS.toFixed(0).padStart(4)}-${w.toS.toFixed(0).padEnd(4)}`,
        Math.round(w.produce.recordsPerSec).toString().padStart(11),
        (l?.p50.toFixed(1) ?? "-").padStart(9),
        (l?.p99.toFixed(1) ?? "-").padStart(9),
        (l?.max.toFixed(0) ?? "-").padStart(7),
        String(produceErrors(w.produce)).padStart(7),
        String(w.produce.outcomes.throttled).padStart(5),
        String(w.produce.shed).padStart(6),
        String(w.consumedRecords).padStart(9),
        String(w.streamEvents).padStart(11),
      ].join(" "),
    );
  }
  lines.push("");
  lines.push(
    `  time s  ${run.gateways.map((_, i) => `gw-${i + 1} RSS MiB / lag p99 ms / fds / handles`.padEnd(42)).join("")}`,
  );
  const every = Math.max(1, Math.floor(run.samples.length / 20));
  run.samples.forEach((s, i) => {
    if (i % every !== 0 && i !== run.samples.length - 1) return;
    const cells = s.gateways.map((g) =>
      `${g.rssMiB?.toFixed(0) ?? "-"} / ${Number.isFinite(g.lagP99Ms) ? g.lagP99Ms.toFixed(1) : "-"} / ${g.fds ?? "-"} / ${g.handles ?? "-"}`.padEnd(
        40,
      ),
    );
    lines.push(`${s.atS.toFixed(0).padStart(8)}  ${cells.join("")}  load ${s.loadavg1.toFixed(1)}`);
  });
  const last = run.windows.at(-1);
  const first = run.samples[0];
  const end = run.samples.at(-1);
  lines.push("");
  lines.push("summary");
  lines.push(
    `  produce: ${sum((w) => w.produce.outcomes.ok)} requests answered 200, ${sum((w) => produceErrors(w.produce))} errors, ${sum((w) => w.produce.outcomes.throttled)} 429s, ${sum((w) => w.produce.shed)} not sent (shed by the generator: ${MAX_OUTSTANDING_NOTE}); worst window p99 ${fmt(max(run.windows.map((w) => w.produce.latencyMs?.p99 ?? null)))} ms`,
  );
  lines.push(
    `  readers: ${run.windows.reduce((n, w) => n + w.consumedRecords, 0)} records consumed, ${run.windows.reduce((n, w) => n + w.streamEvents, 0)} SSE events of ${last?.sideProduced ?? 0} fed; errors: consumers ${last?.consumerErrors ?? 0}, streams ${last?.streamErrors ?? 0}, feeder ${last?.sideProduceErrors ?? 0}`,
  );
  if (first && end) {
    run.gateways.forEach((_, i) => {
      const a = first.gateways[i];
      const b = end.gateways[i];
      const mid = run.samples[Math.floor(run.samples.length / 2)]?.gateways[i];
      lines.push(
        `  gw-${i + 1}: RSS ${a?.rssMiB?.toFixed(0)} -> ${mid?.rssMiB?.toFixed(0)} (half-way) -> ${b?.rssMiB?.toFixed(0)} MiB (peak ${max(run.samples.map((s) => s.gateways[i]?.rssMiB ?? null)).toFixed(0)}), fds max ${max(run.samples.map((s) => s.gateways[i]?.fds ?? null))}, handles max ${max(run.samples.map((s) => s.gateways[i]?.handles ?? null))}, lag p99 max ${max(run.samples.map((s) => s.gateways[i]?.lagP99Ms ?? null)).toFixed(1)} ms`,
      );
    });
  }
  return `${lines.join("\n")}\n`;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
const W = 860;
const H = 220;
const LEFT = 70;
const PAD = 30;

/** One line panel: series of (x seconds, y) points on a shared time axis. */
function linePanel(
  title: string,
  unit: string,
  series: { label: string; points: [number, number][] }[],
  totalS: number,
  top: number,
): string {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const yMax = Math.max(1, ...ys) * 1.1;
  const x = (s: number) => LEFT + (s / Math.max(1, totalS)) * (W - LEFT - PAD);
  const y = (v: number) => top + H - (v / yMax) * H;
  const out = [`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${xmlText(title)}</text>`];
  out.push(`<line x1="${LEFT}" y1="${top + H}" x2="${W - PAD}" y2="${top + H}" stroke="#888"/>`);
  out.push(`<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${top + H}" stroke="#888"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    out.push(`<text x="${LEFT - 6}" y="${y(v) + 4}" text-anchor="end">${xmlText(fmt(v))}</text>`);
    out.push(`<line x1="${LEFT}" y1="${y(v)}" x2="${W - PAD}" y2="${y(v)}" stroke="#eee"/>`);
  }
  for (let k = 0; k <= 5; k++) {
    const s = (totalS * k) / 5;
    out.push(`<text x="${x(s)}" y="${top + H + 16}" text-anchor="middle">${(s / 60).toFixed(1)} min</text>`);
  }
  out.push(`<text x="${LEFT - 6}" y="${top - 8}" text-anchor="end">${xmlText(unit)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const points = s.points.filter((p) => Number.isFinite(p[1]));
    const path = points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${path}"/>`);
    // Legends sit above the panel, right-aligned, so no line runs under them.
    const legendX = W - PAD - 100 * (series.length - i);
    out.push(`<text x="${legendX}" y="${top - 8}" fill="${color}">${xmlText(s.label)}</text>`);
  });
  return out.join("\n");
}

export function soakChart(run: SoakRun): string {
  const totalS = Math.max(run.windows.at(-1)?.toS ?? 0, run.samples.at(-1)?.atS ?? 0);
  const rss = run.gateways.map((_, i) => ({
    label: `gw-${i + 1} RSS`,
    points: run.samples.map((s) => [s.atS, s.gateways[i]?.rssMiB ?? Number.NaN] as [number, number]),
  }));
  const latency = [
    {
      label: "produce p99",
      points: run.windows.map(
        (w) => [(w.fromS + w.toS) / 2, w.produce.latencyMs?.p99 ?? Number.NaN] as [number, number],
      ),
    },
    {
      label: "produce p50",
      points: run.windows.map(
        (w) => [(w.fromS + w.toS) / 2, w.produce.latencyMs?.p50 ?? Number.NaN] as [number, number],
      ),
    },
  ];
  const heading = `Wharf soak ${run.startedAt.slice(0, 16)}Z: ${run.minutes} min, ${run.offeredRecordsPerSec} records/s offered, ${run.consumers} consumers, ${run.streams} SSE streams`;
  const height = 60 + 2 * (H + 70);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${xmlText(heading)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${PAD}" y="24" font-size="14" font-weight="bold">${xmlText(heading)}</text>`,
    linePanel("Gateway RSS over time", "MiB", rss, totalS, 70),
    linePanel("Produce latency per window (open model)", "ms", latency, totalS, 70 + H + 70),
    "</svg>",
    "",
  ].join("\n");
}

/** `node loadtest/soak-report.ts run.json [out.svg]`: the table (and chart) of a recorded run again. */
if (import.meta.main) {
  const [file, out] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node loadtest/soak-report.ts run.json [out.svg]\n");
    process.exit(2);
  }
  const run = JSON.parse(readFileSync(file, "utf8")) as SoakRun;
  process.stdout.write(soakTable(run));
  if (out) writeFileSync(out, soakChart(run));
}
