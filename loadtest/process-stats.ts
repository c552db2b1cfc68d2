/**
 * CPU and memory of the processes under test, read from /proc (Linux only). CPU is reported in
 * cores: 1.0 means one core busy for the whole phase. The machine's total is read too, so a phase
 * disturbed by something else on the box (other engineers' tests) shows it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface Watched {
  /** Gateway processes whose CPU is summed (and RSS peak summed) as "the gateway". */
  gateways: number[];
  brokers: number[];
}

export interface PhaseStats {
  wallS: number;
  gatewayCpu: number | null;
  gatewayRssPeakMiB: number | null;
  gatewayRssEndMiB: number | null;
  brokerCpu: number | null;
  /** This process: the load generator (and, in the ceiling phases, the plain producer). */
  generatorCpu: number;
  machineBusy: number | null;
  /** Busy cores not accounted for by the gateway, the brokers or the generator. */
  otherCpu: number | null;
}

export interface PhaseMonitor {
  stop(): PhaseStats;
}

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of every thread of `pid`, in seconds; null when the process is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return null;
  }
}

export function processRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the whole machine, summed over cores. */
function machineCpuSeconds(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const [, ...values] = line.trim().split(/\s+/);
    const ticks = values.slice(0, 8).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
  } catch {
    return null;
  }
}

const generatorCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

const sumCpu = (pids: number[]): number | null => {
  let total = 0;
  for (const pid of pids) {
    const seconds = processCpuSeconds(pid);
    if (seconds === null) return null;
    total += seconds;
  }
  return total;
};

const MIB = 1024 * 1024;

/** Starts measuring; RSS is sampled every `sampleMs` for its peak (the timer never keeps us alive). */
export function monitorPhase(watched: Watched, sampleMs = 500): PhaseMonitor {
  const startedAt = performance.now();
  const gatewayCpuNow = () => (watched.gateways.length === 0 ? null : sumCpu(watched.gateways));
  const gatewayRssNow = () => {
    if (watched.gateways.length === 0) return null;
    let total = 0;
    for (const pid of watched.gateways) {
      const rss = processRssBytes(pid);
      if (rss === null) return null;
      total += rss;
    }
    return total;
  };
  const gateway0 = gatewayCpuNow();
  const brokers0 = watched.brokers.length === 0 ? null : sumCpu(watched.brokers);
  const generator0 = generatorCpuSeconds();
  const machine0 = machineCpuSeconds();
  let rssPeak = gatewayRssNow();
  const sampler = setInterval(() => {
    const rss = gatewayRssNow();
    if (rss !== null) rssPeak = Math.max(rssPeak ?? 0, rss);
  }, sampleMs);
  sampler.unref();

  return {
    stop() {
      clearInterval(sampler);
      const wallS = (performance.now() - startedAt) / 1000;
      const rate = (before: number | null, after: number | null) =>
        before === null || after === null ? null : (after - before) / wallS;
      const gatewayCpu = rate(gateway0, gatewayCpuNow());
      const brokerCpu = watched.brokers.length === 0 ? null : rate(brokers0, sumCpu(watched.brokers));
      const generatorCpu = (generatorCpuSeconds() - generator0) / wallS;
      const machine1 = machineCpuSeconds();
      const machineBusy = machine0 && machine1 ? (machine1.busy - machine0.busy) / wallS : null;
      const rssEnd = gatewayRssNow();
      if (rssEnd !== null) rssPeak = Math.max(rssPeak ?? 0, rssEnd);
      return {
        wallS,
        gatewayCpu,
        gatewayRssPeakMiB: rssPeak === null ? null : rssPeak / MIB,
        gatewayRssEndMiB: rssEnd === null ? null : rssEnd / MIB,
        brokerCpu,
        generatorCpu,
        machineBusy,
        otherCpu:
          machineBusy === null ? null : Math.max(0, machineBusy - generatorCpu - (gatewayCpu ?? 0) - (brokerCpu ?? 0)),
      };
    },
  };
}
