/**
 * Pipeline throughput: a burst of push + scan pairs over many services, through the real handlers,
 * DynamoDB Local, the App Runner and ECR emulators and the local SNS, until every service has
 * reached its final state.
 *
 * Two phases, because that is how the system works:
 * 1. Burst. Every event is handed at once to a pool of `concurrency` workers, each with its own
 *    context (its own SDK clients and discovery cache, like warm Lambda containers), invoked
 *    concurrently. A thrown invocation is retried twice, as Lambda's async invocation does (at
 *    once here: sandbox time stands still during the burst), then counted as a dead letter.
 * 2. Settle. The sandbox's clock runs: App Runner operations finish (4 min of sandbox time), their
 *    events reach the apprunner-event handler, waiting digests deploy, the reconciler runs, until
 *    nothing is open. Sandbox time is virtual, so this phase measures Gantry's work, not waiting.
 *
 * App Runner's rate: every call the emulator answers is stamped with real time (by wrapping its
 * public `handle`), and the peak number of calls in any one-second window is reported, next to the
 * token bucket each instance ran with (GANTRY_APPRUNNER_MAX_RPS: production's default, 5/s, in one
 * row; the sandbox's loose default in the others, so those rows show the demand the bucket meets).
 */
import { createHash } from "node:crypto";
import type { Effect } from "@gantry/core";
import type { EventBridgeEvent } from "@gantry/events";
import type { Sandbox } from "@gantry/local";
import { type LoadDuring, quietPowertoolsWarnings, sampleLoad } from "./machine.ts";
import { peakRatePerSecond, percentile, round } from "./stats.ts";

export interface BurstResult {
  /** Set when the burst is stored: bursts of other runs are kept next to it (bench/run.ts). */
  measuredAt?: string;
  command?: string;
  /** Load average while this burst ran (mean, max). */
  loadDuring?: LoadDuring;
  pairs: number;
  services: number;
  concurrency: number;
  /** The token bucket each instance ran with (calls/s, bursts of twice that). */
  appRunnerMaxRps: number;
  /** Instances with their own bucket: the workers plus the sandbox's own handlers and reconciler. */
  instances: number;
  events: number;
  burstSeconds: number;
  /** Until `settle()` returned: includes the sandbox's quiet window of reconciler runs. */
  settleSeconds: number;
  /** Burst start until the last release reached its final state (the last outcome, supersede or block). */
  totalSeconds: number;
  eventsPerSecond: number;
  /** Invocation start → return, every event of the burst. */
  handlerLatencyMs: { p50: number; p99: number; max: number };
  /** Start of the invocation that decided (allow/block) → the decision, per digest. */
  eventToDecisionMs: { p50: number; p99: number };
  /** Burst start → the decision, per digest (includes queueing behind the burst). */
  burstStartToDecisionMs: { p50: number; p99: number };
  retries: number;
  deadLetters: number;
  decisions: number;
  finalStates: Record<string, number>;
  openReleases: number;
  updateServiceCalls: number;
  appRunner: {
    calls: number;
    peakCallsPerSecond: number;
    /** Calls per second over the busiest 10 s: the sustained rate, past any one-off token burst. */
    peakCallsPerSecondOver10s?: number;
    peakUpdateServicePerSecond: number;
    meanCallsPerSecond: number;
    byOperation: Record<string, number>;
  };
  /** Bus deliveries and reconciler runs during settle. */
  settleDeliveries: number;
}

export interface PipelineResult {
  bursts: BurstResult[];
  notes: string[];
}

interface Job {
  kind: "push" | "scan";
  event: EventBridgeEvent;
  attempt: number;
}

/** GANTRY_APPRUNNER_MAX_RPS's default (packages/runtime/src/runtime-config.ts). */
const PRODUCTION_APP_RUNNER_RPS = 5;

/** Effects after which a release is final (deployed/failed/rolled back, superseded, blocked, given up). */
const FINALIZING = new Set(["outcome", "supersede", "block", "giveup", "rollback"]);

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

export interface BurstShape {
  pairs: number;
  services: number;
  concurrency: number;
  /** Gantry's App Runner token bucket, per instance (GANTRY_APPRUNNER_MAX_RPS); the sandbox's default if unset. */
  appRunnerMaxRps?: number;
}

