/**
 * Decision speed of the pure core: the scan gate (`evaluateGate`), tag following (`followsTag`),
 * the whole pure path one scan event takes (parse the EventBridge event, follow the tag, evaluate
 * the gate), and the recovery decisions a failed deploy takes (diagnose the cause from the
 * service's log tail, then plan the retry with backoff or give up). No I/O, so this is the ceiling
 * the pipeline can never exceed.
 *
 * Inputs are generated up front from a seeded PRNG (varied policies, counts, finding lists with
 * excepted CVEs, failed scans, semver/pattern/exact tags), so every run decides the same inputs.
 */
import {
  diagnoseFailure,
  evaluateGate,
  followsTag,
  type GantryConfig,
  type GantryDeps,
  type GatePolicy,
  parseGantryConfig,
  planRetry,
  type Release,
  type ScanEvidence,
  seededRandom,
  type TagFollow,
} from "@gantry/core";
import { ecrImageScanEvent, inspectorScanEvent, parseAwsEvent } from "@gantry/events";
import { percentile, round } from "./stats.ts";

export interface DecisionStats {
  inputs: number;
  decisionsPerSecond: number;
  /** Per decision, timed one by one; includes the timer's own cost (see timerOverheadNs). */
  p50Us: number;
  p99Us: number;
  p999Us: number;
  samples: number;
}

export interface DecisionsResult {
  seed: number;
  timerOverheadNs: number;
  gate: DecisionStats;
  tagFollowing: DecisionStats;
  scanEventToDecision: DecisionStats;
  /** Log tail of a failed deploy → cause (bounded, redacted), as deploy-outcome.ts does. */
  failureDiagnosis?: DecisionStats;
  /** The same on hostile tails: 1 MB lines shaped to make naive patterns backtrack (bounded first). */
  hostileLogTail?: DecisionStats;
  /** A failed attempt → retry with full-jitter backoff, or give up (per policy budgets). */
  retryPlan?: DecisionStats;
  notMeasured?: string;
}

const SEED = 20261122;
const NOW = new Date("2026-11-22T12:00:00Z");

/** mulberry32: small, fast, good enough to vary inputs reproducibly. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function policies(): GatePolicy[] {
  const exceptions = Array.from({ length: 20 }, (_, index) => ({
    id: `CVE-2026-${1000 + index}`,
    owner: "team-bench",
    reason: "not reachable",
    // Half of them expired: the gate reports those too.
    expiresAt: index % 2 === 0 ? "2027-06-30" : "2026-01-31",
  }));
  const config = parseGantryConfig({
    policies: {
      strict: { maxFindings: { CRITICAL: 0, HIGH: 0 }, exceptions: exceptions.slice(0, 4) },
      relaxed: { maxFindings: { CRITICAL: 0, HIGH: 5, MEDIUM: 20 } },
      audit: { mode: "audit", maxFindings: { CRITICAL: 0, HIGH: 0 } },
      exceptional: { maxFindings: { CRITICAL: 0, HIGH: 0, MEDIUM: 3 }, exceptions },
    },
  });
  return Object.values(config.policies);
}

function scans(random: () => number, count: number): ScanEvidence[] {
  const severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW"] as const;
  return Array.from({ length: count }, () => {
    const counts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 };
    for (const severity of severities) counts[severity] = random() < 0.4 ? Math.floor(random() * 6) : 0;
    const withFindings = random() < 0.3;
    const findings = withFindings
      ? severities.flatMap((severity) =>
          Array.from({ length: counts[severity] }, () => ({
            id: `CVE-2026-${1000 + Math.floor(random() * 40)}`,
            severity,
          })),
        )
      : undefined;
    const failed = random() < 0.05;
    return {
      scanner: random() < 0.5 ? "basic" : "enhanced",
      scanStatus: failed ? "FAILED" : "COMPLETE",
      succeeded: !failed,
      severityCounts: counts,
      ...(findings ? { findings } : {}),
    };
  });
}

function tagInputs(random: () => number, count: number) {
  const follows: TagFollow[] = [
    { kind: "current-tag" },
    { kind: "exact", tag: "prod" },
    { kind: "semver", range: ">=1.0.0 <3.0.0" },
    { kind: "pattern", pattern: "release-[0-9]{4}-[0-9]{2}-[0-9]{2}" },
  ];
  const tag = () => {
    const pick = random();
    const n = () => Math.floor(random() * 4);
    if (pick < 0.3) return `${n()}.${n()}.${n()}`;
    if (pick < 0.4) return `v${n()}.${n()}.${n()}-rc.${n()}`;
    if (pick < 0.6) return ["prod", "staging", "latest", "dev"][n()] as string;
    if (pick < 0.8) return `release-2026-${10 + n()}-${10 + n()}`;
    return `build-${Math.floor(random() * 1e6)}`;
  };
  return Array.from({ length: count }, () => ({
    follow: follows[Math.floor(random() * follows.length)] as TagFollow,
    tags: Array.from({ length: 1 + Math.floor(random() * 3) }, tag),
    current: random() < 0.5 ? "prod" : undefined,
  }));
}

function scanEvents(random: () => number, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const severityCounts = {
      CRITICAL: random() < 0.2 ? 1 : 0,
      HIGH: Math.floor(random() * 4),
      MEDIUM: Math.floor(random() * 10),
    };
    const common = {
      account: "111122223333",
      region: "us-east-1",
      repositoryName: `app-${index % 50}`,
      digest: `sha256:${index.toString(16).padStart(64, "0")}`,
      tags: ["prod", `1.${index % 7}.${index % 3}`],
      time: NOW,
      severityCounts,
    };
    // JSON round trip: the handler receives plain parsed JSON, not builder objects.
    const event = random() < 0.5 ? ecrImageScanEvent(common) : inspectorScanEvent(common);
    return JSON.parse(JSON.stringify(event)) as unknown;
  });
}

const LOG_LINES = [
  "Pulling image 111122223333.dkr.ecr.us-east-1.amazonaws.com/app@sha256:…",
  "Successfully pulled image",
  "Starting application on port 8080",
  "GET /health 200 3ms",
  "connect ECONNREFUSED 10.0.3.17:5432",
  "Error: could not connect to database: too many connections",
  "Error: listen EADDRINUSE: address already in use :::3000",
  "Process exited with code 1",
  "Traceback (most recent call last):",
  "health check failed after 5 attempts",
  "CannotPullContainerError: pull access denied for app",
  "FATAL: password authentication failed for user token=abc123secret",
  "out of memory: Killed process 42 (node)",
  "Deployment failed: rolling back to the previous version",
];

/** Log tails of failed deploys: 5–120 lines each, a cause (or none) somewhere among the noise. */
function failureLogs(random: () => number, count: number): string[][] {
  return Array.from({ length: count }, () =>
    Array.from(
      { length: 5 + Math.floor(random() * 116) },
      () => LOG_LINES[Math.floor(random() * LOG_LINES.length)] as string,
    ),
  );
}

