/** Latency histograms: microseconds recorded, milliseconds reported. */
import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

/** Two minutes: longer than any phase, so nothing real is clipped. */
const MAX_US = 120_000_000;

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * The pure-JS build: the wasm one needs an async init and its own memory management (destroy()),
 * and recording a few hundred thousand values per phase is cheap either way.
 */
export function createHistogram(): Histogram {
  return hdr.build({
    useWebAssembly: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a duration given in milliseconds (performance.now() differences). */
export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.min(MAX_US, Math.max(1, Math.round(ms * 1000))));
}

export function summarize(histogram: Histogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: histogram.totalCount,
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
}