export async function runPipeline(options: {
  quick: boolean;
  full: boolean;
  /** One burst of this shape instead of the default set. */
  shape?: BurstShape;
  log: (line: string) => void;
}): Promise<PipelineResult> {
  // Before the runtime loads: its logger and metrics read these once, and thousands of INFO lines
  // and EMF blobs would both flood the console and skew the figures.
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  const { startDynamoDbLocal } = await import("@gantry/local");
  const restoreWarnings = quietPowertoolsWarnings();

  // One worker is the sandbox bus's own pace (one invocation at a time); eight is a small Lambda
  // concurrency that two cores can still serve next to DynamoDB Local.
  const shapes: BurstShape[] = options.shape
    ? [options.shape]
    : options.quick
      ? [{ pairs: 200, services: 20, concurrency: 8 }]
      : [
          { pairs: 500, services: 50, concurrency: 1 },
          { pairs: 500, services: 50, concurrency: 8 },
          { pairs: 1_000, services: 100, concurrency: 8 },
          // Production's limit (5 calls/s per instance): what the token bucket does to a burst.
          { pairs: 100, services: 10, concurrency: 8, appRunnerMaxRps: PRODUCTION_APP_RUNNER_RPS },
          ...(options.full ? [{ pairs: 10_000, services: 500, concurrency: 8 }] : []),
        ];
  const dynamodb = await startDynamoDbLocal();
  try {
    const bursts: BurstResult[] = [];
    for (const shape of shapes) {
      options.log(
        `  burst: ${shape.pairs} push+scan pairs over ${shape.services} services, ${shape.concurrency} worker(s)` +
          `${shape.appRunnerMaxRps ? `, App Runner limited to ${shape.appRunnerMaxRps} calls/s per instance` : ""}…`,
      );
      const startedAt = new Date().toISOString();
      const load = sampleLoad();
      const result = {
        measuredAt: startedAt,
        ...(await runBurst({ ...shape, dynamodbEndpoint: dynamodb.endpoint })),
        loadDuring: load(),
      };
      options.log(
        `    ${result.eventsPerSecond} events/s, all final after ${result.totalSeconds} s (burst ${result.burstSeconds} s; settle() returned after ${result.settleSeconds} s more); ` +
          `event→decision p99 ${result.eventToDecisionMs.p99} ms; App Runner peak ${result.appRunner.peakCallsPerSecond} calls/s`,
      );
      bursts.push(result);
    }
    return {
      bursts,
      notes: [
        "Services follow their current tag (app-<n>:prod); one digest in ten has a CRITICAL finding and is blocked.",
        "Discovery walks the fleet about once a minute, shared by every instance through the fleet index in the ledger (ListServices and the tagging API; DescribeService only where a service changed); a service the instance deployed is re-described alone. Rows measured before 2026-12-04 walked once per instance per minute, with ListTagsForResource and DescribeService per service.",
        "Each instance (worker, and the sandbox's own handlers) has its own token bucket, as each Lambda container does: the sustained ceiling is rate × instances, plus one burst of 2 × rate per instance.",
        "The issue's 10,000 pairs over 500 services run with --full (about 42 minutes here) or with --pairs 10000 --services 500.",
        "The sandbox Slack subscriber runs on the same virtual clock as everything else: after a large burst, settle() spends most of its time delivering notifications, which delays the App Runner events that finish the last deploys (production runs Slack in its own Lambda).",
      ],
    };
  } finally {
    restoreWarnings();
    await dynamodb.stop();
  }
}

