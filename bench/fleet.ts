/**
 * Fleet scale: 1,000 managed services in the sandbox (DynamoDB Local, the App Runner emulator and
 * the local tagging API, real adapters and use cases). How many App Runner calls discovery and the
 * reconciler make, and how long they take at production's 5 calls/s, against the reconciler's
 * 240 s timeout (infra/functions.ts).
 *
 * App Runner calls are counted by the emulator (every call it answers), tagging calls by the local
 * tagging API. The sandbox's own token bucket (500/s) never binds here, so "wall" is the time
 * Gantry spends besides waiting for the bucket (local App Runner round trips, DynamoDB Local,
 * its own work). At 5 calls/s the bucket adds max(0, calls − 10) / 5 s (it starts with a burst of
 * 10 tokens); "at 5/s" is wall + that. One walk is also run under a real 5/s bucket to check the
 * formula against a stopwatch.
 *
 * The reconciler runs get the production budget (`reconcileBudget`, as the reconcile handler builds
 * it) for a 240 s Lambda at 5 calls/s. The sandbox's virtual clock does not move while Gantry
 * works, so the Lambda's remaining time is modelled as 240 s − (wall so far + the bucket's delay
 * for the calls so far): what the run would have left in production.
 */
import { createHash } from "node:crypto";
import type { Effect } from "@gantry/core";
import type { Sandbox } from "@gantry/local";
import { quietPowertoolsWarnings } from "./machine.ts";
import { round } from "./stats.ts";

/** GANTRY_APPRUNNER_MAX_RPS's default, and the bucket's burst (twice the rate). */
const RATE = 5;
const BURST = 2 * RATE;
/** The reconcile function's timeout (`TIMEOUT_SECONDS` in infra/functions.ts). */
const RECONCILE_TIMEOUT_SECONDS = 240;
/** The reconciler's schedule (infra/events.ts), and past the discovery TTL (60 s). */
const SCHEDULE_MS = 5 * 60_000;

export interface CallCount {
  appRunnerCalls: number;
  byOperation: Record<string, number>;
  taggingCalls: number;
  /** Measured: everything but the token bucket's waiting (DynamoDB, local round trips, Gantry). */
  wallSeconds: number;
  /** wall + max(0, calls − 10) / 5: the time at production's rate. */
  at5PerSecondSeconds: number;
}

export interface DiscoveryRow extends CallCount {
  case: string;
  managedFound: number;
  /** Measured with a real 5 calls/s token bucket (one row). */
  stopwatchAt5PerSecondSeconds?: number;
}

export interface ReconcileRow extends CallCount {
  case: string;
  run: number;
  /** The budget's App Runner calls for this run (240 s at 5/s less the margin). */
  budgetCalls: number;
  /** Lost operations still unsettled after this run. */
  openAfter: number;
}

export interface FleetResult {
  services: number;
  rate: number;
  reconcileTimeoutSeconds: number;
  discovery: DiscoveryRow[];
  reconcile: ReconcileRow[];
  notes: string[];
}

const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const throttleSeconds = (calls: number) => Math.max(0, calls - BURST) / RATE;