/**
 * Tails with 1 MB lines an app could print, each shaped against one kind of pattern (long scheme-like
 * runs, many word starts, an endless quoted value, repeated query keys, blanks after a scheme, an
 * unterminated PEM block), among ordinary lines. Each line is cut to MAX_LINE_CHARS before any regex.
 */
function hostileLogs(random: () => number, count: number): string[][] {
  const megabyte = 1_000_000;
  const shapes = [
    "a".repeat(megabyte),
    "a.".repeat(megabyte / 2),
    `password="${"\\x".repeat(megabyte / 2)}`,
    `?${"?token".repeat(megabyte / 6)}`,
    `Bearer ${" ".repeat(megabyte)}!`,
    `-----BEGIN PRIVATE KEY-----${"A".repeat(megabyte)}`,
  ];
  return Array.from({ length: count }, () => {
    const tail = Array.from(
      { length: 20 },
      () => LOG_LINES[Math.floor(random() * LOG_LINES.length)] as string,
    );
    tail.splice(
      Math.floor(random() * tail.length),
      0,
      shapes[Math.floor(random() * shapes.length)] as string,
    );
    return tail;
  });
}

/** Releases that just failed: attempts and API errors spread over and past the default budgets. */
function failedReleases(random: () => number, count: number, config: GantryConfig): Release[] {
  const policyNames = Object.keys(config.policies);
  return Array.from({ length: count }, (_, index) => {
    const attempts = 1 + Math.floor(random() * 12);
    return {
      serviceArn: `arn:aws:apprunner:us-east-1:111122223333:service/svc-${index % 500}/${index.toString(16).padStart(32, "0")}`,
      serviceName: `svc-${index % 500}`,
      repository: `app-${index % 500}`,
      digest: `sha256:${index.toString(16).padStart(64, "0")}`,
      policyName: policyNames[index % policyNames.length] as string,
      state: "deploying",
      pushedAt: NOW.toISOString(),
      attempts,
      apiErrors: Math.floor(random() * attempts),
      version: attempts,
    } as Release;
  });
}

/**
 * Throughput over a fixed wall time, then latency decision by decision. `sink` keeps the JIT from
 * discarding work whose result nobody reads.
 */
function measure(
  inputs: number,
  decide: (index: number) => number,
  seconds: number,
  /** Slow decisions (hundreds of µs) warm up and sample less so a run stays short. */
  { warmup = 20_000, minSamples = 20_000 } = {},
): DecisionStats {
  let sink = 0;
  for (let index = 0; index < warmup; index++) sink += decide(index % inputs);

  let count = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let batch = 0; batch < 1000; batch++) sink += decide((count + batch) % inputs);
    count += 1000;
  }
  const elapsed = (performance.now() - started) / 1000;

  const samples = Math.min(200_000, Math.max(minSamples, count));
  const latencies = new Float64Array(samples);
  for (let index = 0; index < samples; index++) {
    const before = process.hrtime.bigint();
    sink += decide(index % inputs);
    latencies[index] = Number(process.hrtime.bigint() - before);
  }
  if (sink === Number.NEGATIVE_INFINITY) console.log(sink);
  const values = Array.from(latencies);
  return {
    inputs,
    decisionsPerSecond: Math.round(count / elapsed),
    p50Us: round(percentile(values, 50) / 1000, 2),
    p99Us: round(percentile(values, 99) / 1000, 2),
    p999Us: round(percentile(values, 99.9) / 1000, 2),
    samples,
  };
}

