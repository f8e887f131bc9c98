/** Renders bench/results.json as the Markdown tables of bench/README.md (and the console). */
import type { CallCount } from "./fleet.ts";
import type { LoadDuring } from "./machine.ts";
import type { BenchResults, Section } from "./run.ts";
import { formatBytes, markdownTable } from "./stats.ts";

const yes = (ok: boolean) => (ok ? "yes" : "**no**");

/** "1.2 / 3.4" (mean / max), or "?" for results written before the load was sampled. */
const loadText = (load: LoadDuring | undefined) => (load ? `${load.mean} / ${load.max}` : "?");

function heading<T>(title: string, section: Section<T>, perRow = false): string[] {
  const { machine } = section;
  const on = `${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.os}`;
  return [
    `### ${title}`,
    "",
    perRow
      ? `Measured on ${on}. Each row has its own start time (UTC) and the load average while it ran; the latest run was ` +
        `\`${section.command}\` (${section.durationSeconds} s), the command of every row is in results.json.`
      : `Measured ${section.measuredAt.slice(0, 16).replace("T", " ")} UTC with \`${section.command}\` ` +
        `(${section.durationSeconds} s) on ${on}; load average ${loadText(section.loadDuring)} while it ran.`,
    "",
  ];
}

export function renderReport(results: BenchResults): string {
  const parts: string[] = [];
  const cold = results["cold-start"];
  if (cold) {
    const r = cold.result;
    const withTsx = r.functions.some((fn) => fn.overheadMs.tsx !== undefined);
    const columns: [string, (fn: (typeof r.functions)[number]) => string][] = [
      ["function", (fn) => fn.name],
      ["minified, read at cold start", (fn) => formatBytes(fn.minifiedBytes)],
      ["gzip", (fn) => formatBytes(fn.gzipBytes)],
      [
        "all chunks (loaded on first use)",
        (fn) =>
          fn.allChunksBytes === undefined
            ? "–"
            : `${formatBytes(fn.allChunksBytes)} (${fn.chunksOnDemand ?? 0} on demand)`,
      ],
      [
        "overhead: import + clients",
        (fn) => `**${fn.overheadMs.bundle} ms** (in-process import ${fn.inProcessImportMs.bundle} ms)`,
      ],
      [
        "clients built at import",
        (fn) => (fn.clientsBuiltAtImport ? "yes" : "no: built on first use, not in these figures"),
      ],
      [
        "… + first invoke",
        (fn) => (fn.overheadMs.bundleInvoke === undefined ? "n/a" : `${fn.overheadMs.bundleInvoke} ms`),
      ],
      [
        "baseline overhead",
        (fn) => `${fn.overheadMs.baseline} ms (in-process import ${fn.inProcessImportMs.baseline} ms)`,
      ],
      ...(withTsx
        ? [
            ["tsx overhead", (fn) => `${fn.overheadMs.tsx ?? "–"} ms`] as [
              string,
              (fn: (typeof r.functions)[number]) => string,
            ],
          ]
        : []),
      ["speed-up", (fn) => `${fn.speedupVsBaseline}×`],
      ["≤ 250 kB", (fn) => yes(fn.meets.size)],
      ["≤ 40 ms", (fn) => yes(fn.meets.overhead)],
      ["≥ 3×", (fn) => yes(fn.meets.speedup)],
    ];
    parts.push(
      ...heading("Cold start", cold),
      `Median of ${r.runs} fresh processes per variant (after ${r.warmup} warm-up rounds); bare \`node -e 0\`: ` +
        `**${r.bareNodeWallMs} ms**. Overhead = median wall time − bare node. Baseline = the same handler with our ` +
        "code compiled to one file and every npm package loaded from node_modules" +
        (withTsx ? "; tsx = `node --import tsx` on the TypeScript entry" : "") +
        ". Targets: ≤ 250 kB minified, ≤ 40 ms overhead, ≥ 3× faster than the baseline. " +
        "Bundles are split as deployed (`infra/bundling.ts`): the size target is read against what a cold start " +
        "reads (the entry and its static chunks); the ECR, Inspector2, CloudWatch Logs and Scheduler clients are " +
        "chunks loaded on a function's first call that needs them, and are not in the import figures.",
      "",
      markdownTable(
        columns.map(([title]) => title),
        r.functions.map((fn) => columns.map(([, cell]) => cell(fn))),
      ),
      "",
      ...(r.skipped?.length
        ? [`Not measured: ${r.skipped.map((entry) => `${entry.name} (${entry.reason})`).join("; ")}.`, ""]
        : []),
      ...(r.dependencyGroups?.length
        ? [
            "What each dependency group costs alone (its own minified bundle that imports it and builds its " +
              "client, logger or schema; groups share code, so they overlap and do not add up):",
            "",
            markdownTable(
              ["dependency group", "minified", "in-process import (median)"],
              r.dependencyGroups.map((group) => [
                group.group,
                formatBytes(group.minifiedBytes),
                `${group.inProcessImportMs} ms`,
              ]),
            ),
            "",
          ]
        : []),
      "Biggest contributors per bundle (bytes in the minified output, from esbuild's metafile):",
      "",
      markdownTable(
        ["function", "top contributors"],
        r.functions.map((fn) => [
          fn.name,
          fn.topContributors
            .slice(0, 8)
            .map((entry) => `${entry.package} ${formatBytes(entry.bytes)}`)
            .join(", "),
        ]),
      ),
      "",
    );
  }
  const decisions = results.decisions;
  if (decisions) {
    const r = decisions.result;
    const row = (name: string, stats: typeof r.gate) => [
      name,
      stats.decisionsPerSecond.toLocaleString("en"),
      `${stats.p50Us} µs`,
      `${stats.p99Us} µs`,
      `${stats.p999Us} µs`,
    ];
    parts.push(
      ...heading("Decisions (pure core, one thread)", decisions),
      `Seeded inputs (seed ${r.seed}); latencies timed one decision at a time with \`process.hrtime\`, whose own ` +
        `cost (${r.timerOverheadNs} ns) is included.${r.notMeasured ? ` ${r.notMeasured}.` : ""}`,
      "",
      markdownTable(
        ["path", "decisions/s", "p50", "p99", "p99.9"],
        [
          row("gate (`evaluateGate`)", r.gate),
          row("tag following (`followsTag`)", r.tagFollowing),
          row("scan event → decision (parse + follow + gate)", r.scanEventToDecision),
          ...(r.failureDiagnosis
            ? [row("failed deploy's log tail → cause (`diagnoseFailure`)", r.failureDiagnosis)]
            : []),
          ...(r.hostileLogTail
            ? [row("the same, a 1 MB pathological line in the tail (cut before any regex)", r.hostileLogTail)]
            : []),
          ...(r.retryPlan ? [row("failed attempt → retry or give up (`planRetry`)", r.retryPlan)] : []),
        ],
      ),
      "",
    );
  }
  const pipeline = results.pipeline;
  if (pipeline) {
    const r = pipeline.result;
    parts.push(
      ...heading("Pipeline (sandbox: DynamoDB Local + emulators, real handlers)", pipeline, true),
      markdownTable(
        [
          "started (load mean/max)",
          "pairs / services",
          "workers",
          "App Runner limit (calls/s per instance × instances)",
          "events/s (burst)",
          "all final after",
          "event → decision p50 / p99",
          "burst start → decision p99",
          "handler p99",
          "App Runner calls (peak/s over 1 s, over 10 s; UpdateService peak/s)",
          "final states",
          "retries / dead letters",
        ],
        r.bursts.map((burst) => [
          `${burst.measuredAt?.slice(0, 16).replace("T", " ") ?? "?"} (${loadText(burst.loadDuring)})`,
          `${burst.pairs.toLocaleString("en")} / ${burst.services}`,
          burst.concurrency,
          burst.appRunnerMaxRps === undefined
            ? "none (before the token bucket)"
            : `${burst.appRunnerMaxRps} × ${burst.instances}`,
          burst.eventsPerSecond,
          `${burst.totalSeconds} s (burst ${burst.burstSeconds} s)`,
          `${burst.eventToDecisionMs.p50} / ${burst.eventToDecisionMs.p99} ms`,
          `${burst.burstStartToDecisionMs.p99} ms`,
          `${burst.handlerLatencyMs.p99} ms`,
          `${burst.appRunner.calls.toLocaleString("en")} (${burst.appRunner.peakCallsPerSecond}/s, ` +
            `${burst.appRunner.peakCallsPerSecondOver10s ?? "–"}/s; ${burst.appRunner.peakUpdateServicePerSecond}/s)`,
          Object.entries(burst.finalStates)
            .map(([state, count]) => `${state} ${count}`)
            .join(", ") + (burst.openReleases > 0 ? ` (**${burst.openReleases} open**)` : ""),
          `${burst.retries} / ${burst.deadLetters}`,
        ]),
      ),
      "",
      ...r.notes.map((note) => `- ${note}`),
      "",
    );
  }
  const fleet = results.fleet;
  if (fleet) {
    const r = fleet.result;
    const calls = (row: CallCount) =>
      row.appRunnerCalls === 0
        ? "0"
        : `${row.appRunnerCalls.toLocaleString("en")} (${Object.entries(row.byOperation)
            .map(([op, count]) => `${op} ${count.toLocaleString("en")}`)
            .join(", ")})`;
    parts.push(
      ...heading(`Fleet scale (${r.services.toLocaleString("en")} managed services, sandbox)`, fleet),
      "Discovery (which services are managed, and what they run):",
      "",
      markdownTable(
        ["case", "App Runner calls", "tagging API calls", "wall", `at ${r.rate}/s`],
        r.discovery.map((row) => [
          row.case,
          calls(row),
          row.taggingCalls,
          `${row.wallSeconds} s`,
          row.stopwatchAt5PerSecondSeconds === undefined
            ? `**${row.at5PerSecondSeconds} s**`
            : `**${row.stopwatchAt5PerSecondSeconds} s** (stopwatch)`,
        ]),
      ),
      "",
      `Reconciler runs (budget for a ${r.reconcileTimeoutSeconds} s Lambda at ${r.rate} calls/s; each run 5 min after the last):`,
      "",
      markdownTable(
        [
          "case",
          "run",
          "App Runner calls (budget)",
          "wall",
          `at ${r.rate}/s`,
          `within ${r.reconcileTimeoutSeconds} s`,
          "lost operations still open",
        ],
        r.reconcile.map((row) => [
          row.case,
          row.run,
          `${calls(row)} (${row.budgetCalls.toLocaleString("en")})`,
          `${row.wallSeconds} s`,
          `**${row.at5PerSecondSeconds} s**`,
          yes(row.at5PerSecondSeconds <= r.reconcileTimeoutSeconds),
          row.openAfter,
        ]),
      ),
      "",
      ...r.notes.map((note) => `- ${note}`),
      "",
    );
  }
  return parts.join("\n").trimEnd();
}
