/**
 * Chaos, faults: App Runner throttles, answers 5xx, refuses with InvalidStateException or answers
 * late on ~30% of its calls (chosen call by call from a seeded PRNG) for the first 40 minutes of
 * sandbox time, while the events arrive and are retried. Then the storm passes and the reconciler
 * and Lambda's retries have to finish the job. A second suite also runs the handlers concurrently,
 * as separate Lambda containers racing on the same services and the same conditional writes.
 *
 * Invariants, per seed:
 * - every release is final (deployed, blocked, superseded, or failed because Gantry gave up after
 *   its retry budget), none open (awaiting-scan, waiting, deploying, retrying);
 * - a pushed digest has no release only if its push is in the dead letters (accounted for), and
 *   after the dead letters are redriven (the DLQ runbook) no release is missing at all;
 * - a deployed digest got exactly one successful UpdateService, a given-up one at most one, every
 *   other digest none (only API calls fail here, so every operation that starts succeeds);
 * - App Runner never had to refuse an UpdateService because an operation was running (the
 *   per-service slot holds under races).
 * A retry job the retry function keeps failing on (Lambda retries it twice) lands in the scheduler's
 * dead letters and is not redriven: the reconciler runs a retry that is overdue, and the invariants
 * above prove it did.
 * The bus suite is deterministic per seed. The race suite runs real concurrency: its seed fixes the
 * events, copies and fault odds, but the interleaving (and so which call draws which fault) may
 * differ between runs; the invariants must hold for every interleaving.
 * Only API calls fail here, and a refused UpdateService has its own budget (`retry.maxApiErrors`,
 * 10), far beyond what a 40-minute storm at 30% uses up: no approved digest may end given up.
 */
import type { EventBridgeEvent } from "@gantry/events";
import type { Sandbox } from "@gantry/local";
import { afterAll, describe, expect, it } from "vitest";
import {
  busyRefusals,
  chaosSeeds,
  deployViolations,
  digestOf,
  type FaultKind,
  type FaultStorm,
  type Invocation,
  journalView,
  ledgerView,
  OPEN_STATES,
  pushEvent,
  type Random,
  raceHandlers,
  scanEvent,
  seededRandom,
  settleThroughFailures,
  startFaultStorm,
  startSandbox,
  successfulDeploys,
} from "./chaos-support.ts";

const STORM_MINUTES = 40;
const FAULT_RATE = 0.3;

const SERVICES = [
  { name: "alpha", image: "alpha:prod" },
  { name: "alpha-eu", image: "alpha:prod" },
  { name: "beta", image: "beta:prod" },
];

interface Release {
  repository: string;
  digest: string;
  critical: boolean;
}

function releasesFor(seed: number): Release[] {
  const alpha = [1, 2, 3, 4].map((n) => ({
    repository: "alpha",
    digest: digestOf(`fault ${seed} alpha ${n}`),
    critical: n === 3,
  }));
  const beta = [1, 2].map((n) => ({
    repository: "beta",
    digest: digestOf(`fault ${seed} beta ${n}`),
    critical: false,
  }));
  return [...alpha, ...beta];
}

/** The (service, digest) pairs Gantry should record: alpha's digests fan out to two services. */
function expectedPairs(releases: Release[]): string[] {
  return releases.flatMap((release) =>
    SERVICES.filter((service) => service.image.startsWith(`${release.repository}:`)).map(
      (service) => `${service.name}@${release.digest}`,
    ),
  );
}

function eventsFor(release: Release): { push: EventBridgeEvent; scan: EventBridgeEvent } {
  return {
    push: pushEvent(release.repository, release.digest, "prod"),
    scan: scanEvent(release.repository, release.digest, release.critical ? { CRITICAL: 1 } : {}),
  };
}

function prepare(sandbox: Sandbox, releases: Release[]): void {
  for (const service of SERVICES) sandbox.createService(service);
  for (const release of releases) {
    sandbox.putImage({
      repository: release.repository,
      digest: release.digest,
      tags: ["prod"],
      findings: release.critical ? [{ id: "CVE-2026-0001", severity: "CRITICAL" }] : [],
    });
  }
}