export async function runFleet(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<FleetResult> {
  process.env.POWERTOOLS_LOG_LEVEL ??= "ERROR";
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  const services = options.quick ? 100 : 1_000;
  const { Sandbox, localCredentials, startDynamoDbLocal } = await import("@gantry/local");
  const { buildAppContext, createGantryHandlers, localLambdaContext, reconcileBudget } = await import(
    "@gantry/runtime"
  );
  const { reconcile } = await import("@gantry/core");
  const { AppRunnerAdapter } = await import("@gantry/aws");
  const { AppRunnerClient } = await import("@aws-sdk/client-apprunner");
  const restoreWarnings = quietPowertoolsWarnings();
  const dynamodb = await startDynamoDbLocal();
  const sandbox: Sandbox = await Sandbox.start({ dynamodbEndpoint: dynamodb.endpoint, slack: false });
  try {
    const instance = (maxRps?: number) =>
      buildAppContext(
        maxRps ? { ...sandbox.runtime, appRunnerMaxRps: maxRps } : sandbox.runtime,
        sandbox.config,
        { clock: sandbox.clock, credentials: localCredentials },
      );
    /** Counts what `work` asks App Runner and the tagging API, and how long it takes. */
    const measure = async (work: () => Promise<unknown>): Promise<CallCount> => {
      const appRunnerFrom = sandbox.appRunner.calls.length;
      const taggingFrom = sandbox.tagging.calls.length;
      const started = performance.now();
      await work();
      const wallSeconds = (performance.now() - started) / 1000;
      const calls = sandbox.appRunner.calls.slice(appRunnerFrom);
      const byOperation: Record<string, number> = {};
      for (const call of calls) byOperation[call.op] = (byOperation[call.op] ?? 0) + 1;
      return {
        appRunnerCalls: calls.length,
        byOperation,
        taggingCalls: sandbox.tagging.calls.length - taggingFrom,
        wallSeconds: round(wallSeconds, 2),
        at5PerSecondSeconds: round(wallSeconds + throttleSeconds(calls.length), 1),
      };
    };

    options.log(`  seeding ${services} managed services…`);
    for (let index = 0; index < services; index++) {
      sandbox.createService({ name: `svc-${String(index).padStart(4, "0")}`, image: `app-${index}:prod` });
    }

    const discovery: DiscoveryRow[] = [];
    const discover = async (
      label: string,
      context: { deps: { appRunner: { listManagedServices(): Promise<unknown[]> } } },
    ) => {
      let found = 0;
      const count = await measure(async () => {
        found = (await context.deps.appRunner.listManagedServices()).length;
      });
      const row: DiscoveryRow = { case: label, managedFound: found, ...count };
      discovery.push(row);
      options.log(
        `    ${label}: ${row.appRunnerCalls} App Runner calls, ${row.taggingCalls} tagging calls, ${row.wallSeconds} s wall, ${row.at5PerSecondSeconds} s at 5/s`,
      );
      return row;
    };

    options.log("  discovery…");
    // Before: ListServices, then ListTagsForResource and DescribeService per service, no index (the
    // adapter without the tagging API and the ledger is still that walk).
    const before = new AppRunnerAdapter(
      new AppRunnerClient({
        region: sandbox.region,
        endpoint: sandbox.runtime.endpoints.apprunner as string,
        credentials: localCredentials,
      }),
      sandbox.clock,
    );
    await discover("before: per-service tags and descriptions, no index", { deps: { appRunner: before } });
    await discover("first walk ever (empty fleet index)", instance());
    await discover("cold instance, the fleet walked < 60 s ago (index reused)", instance());
    const warm = instance();
    await sandbox.clock.advance(SCHEDULE_MS);
    await discover("cold instance, warm index, last walk > 60 s ago", warm);
    await discover("the same instance again within 60 s (its cache)", warm);
    await sandbox.clock.advance(SCHEDULE_MS);
    const stopwatch = await discover(
      "cold instance, warm index, under a real 5/s token bucket",
      instance(RATE),
    );
    // Its wall already includes the bucket's waiting: the stopwatch is the figure at 5/s.
    stopwatch.stopwatchAt5PerSecondSeconds = stopwatch.wallSeconds;
    stopwatch.at5PerSecondSeconds = stopwatch.wallSeconds;

    options.log("  reconciler…");
    const reconciler = instance();
    const reconcileRows: ReconcileRow[] = [];
    const open = new Set<string>();
    const run = async (label: string, index: number) => {
      await sandbox.clock.advance(SCHEDULE_MS);
      let budgetCalls = 0;
      const count = await measure(async () => {
        const started = performance.now();
        const callsAtStart = reconciler.appRunnerUsage.calls();
        // What a 240 s Lambda would have left: the wall so far plus the bucket's waiting so far.
        const remaining = () =>
          RECONCILE_TIMEOUT_SECONDS * 1000 -
          (performance.now() - started) -
          throttleSeconds(reconciler.appRunnerUsage.calls() - callsAtStart) * 1000;
        const budget = reconcileBudget({ calls: reconciler.appRunnerUsage.calls, maxRps: RATE }, remaining);
        budgetCalls = budget.maxAppRunnerCalls;
        const effects: Effect[] = await reconcile(reconciler.deps, budget);
        for (const effect of effects) {
          if (effect.type === "outcome" && effect.serviceArn) open.delete(effect.serviceArn);
        }
      });
      const row = { case: label, run: index, budgetCalls, openAfter: open.size, ...count };
      reconcileRows.push(row);
      options.log(
        `    ${label} #${index}: ${row.appRunnerCalls} App Runner calls (budget ${budgetCalls}), ${row.wallSeconds} s wall, ${row.at5PerSecondSeconds} s at 5/s, ${row.openAfter} open`,
      );
    };
    await run("idle fleet", 1);

    options.log(`  deploying all ${services} services with their App Runner events lost…`);
    const deployer = instance();
    const handlers = createGantryHandlers(() => deployer);
    sandbox.appRunner.injectFault({ op: "UPDATE_SERVICE", outcome: "no-event", times: services });
    for (let index = 0; index < services; index++) {
      const image = { repository: `app-${index}`, digest: sha(`fleet ${index}`), tags: ["prod"] };
      sandbox.putImage(image);
      for (const event of sandbox.pushEvents(image)) {
        await handlers.imagePush(event, localLambdaContext("bench-push") as never);
      }
      const decided = await handlers.imageScan(
        sandbox.scanEvent(image),
        localLambdaContext("bench-scan") as never,
      );
      if (Array.isArray(decided) && decided.some((effect: Effect) => effect.type === "deploy")) {
        open.add(String(decided.find((effect: Effect) => effect.type === "deploy")?.serviceArn));
      }
    }
    options.log(`    ${open.size} deploys started; their operations end with no event`);
    for (let index = 1; open.size > 0 && index <= 10; index++) await run("every deploy's events lost", index);

    return {
      services,
      rate: RATE,
      reconcileTimeoutSeconds: RECONCILE_TIMEOUT_SECONDS,
      discovery,
      reconcile: reconcileRows,
      notes: [
        `${services} services, all tagged gantry:managed=true, in the sandbox (DynamoDB Local, App Runner emulator, local tagging API); App Runner and tagging calls counted by the emulators.`,
        '"wall" is measured with the sandbox\'s loose token bucket (500/s, never binding): Gantry\'s own time, DynamoDB Local and local round trips. "at 5/s" adds the production bucket\'s waiting, max(0, calls − 10) / 5 s; the stopwatch row ran under a real 5/s bucket.',
        `Reconciler runs get the handler's budget for a ${RECONCILE_TIMEOUT_SECONDS} s Lambda at 5 calls/s, with the remaining time modelled as ${RECONCILE_TIMEOUT_SECONDS} s − (wall + the bucket's waiting): the sandbox's virtual clock does not move while Gantry works. Each run is 5 min of sandbox time after the last (the schedule).`,
        "Before this design, the reconciler began every run with the walk in the first row (2,050 calls, 412 s at 5/s) under a 60 s timeout: it could not finish a run at 1,000 services.",
        "Lost events: every service gets a push and a passing scan, so Gantry deploys it; the emulator ends each UpdateService without an event (fault no-event), and only the reconciler can settle them (ListOperations, then the live spec of a deployed service).",
      ],
    };
  } finally {
    restoreWarnings();
    await sandbox.stop();
    await dynamodb.stop();
  }
}
