/**
 * `npm run bench [-- <name>…] [--runs N] [--quick] [--full] [--tsx]`: Gantry's benchmarks, never
 * part of `npm test`. With no name every benchmark runs; a name runs that one alone. Results are
 * merged into bench/results.json (a benchmark run alone replaces only its own section) and the
 * tables in bench/README.md are regenerated from that file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type ColdStartResult, runColdStart } from "./cold-start.ts";
import { type DecisionsResult, runDecisions } from "./decisions.ts";
import { type FleetResult, runFleet } from "./fleet.ts";
import { describeMachine, type LoadDuring, type Machine, sampleLoad } from "./machine.ts";
import { type BurstResult, type BurstShape, type PipelineResult, runPipeline } from "./pipeline.ts";
import { renderReport } from "./report.ts";

const BENCH_DIR = resolve(import.meta.dirname);
const RESULTS_FILE = join(BENCH_DIR, "results.json");
const README_FILE = join(BENCH_DIR, "README.md");
const NAMES = ["cold-start", "decisions", "pipeline", "fleet"] as const;
type BenchName = (typeof NAMES)[number];

export interface Section<T> {
  /** When the measurement started (UTC). */
  measuredAt: string;
  durationSeconds: number;
  command: string;
  machine: Machine;
  loadDuring: LoadDuring;
  result: T;
}

export interface BenchResults {
  "cold-start"?: Section<ColdStartResult>;
  decisions?: Section<DecisionsResult>;
  pipeline?: Section<PipelineResult>;
  fleet?: Section<FleetResult>;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      runs: { type: "string" },
      quick: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      tsx: { type: "boolean", default: false },
      pairs: { type: "string" },
      services: { type: "string" },
      workers: { type: "string" },
      "apprunner-rps": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const unknown = positionals.filter((name) => !NAMES.includes(name as BenchName));
  if (values.help || unknown.length > 0) {
    if (unknown.length > 0) console.error(`unknown benchmark: ${unknown.join(", ")}`);
    console.error(`usage: npm run bench -- [${NAMES.join("|")}]… [--runs N] [--quick] [--full] [--tsx]`);
    console.error("  --quick   fewer runs and a small burst: a smoke run that writes no results");
    console.error("  --full    pipeline: also the issue's 10,000 pairs over 500 services (hours on 2 cores)");
    console.error(
      "  --pairs N --services M [--workers K] [--apprunner-rps R]   pipeline: one burst of that shape instead",
    );
    return values.help ? 0 : 2;
  }
  const selected: BenchName[] = positionals.length > 0 ? (positionals as BenchName[]) : [...NAMES];
  const runs = values.runs ? Number(values.runs) : values.quick ? 5 : 20;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("--runs must be a positive integer");
    return 2;
  }
  let shape: BurstShape | undefined;
  if (values.pairs || values.services || values.workers || values["apprunner-rps"]) {
    shape = {
      pairs: Number(values.pairs),
      services: Number(values.services),
      concurrency: Number(values.workers ?? 8),
      ...(values["apprunner-rps"] ? { appRunnerMaxRps: Number(values["apprunner-rps"]) } : {}),
    };
    const counts = [shape.pairs, shape.services, shape.concurrency];
    if (!counts.every((n) => Number.isInteger(n) && n > 0) || (shape.appRunnerMaxRps ?? 1) <= 0) {
      console.error("--pairs and --services (and --workers, --apprunner-rps) must be positive numbers");
      return 2;
    }
  }
  const results = readResults();
  const machine = describeMachine();
  console.log(
    `machine: ${machine.nproc} cpus (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.os}`,
  );
  const log = (line: string) => console.log(line);
  const command = (name: BenchName) =>
    [
      `npm run bench -- ${name}`,
      values.runs && name === "cold-start" ? `--runs ${runs}` : "",
      values.quick ? "--quick" : "",
      values.full && name === "pipeline" ? "--full" : "",
      shape && name === "pipeline"
        ? `--pairs ${shape.pairs} --services ${shape.services} --workers ${shape.concurrency}${shape.appRunnerMaxRps ? ` --apprunner-rps ${shape.appRunnerMaxRps}` : ""}`
        : "",
      values.tsx && name === "cold-start" ? "--tsx" : "",
    ]
      .filter(Boolean)
      .join(" ");

  const started = performance.now();
  for (const name of selected) {
    console.log(`\n▶ ${name}`);
    const sectionStarted = performance.now();
    const startedAt = new Date().toISOString();
    const load = sampleLoad();
    const section = <T>(result: T): Section<T> => ({
      measuredAt: startedAt,
      durationSeconds: Math.round((performance.now() - sectionStarted) / 100) / 10,
      command: command(name),
      machine,
      loadDuring: load(),
      result,
    });
    if (name === "cold-start") {
      results["cold-start"] = section(
        await runColdStart({ runs, warmup: values.quick ? 1 : 3, tsx: values.tsx, log }),
      );
    } else if (name === "decisions") {
      results.decisions = section(await runDecisions({ quick: values.quick, log }));
    } else if (name === "fleet") {
      results.fleet = section(await runFleet({ quick: values.quick, log }));
    } else {
      const fresh = section(
        await runPipeline({ quick: values.quick, full: values.full, ...(shape ? { shape } : {}), log }),
      );
      results.pipeline = mergeBursts(results.pipeline, fresh);
    }
    // A smoke run's figures are not worth keeping: they would replace real ones.
    if (!values.quick) writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  }

  const report = renderReport(results);
  console.log(`\n${report}`);
  const seconds = Math.round((performance.now() - started) / 1000);
  if (values.quick) {
    console.log(
      `\nsmoke run finished in ${seconds} s; --quick leaves bench/results.json and bench/README.md alone`,
    );
  } else {
    writeReadme(report);
    console.log(`\nbench finished in ${seconds} s; results in bench/results.json, tables in bench/README.md`);
  }
  return 0;
}