const totals = {
  seeds: 0,
  events: 0,
  appRunnerCalls: 0,
  faults: { throttle: 0, "error-5xx": 0, "invalid-state": 0, latency: 0 } as Record<FaultKind, number>,
  deadLetters: 0,
  /** Retry jobs the retry function failed on three times: not redriven, the reconciler runs them. */
  retryDeadLetters: 0,
  failedReconcilerRuns: 0,
  lost: 0,
  duplicateDeploys: 0,
  /** Approved digests Gantry gave up on: must stay 0 (the API error budget outlasts the storm). */
  givenUp: 0,
};

interface Verdict {
  missing: string[];
  open: string[];
  deploys: string[];
  busy: number;
  givenUp: number;
}

async function verdict(sandbox: Sandbox, expected: string[]): Promise<Verdict> {
  const ledger = await ledgerView(sandbox);
  const recorded = new Set(ledger.map((view) => `${view.service}@${view.digest}`));
  return {
    missing: expected.filter((key) => !recorded.has(key)),
    open: ledger
      .filter((view) => OPEN_STATES.has(view.state))
      .map((view) => `${view.service}@${view.digest} ${view.state}`),
    deploys: deployViolations(ledger, successfulDeploys(sandbox)),
    busy: busyRefusals(sandbox),
    givenUp: (await journalView(sandbox)).filter((line) => line.split(" ")[1] === "giveup").length,
  };
}

/** The dead letters' events, by the digest they carry: a dead-lettered push may explain a missing release. */
function deadLetteredPushes(events: EventBridgeEvent[]): Set<string> {
  return new Set(
    events
      .filter((event) => event["detail-type"] === "ECR Image Action")
      .map((event) => String((event.detail as { "image-digest"?: string })["image-digest"])),
  );
}

async function checkAndRedrive(sandbox: Sandbox, expected: string[], deadLetters: EventBridgeEvent[]) {
  const before = await verdict(sandbox, expected);
  const pushes = deadLetteredPushes(deadLetters);
  // A missing release is accounted for only by its own push in the dead letters.
  const unaccounted = before.missing.filter((key) => !pushes.has(key.slice(key.indexOf("@") + 1)));
  expect(unaccounted, "releases missing without a dead-lettered push").toEqual([]);
  expect(before.open, "releases left open after the storm").toEqual([]);
  expect(before.deploys).toEqual([]);
  expect(before.busy, "UpdateService refused because an operation was running").toBe(0);

  // The DLQ runbook: redrive (same events, same ids), let the system settle again.
  for (const event of deadLetters) sandbox.publish(event);
  totals.failedReconcilerRuns += await settleThroughFailures(sandbox);
  const after = await verdict(sandbox, expected);
  totals.lost += after.missing.length + after.open.length;
  totals.duplicateDeploys += after.deploys.length;
  totals.givenUp += after.givenUp;
  expect(after.givenUp, "approved digests given up after transient API errors").toBe(0);
  expect(after.missing, "releases lost after redriving the dead letters").toEqual([]);
  expect(after.open).toEqual([]);
  expect(after.deploys).toEqual([]);
  expect(after.busy).toBe(0);
  totals.retryDeadLetters += sandbox.scheduler.deadLetters.length;
}

/** Counts one seed's storm into the totals, then checks the invariants and redrives the dead letters. */
async function checkSeed(
  sandbox: Sandbox,
  releases: Release[],
  run: { storm: FaultStorm; events: number; deadLetters: EventBridgeEvent[]; failedRuns: number },
): Promise<void> {
  totals.seeds++;
  totals.events += run.events;
  totals.appRunnerCalls += run.storm.callsDuringStorm();
  totals.deadLetters += run.deadLetters.length;
  totals.failedReconcilerRuns += run.failedRuns;
  expect(addFaults(run.storm.injected)).toBeGreaterThan(0);
  await checkAndRedrive(sandbox, expectedPairs(releases), run.deadLetters);
}

