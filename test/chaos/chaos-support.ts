/**
 * Shared machinery of the chaos suites: a seeded PRNG, a per-call fault storm over the App Runner
 * emulator, handlers invoked concurrently like separate Lambda containers, settling that survives a
 * failing reconciler run, and the views the invariants compare.
 *
 * Everything here goes through public surfaces only: the sandbox's fields and methods, the
 * emulator's `handle` / `injectFault` / `model`, `recordCall`, and the runtime's composition root.
 */
import { createHash } from "node:crypto";
import { seededRandom as jitter } from "@gantry/core";
import type { EventBridgeEvent } from "@gantry/events";
import { ecrImagePushEvent, ecrImageScanEvent } from "@gantry/events";
import { localCredentials, recordCall, Sandbox } from "@gantry/local";
import { buildAppContext, createGantryHandlers, localLambdaContext } from "@gantry/runtime";
import { inject } from "vitest";

export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
const T0 = new Date("2026-11-02T09:00:00Z");

/** Release states in which the release still expects something to happen. */
export const OPEN_STATES: ReadonlySet<string> = new Set([
  "awaiting-scan",
  "waiting",
  "deploying",
  "retrying",
]);

/**
 * Seeds come from a fixed base, so runs are repeatable. CHAOS_SEED=<n> replays one seed (as printed
 * by a failing run); CHAOS_SEEDS=<count> runs more of them (e.g. a nightly soak) than `npm test`.
 */
export function chaosSeeds(count: number, base: number): number[] {
  const pinned = process.env.CHAOS_SEED;
  if (pinned) return [Number(pinned)];
  const wanted = Number(process.env.CHAOS_SEEDS ?? count);
  return Array.from(
    { length: Number.isInteger(wanted) && wanted > 0 ? wanted : count },
    (_, index) => base + index,
  );
}

export interface Random {
  next(): number;
  /** 0 ≤ n < max */
  int(max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: T[]): T[];
}

/** mulberry32: tiny and good enough to make chaos reproducible from one number. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[int(items.length)] as (typeof items)[number],
    shuffle: (items) => {
      for (let index = items.length - 1; index > 0; index--) {
        const other = int(index + 1);
        [items[index], items[other]] = [
          items[other] as (typeof items)[number],
          items[index] as (typeof items)[number],
        ];
      }
      return items;
    },
  };
}

export const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

export const pushEvent = (repositoryName: string, digest: string, tag: string): EventBridgeEvent =>
  ecrImagePushEvent({ account: ACCOUNT, region: REGION, repositoryName, digest, tag, time: T0 });

export const scanEvent = (
  repositoryName: string,
  digest: string,
  severityCounts: Record<string, number> = {},
): EventBridgeEvent =>
  ecrImageScanEvent({
    account: ACCOUNT,
    region: REGION,
    repositoryName,
    digest,
    tags: [],
    time: T0,
    severityCounts,
  });

/** A sandbox on the suite's shared DynamoDB Local (own tables per sandbox). */
export function startSandbox(config?: unknown): Promise<Sandbox> {
  return Sandbox.start({
    dynamodbEndpoint: inject("dynamodbEndpoint"),
    ...(config === undefined ? {} : { config }),
  });
}

export function serviceArns(sandbox: Sandbox): Map<string, string> {
  return new Map(
    sandbox.appRunner
      .snapshot()
      .services.map(({ service }) => [service.ServiceArn as string, service.ServiceName as string]),
  );
}

export interface ReleaseView {
  service: string;
  digest: string;
  state: string;
  version: number;
  verdict: string | undefined;
}

/** Every release in the ledger without volatile fields (times, operation ids), in a stable order. */
export async function ledgerView(sandbox: Sandbox): Promise<ReleaseView[]> {
  const views: ReleaseView[] = [];
  for (const [arn, service] of serviceArns(sandbox)) {
    for (const release of await sandbox.ledger.releasesByService(arn)) {
      views.push({
        service,
        digest: release.digest,
        state: release.state,
        version: release.version,
        verdict: release.decision?.verdict,
      });
    }
  }
  return views.sort((a, b) => `${a.service}@${a.digest}`.localeCompare(`${b.service}@${b.digest}`));
}

/** The journal as `service type digest` lines: a fact journaled twice shows up twice. */
export async function journalView(sandbox: Sandbox): Promise<string[]> {
  const lines: string[] = [];
  for (const [arn, service] of serviceArns(sandbox)) {
    for (const entry of await sandbox.ledger.history(arn, 1000))
      lines.push(`${service} ${entry.type} ${entry.digest?.slice(7, 19) ?? "-"}`);
  }
  return lines.sort();
}