async function runBurst(input: BurstShape & { dynamodbEndpoint: string }): Promise<BurstResult> {
  const { Sandbox, localCredentials } = await import("@gantry/local");
  const { buildAppContext, createGantryHandlers, localLambdaContext } = await import("@gantry/runtime");
  const sandbox: Sandbox = await Sandbox.start({
    dynamodbEndpoint: input.dynamodbEndpoint,
    ...(input.appRunnerMaxRps ? { appRunnerMaxRps: input.appRunnerMaxRps } : {}),
  });
  try {
    const callTimes: { op: string; at: number }[] = [];
    const emulator = sandbox.appRunner;
    const answer = emulator.handle.bind(emulator);
    emulator.handle = (operation: string, body: unknown) => {
      callTimes.push({ op: operation, at: performance.now() });
      return answer(operation, body);
    };

    for (let index = 0; index < input.services; index++)
      sandbox.createService({ name: `svc-${index}`, image: `app-${index}:prod` });
    const jobs: Job[] = [];
    for (let pair = 0; pair < input.pairs; pair++) {
      const service = pair % input.services;
      const image = {
        repository: `app-${service}`,
        digest: sha(`bench ${service} ${pair}`),
        tags: ["prod"],
        findings: pair % 10 === 9 ? [{ id: "CVE-2026-0001", severity: "CRITICAL" as const }] : [],
      };
      sandbox.putImage(image);
      for (const event of sandbox.pushEvents(image)) jobs.push({ kind: "push", event, attempt: 1 });
      jobs.push({ kind: "scan", event: sandbox.scanEvent(image), attempt: 1 });
    }

    // When the last release became final, in real time: the sandbox's own handlers report through
    // its timeline, the burst's workers through their observe callback.
    let lastFinalAt = 0;
    const noteFinal = (effects: readonly { type: string }[]) => {
      if (effects.some((effect) => FINALIZING.has(effect.type))) lastFinalAt = performance.now();
    };
    const timelinePush = sandbox.timeline.push.bind(sandbox.timeline);
    sandbox.timeline.push = (...entries) => {
      noteFinal(entries.flatMap((entry) => (entry.effect ? [entry.effect] : [])));
      return timelinePush(...entries);
    };
    const decidedAt = new Map<string, number>();
    const decidingInvocationStart = new Map<string, number>();
    const running = new Map<object, number>();
    const workers = Array.from({ length: input.concurrency }, () => {
      let invocationStart = 0;
      const context = buildAppContext(sandbox.runtime, sandbox.config, {
        clock: sandbox.clock,
        credentials: localCredentials,
        observe: (_source: string, effects: Effect[]) => {
          noteFinal(effects);
          const now = performance.now();
          for (const effect of effects) {
            if (effect.type !== "allow" && effect.type !== "block") continue;
            const key = `${effect.serviceArn}|${effect.digest}`;
            decidedAt.set(key, now);
            decidingInvocationStart.set(key, invocationStart);
          }
        },
      });
      const handlers = createGantryHandlers(() => context);
      return {
        invoke: async (job: Job) => {
          invocationStart = performance.now();
          const handler = job.kind === "push" ? handlers.imagePush : handlers.imageScan;
          return handler(job.event, localLambdaContext(`bench-${job.kind}`) as never);
        },
      };
    });

    const latencies: number[] = [];
    let retries = 0;
    let deadLetters = 0;
    let next = 0;
    const burstStarted = performance.now();
    await Promise.all(
      workers.map(async (worker) => {
        for (;;) {
          const job = jobs[next];
          if (!job) {
            if (running.size === 0) return;
            await new Promise((resolve) => setTimeout(resolve, 1));
            continue;
          }
          next++;
          running.set(job, performance.now());
          const started = performance.now();
          try {
            await worker.invoke(job);
          } catch {
            if (job.attempt < 3) {
              retries++;
              jobs.push({ ...job, attempt: job.attempt + 1 });
            } else deadLetters++;
          } finally {
            latencies.push(performance.now() - started);
            running.delete(job);
          }
        }
      }),
    );
    const burstEnded = performance.now();
    const deliveriesBefore = sandbox.bus.deliveries.length;
    await sandbox.settle();
    const settled = performance.now();

    const finalStates: Record<string, number> = {};
    let openReleases = 0;
    for (const { service } of sandbox.appRunner.snapshot().services) {
      for (const release of await sandbox.ledger.releasesByService(service.ServiceArn as string)) {
        finalStates[release.state] = (finalStates[release.state] ?? 0) + 1;
        if (["awaiting-scan", "waiting", "deploying"].includes(release.state)) openReleases++;
      }
    }
    const decisionLatency = [...decidedAt.entries()].map(
      ([key, at]) => at - (decidingInvocationStart.get(key) ?? at),
    );
    const fromBurstStart = [...decidedAt.values()].map((at) => at - burstStarted);
    const byOperation: Record<string, number> = {};
    for (const call of callTimes) byOperation[call.op] = (byOperation[call.op] ?? 0) + 1;
    const burstSeconds = (burstEnded - burstStarted) / 1000;
    const totalSeconds = (Math.max(lastFinalAt, burstEnded) - burstStarted) / 1000;
    return {
      pairs: input.pairs,
      services: input.services,
      concurrency: input.concurrency,
      appRunnerMaxRps: sandbox.runtime.appRunnerMaxRps,
      instances: input.concurrency + 1,
      events: input.pairs * 2,
      burstSeconds: round(burstSeconds, 2),
      settleSeconds: round((settled - burstEnded) / 1000, 2),
      totalSeconds: round(totalSeconds, 2),
      eventsPerSecond: Math.round((input.pairs * 2) / burstSeconds),
      handlerLatencyMs: {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
      },
      eventToDecisionMs: {
        p50: round(percentile(decisionLatency, 50)),
        p99: round(percentile(decisionLatency, 99)),
      },
      burstStartToDecisionMs: {
        p50: round(percentile(fromBurstStart, 50)),
        p99: round(percentile(fromBurstStart, 99)),
      },
      retries,
      deadLetters: deadLetters + sandbox.bus.deadLetters.length,
      decisions: decidedAt.size,
      finalStates,
      openReleases,
      updateServiceCalls: sandbox.appRunner.calls.filter((call) => call.op === "UpdateService" && !call.error)
        .length,
      appRunner: {
        calls: callTimes.length,
        peakCallsPerSecond: peakRatePerSecond(callTimes.map((call) => call.at)),
        peakCallsPerSecondOver10s: round(
          peakRatePerSecond(
            callTimes.map((call) => call.at),
            10_000,
          ),
        ),
        peakUpdateServicePerSecond: peakRatePerSecond(
          callTimes.filter((call) => call.op === "UpdateService").map((call) => call.at),
        ),
        meanCallsPerSecond: Math.round(callTimes.length / ((settled - burstStarted) / 1000)),
        byOperation,
      },
      settleDeliveries: sandbox.bus.deliveries.length - deliveriesBefore,
    };
  } finally {
    await sandbox.stop();
  }
}