function addFaults(injected: Record<FaultKind, number>): number {
  let sum = 0;
  for (const [kind, count] of Object.entries(injected) as [FaultKind, number][]) {
    totals.faults[kind] += count;
    sum += count;
  }
  return sum;
}

function stormUntil(sandbox: Sandbox): Date {
  return new Date(sandbox.clock.now().getTime() + STORM_MINUTES * 60_000);
}

describe(`chaos: App Runner faults on ${FAULT_RATE * 100}% of calls`, () => {
  afterAll(() => {
    const faults = Object.entries(totals.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    console.log(
      `[chaos faults] seeds ${totals.seeds}, events ${totals.events}, App Runner calls during storms ${totals.appRunnerCalls}, ` +
        `faults injected ${faults}; dead letters ${totals.deadLetters} (+ ${totals.retryDeadLetters} retry jobs left to the reconciler), failed reconciler runs ${totals.failedReconcilerRuns}, ` +
        `lost ${totals.lost}, duplicate deploys ${totals.duplicateDeploys}, given up ${totals.givenUp}`,
    );
  });

  for (const seed of chaosSeeds(3, 7200)) {
    it(`seed ${seed}: events through the bus during the storm; every release ends final, nothing deployed twice`, async () => {
      console.log(`[chaos faults] bus seed ${seed} (rerun alone with CHAOS_SEED=${seed})`);
      const random = seededRandom(seed);
      const sandbox = await startSandbox();
      try {
        const releases = releasesFor(seed);
        prepare(sandbox, releases);
        const storm = startFaultStorm(sandbox, random, { rate: FAULT_RATE, until: stormUntil(sandbox) });
        const events = random.shuffle(releases.flatMap((release) => Object.values(eventsFor(release))));
        for (const event of events) {
          sandbox.publish(event);
          await sandbox.clock.advance(random.int(30) * 1000);
        }
        const failedRuns = await settleThroughFailures(sandbox);
        const deadLetters = sandbox.bus.deadLetters.map((letter) => letter.event);
        await checkSeed(sandbox, releases, {
          storm,
          events: sandbox.bus.deliveries.length,
          deadLetters,
          failedRuns,
        });
      } finally {
        await sandbox.stop();
      }
    });
  }

  for (const seed of chaosSeeds(3, 7300)) {
    it(`seed ${seed}: handlers race concurrently (4 containers) during the storm; same invariants`, async () => {
      console.log(`[chaos faults] race seed ${seed} (rerun alone with CHAOS_SEED=${seed})`);
      const random = seededRandom(seed);
      const sandbox = await startSandbox();
      try {
        const releases = releasesFor(seed);
        prepare(sandbox, releases);
        const storm = startFaultStorm(sandbox, random, { rate: FAULT_RATE, until: stormUntil(sandbox) });
        const invocations: Invocation[] = random.shuffle(
          releases.flatMap((release) => {
            const { push, scan } = eventsFor(release);
            return [
              ...copies(random, push).map((event) => ({ target: "image-push" as const, event })),
              ...copies(random, scan).map((event) => ({ target: "image-scan" as const, event })),
            ];
          }),
        );
        const race = await raceHandlers(sandbox, invocations, random, 4);
        expect(race.dropped, "a valid event was dropped").toBe(0);
        const failedRuns = await settleThroughFailures(sandbox);
        const deadLetters = [
          ...race.deadLetters.map((invocation) => invocation.event),
          ...sandbox.bus.deadLetters.map((letter) => letter.event),
        ];
        await checkSeed(sandbox, releases, {
          storm,
          events: race.invocations + race.failedAttempts + sandbox.bus.deliveries.length,
          deadLetters,
          failedRuns,
        });
      } finally {
        await sandbox.stop();
      }
    });
  }
});

/** 1–3 deliveries of one event: the same id (a retry) or a new one (re-emitted). */
function copies(random: Random, event: EventBridgeEvent): EventBridgeEvent[] {
  return Array.from({ length: 1 + random.int(3) }, (_, index) =>
    index === 0 || random.chance(0.5) ? event : { ...event, id: `${event.id}-again-${index}` },
  );
}