/**
 * Bursts accumulate by shape (pairs, services, workers): a run replaces the rows of the shapes it
 * measured and keeps the others, each row with its own date and command, so a one-off burst
 * (`--pairs 500 --services 500`) stands next to the default set instead of erasing it.
 */
function mergeBursts(previous: Section<PipelineResult> | undefined, fresh: Section<PipelineResult>) {
  const key = (burst: BurstResult) =>
    `${burst.pairs}/${burst.services}/${burst.concurrency}/${burst.appRunnerMaxRps ?? "none"}`;
  const stamp = (burst: BurstResult): BurstResult => ({
    ...burst,
    measuredAt: burst.measuredAt ?? fresh.measuredAt,
    command: burst.command ?? fresh.command,
    loadDuring: burst.loadDuring ?? fresh.loadDuring,
  });
  const measured = new Set(fresh.result.bursts.map(key));
  const kept = (previous?.result.bursts ?? []).filter((burst) => !measured.has(key(burst)));
  const bursts = [...kept, ...fresh.result.bursts.map(stamp)].sort(
    (a, b) => a.services - b.services || a.pairs - b.pairs || a.concurrency - b.concurrency,
  );
  return { ...fresh, result: { ...fresh.result, bursts } };
}

function readResults(): BenchResults {
  try {
    return JSON.parse(readFileSync(RESULTS_FILE, "utf8")) as BenchResults;
  } catch {
    return {};
  }
}

const START = "<!-- results:start (generated by bench/run.ts from results.json; do not edit) -->";
const END = "<!-- results:end -->";

/** Replaces the generated block of bench/README.md; the prose around it is written by hand. */
function writeReadme(report: string): void {
  const readme = readFileSync(README_FILE, "utf8");
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`bench/README.md lacks the ${START} … ${END} markers`);
  writeFileSync(README_FILE, `${readme.slice(0, from + START.length)}\n\n${report}\n\n${readme.slice(to)}`);
}

process.exitCode = await main(process.argv.slice(2));