/** Successful UpdateService calls per `service@digest`, read from what the emulator answered. */
export function successfulDeploys(sandbox: Sandbox): Map<string, number> {
  const names = serviceArns(sandbox);
  const counts = new Map<string, number>();
  for (const call of sandbox.appRunner.calls) {
    if (call.op !== "UpdateService" || call.error) continue;
    const input = call.input as {
      ServiceArn: string;
      SourceConfiguration?: { ImageRepository?: { ImageIdentifier?: string } };
    };
    const identifier = input.SourceConfiguration?.ImageRepository?.ImageIdentifier ?? "";
    const digest = identifier.includes("@") ? identifier.slice(identifier.indexOf("@") + 1) : identifier;
    const key = `${names.get(input.ServiceArn) ?? input.ServiceArn}@${digest}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * The UpdateService invariant for runs whose faults are API faults only (no operation is made to
 * fail, so every operation that starts succeeds): a `deployed` release was deployed by exactly one
 * successful UpdateService; a `failed` one (Gantry gave up after its attempts) by at most one;
 * every other release by none. Returns the violations.
 */
export function deployViolations(
  ledger: readonly ReleaseView[],
  deploys: ReadonlyMap<string, number>,
): string[] {
  return ledger.flatMap((view) => {
    const key = `${view.service}@${view.digest}`;
    const count = deploys.get(key) ?? 0;
    const [min, max] = view.state === "deployed" ? [1, 1] : view.state === "failed" ? [0, 1] : [0, 0];
    return count < min || count > max
      ? [`${key} is ${view.state} after ${count} successful UpdateService`]
      : [];
  });
}

/**
 * UpdateService calls the emulator itself refused because the service was busy: Gantry tried to
 * start a second operation while one ran, which its per-service slot must prevent. Injected
 * InvalidState faults carry a `chaos:` message and are not counted.
 */
export function busyRefusals(sandbox: Sandbox): number {
  return sandbox.appRunner.calls.filter(
    (call) =>
      call.op === "UpdateService" &&
      call.error?.code === "InvalidStateException" &&
      !call.error.message.startsWith("chaos:"),
  ).length;
}

/** The image each service runs now, by digest (or tag) after the `@`/`:`. */
export function runningImages(sandbox: Sandbox): Record<string, string> {
  return Object.fromEntries(
    sandbox.appRunner.snapshot().services.map(({ service }) => {
      const source = service.SourceConfiguration as { ImageRepository: { ImageIdentifier: string } };
      return [service.ServiceName as string, source.ImageRepository.ImageIdentifier.split("/").pop() ?? ""];
    }),
  );
}

export type FaultKind = "throttle" | "error-5xx" | "invalid-state" | "latency";

export interface FaultStorm {
  readonly injected: Record<FaultKind, number>;
  /** App Runner calls seen while the storm was on. */
  readonly callsDuringStorm: () => number;
}

/**
 * Faults on ~`rate` of App Runner calls, chosen call by call from the seeded PRNG, until sandbox
 * time reaches `until`. The emulator's `injectFault` is count-based, so the wrapper arms one fault
 * (`times: 1`) right before handing the call on: `handle` takes API faults synchronously on entry,
 * so the armed fault is the one this very call consumes, even with concurrent callers.
 * InvalidStateException has no injectFault outcome; it is answered through `recordCall` with the
 * model's own error, so the call log and the model check see it like any other answer. It is only
 * raised where App Runner models it (UpdateService).
 */
export function startFaultStorm(
  sandbox: Sandbox,
  random: Random,
  options: { rate: number; until: Date; latencyMs?: number },
): FaultStorm {
  const emulator = sandbox.appRunner;
  const answer = emulator.handle.bind(emulator);
  const injected: Record<FaultKind, number> = { throttle: 0, "error-5xx": 0, "invalid-state": 0, latency: 0 };
  let calls = 0;
  emulator.handle = (operation: string, input: unknown) => {
    if (sandbox.clock.now() >= options.until) return answer(operation, input);
    calls++;
    if (!random.chance(options.rate)) return answer(operation, input);
    const kinds: FaultKind[] =
      operation === "UpdateService"
        ? ["throttle", "error-5xx", "invalid-state", "latency"]
        : ["throttle", "error-5xx", "latency"];
    const kind = random.pick(kinds);
    injected[kind]++;
    if (kind === "invalid-state") {
      return recordCall(emulator.calls, { op: operation, input, at: sandbox.clock.now() }, async () => {
        throw emulator.model.error(
          "InvalidStateException",
          "chaos: You can't perform this action when the resource is in its current state.",
        );
      });
    }
    emulator.injectFault({
      op: operation,
      outcome: kind,
      times: 1,
      ...(kind === "latency" ? { delayMs: options.latencyMs ?? 1 + random.int(15) } : {}),
    });
    return answer(operation, input);
  };
  return { injected, callsDuringStorm: () => calls };
}

/**
 * Runs `sandbox.settle()` to quiescence, tolerating failed reconciler runs: in production a failed
 * scheduled run is simply followed by the next one five minutes later, while `settle()` rethrows
 * the reconciler's error. Returns how many runs failed.
 */
export async function settleThroughFailures(
  sandbox: Sandbox,
  options: { maxFailedRuns?: number; horizonMs?: number } = {},
): Promise<number> {
  for (let failed = 0; ; failed++) {
    try {
      await sandbox.settle(options.horizonMs);
      return failed;
    } catch (error) {
      if (failed >= (options.maxFailedRuns ?? 60)) throw error;
    }
  }
}

export type Target = "image-push" | "image-scan";

export interface Invocation {
  target: Target;
  event: EventBridgeEvent;
}

export interface RaceOutcome {
  invocations: number;
  failedAttempts: number;
  dropped: number;
  deadLetters: Invocation[];
}

/**
 * Invokes every event at once across `containers` independent handler sets (each its own context,
 * SDK clients and discovery cache, like separate warm Lambda containers) on the sandbox's tables
 * and emulators. Failed invocations are retried twice, 1 and 2 minutes of sandbox time later, as
 * Lambda's async invocation does; then they are dead letters. Advancing the clock between rounds
 * lets operations end and the sandbox's own apprunner-event handler run.
 */
export async function raceHandlers(
  sandbox: Sandbox,
  invocations: Invocation[],
  random: Random,
  containers: number,
): Promise<RaceOutcome> {
  const sets = Array.from({ length: containers }, () => {
    // As the sandbox wires its own handlers: one SDK attempt (faults reach the classifier) and
    // durable retries on the sandbox's scheduler, which runs them on the virtual clock.
    const context = buildAppContext(sandbox.runtime, sandbox.config, {
      clock: sandbox.clock,
      credentials: localCredentials,
      maxAttempts: 1,
      scheduler: sandbox.scheduler,
      random: jitter(random.int(2 ** 31)),
    });
    return createGantryHandlers(() => context);
  });
  let pending = invocations;
  let failedAttempts = 0;
  let dropped = 0;
  for (const [attempt, delayBefore] of [0, 60_000, 120_000].entries()) {
    if (pending.length === 0) break;
    if (delayBefore > 0) await sandbox.clock.advance(delayBefore);
    const results = await Promise.allSettled(
      pending.map((invocation) => {
        const handlers = random.pick(sets);
        const handler = invocation.target === "image-push" ? handlers.imagePush : handlers.imageScan;
        return handler(invocation.event, localLambdaContext(`chaos-${invocation.target}`) as never);
      }),
    );
    for (const result of results) {
      if (result.status === "fulfilled" && (result.value as { dropped?: boolean } | null)?.dropped) dropped++;
    }
    const failed = pending.filter((_, index) => results[index]?.status === "rejected");
    failedAttempts += failed.length;
    pending = failed;
    if (attempt === 2) break;
  }
  return { invocations: invocations.length, failedAttempts, dropped, deadLetters: pending };
}

/**
 * The first `count` successful answers to `operation` never reach the caller: App Runner acted (the
 * call is logged with its output) but the client sees a 5xx, as after a connection reset or a
 * timeout once the request had arrived. Returns how many answers were lost.
 */
export function loseResponses(sandbox: Sandbox, operation: string, count: number): () => number {
  const emulator = sandbox.appRunner;
  const answer = emulator.handle.bind(emulator);
  let lost = 0;
  emulator.handle = async (name: string, input: unknown) => {
    const output = await answer(name, input);
    if (name !== operation || lost >= count) return output;
    lost++;
    throw emulator.model.error("InternalServiceErrorException", "chaos: the response was lost");
  };
  return () => lost;
}
