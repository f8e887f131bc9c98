import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  os: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
}

/** What the figures were measured on: they mean little without it. */
export function describeMachine(): Machine {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    os: osRelease(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function osRelease(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    return /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(text)?.[1] ?? process.platform;
  } catch {
    return process.platform;
  }
}

export interface LoadDuring {
  /** 1-minute load average sampled every 5 s while the measurement ran. */
  mean: number;
  max: number;
}

/**
 * Samples the load average while a measurement runs. The machine may be shared (other builds,
 * other test runs): a figure taken at load 6 on 2 cores is not the machine's speed, and says so.
 */
export function sampleLoad(): () => LoadDuring {
  const samples = [loadavg()[0] ?? 0];
  const timer = setInterval(() => samples.push(loadavg()[0] ?? 0), 5000);
  timer.unref();
  return () => {
    clearInterval(timer);
    samples.push(loadavg()[0] ?? 0);
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      mean: round(samples.reduce((sum, value) => sum + value, 0) / samples.length),
      max: round(Math.max(...samples)),
    };
  };
}

/**
 * Powertools' module-level Metrics is shared by the concurrent invocations of one benchmark process
 * (in Lambda a container runs one at a time), and it warns about that on every invocation. The
 * warnings say nothing about Gantry; they would drown the progress lines. Returns the undo.
 */
export function quietPowertoolsWarnings(): () => void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0] ?? "");
    if (
      text.startsWith('Dimension "handler" has already been added') ||
      text.startsWith("No application metrics")
    )
      return;
    warn(...args);
  };
  return () => {
    console.warn = warn;
  };
}