function timerOverheadNs(): number {
  const values: number[] = [];
  for (let index = 0; index < 100_000; index++) {
    const before = process.hrtime.bigint();
    values.push(Number(process.hrtime.bigint() - before));
  }
  return percentile(values, 50);
}

export async function runDecisions(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<DecisionsResult> {
  const seconds = options.quick ? 0.5 : 3;
  const random = prng(SEED);
  const gatePolicies = policies();
  const gateScans = scans(random, 10_000);
  const tags = tagInputs(random, 10_000);
  const events = scanEvents(random, 2_000);

  const gate = measure(
    gateScans.length,
    (index) => {
      const policy = gatePolicies[index % gatePolicies.length] as GatePolicy;
      return evaluateGate(policy, gateScans[index] as ScanEvidence, NOW).violations.length;
    },
    seconds,
  );
  options.log(`  gate: ${gate.decisionsPerSecond.toLocaleString("en")} decisions/s, p99 ${gate.p99Us} µs`);

  const tagFollowing = measure(
    tags.length,
    (index) => {
      const input = tags[index] as (typeof tags)[number];
      return followsTag(input.follow, input.tags, input.current) ? 1 : 0;
    },
    seconds,
  );
  options.log(
    `  tag following: ${tagFollowing.decisionsPerSecond.toLocaleString("en")} decisions/s, p99 ${tagFollowing.p99Us} µs`,
  );

  const follow: TagFollow = { kind: "semver", range: ">=1.0.0" };
  const scanEventToDecision = measure(
    events.length,
    (index) => {
      const event = parseAwsEvent(events[index]);
      if (event.kind !== "image-scan-completed") throw new Error("bench input is not a scan event");
      if (!followsTag(follow, event.tags, "prod")) return 0;
      const policy = gatePolicies[index % gatePolicies.length] as GatePolicy;
      return evaluateGate(policy, event, NOW).violations.length;
    },
    seconds,
  );
  options.log(
    `  scan event → decision: ${scanEventToDecision.decisionsPerSecond.toLocaleString("en")} events/s, p99 ${scanEventToDecision.p99Us} µs`,
  );

  const logs = failureLogs(random, 2_000);
  const failureDiagnosis = measure(
    logs.length,
    (index) => {
      const diagnosis = diagnoseFailure(logs[index] as string[]);
      return diagnosis.evidence.length + (diagnosis.transient ? 1 : 0);
    },
    seconds,
  );
  options.log(
    `  failure diagnosis: ${failureDiagnosis.decisionsPerSecond.toLocaleString("en")} decisions/s, p99 ${failureDiagnosis.p99Us} µs`,
  );

  const hostile = hostileLogs(random, 60);
  const hostileLogTail = measure(
    hostile.length,
    (index) => diagnoseFailure(hostile[index] as string[]).evidence.length,
    seconds,
    { warmup: 200, minSamples: 2_000 },
  );
  options.log(
    `  hostile log tail (a 1 MB line): ${hostileLogTail.decisionsPerSecond.toLocaleString("en")} decisions/s, p99 ${hostileLogTail.p99Us} µs`,
  );

  // planRetry reads only the config, the clock and the random source from its dependencies.
  const retryConfig = parseGantryConfig({
    policies: {
      default: {},
      patient: { retry: { maxAttempts: 6, baseDelaySeconds: 10, maxDelaySeconds: 3600, maxApiErrors: 20 } },
    },
  });
  const deps = { config: retryConfig, clock: { now: () => NOW }, random: seededRandom(SEED) } as GantryDeps;
  const releases = failedReleases(random, 10_000, retryConfig);
  const retryPlan = measure(
    releases.length,
    (index) => {
      const release = releases[index] as Release;
      const outcome = planRetry(
        deps,
        release,
        ["deploy failed"],
        undefined,
        index % 3 === 0 ? "api" : "deployment",
      );
      return outcome.retry ? 1 : 0;
    },
    seconds,
  );
  options.log(
    `  retry plan: ${retryPlan.decisionsPerSecond.toLocaleString("en")} decisions/s, p99 ${retryPlan.p99Us} µs`,
  );

  return {
    seed: SEED,
    timerOverheadNs: timerOverheadNs(),
    gate,
    tagFollowing,
    scanEventToDecision,
    failureDiagnosis,
    hostileLogTail,
    retryPlan,
  };
}
