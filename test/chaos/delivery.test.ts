/**
 * Chaos, delivery: EventBridge delivers at least once and in no particular order. Four stories run
 * side by side in one sandbox (a clean deploy, a blocked image, three pushes while an operation
 * runs, a scan that arrives before its push). Every event, App Runner's own included, is delivered
 * 1–3 times (the same id or a new one) in a seeded random order with random gaps. For each seed
 * the run is compared with a reference run of the same schedule in which each event arrives once
 * (its first copy): the ledger must be identical, every approved digest deployed by exactly one
 * UpdateService, and no release lost or left open.
 */
import type { EventBridgeEvent } from "@gantry/events";
import type { Sandbox } from "@gantry/local";
import { afterAll, describe, expect, it } from "vitest";
import {
  busyRefusals,
  chaosSeeds,
  deployViolations,
  digestOf,
  journalView,
  ledgerView,
  OPEN_STATES,
  pushEvent,
  type Random,
  runningImages,
  scanEvent,
  seededRandom,
  startSandbox,
  successfulDeploys,
} from "./chaos-support.ts";

const clean = digestOf("chaos clean");
const critical = digestOf("chaos critical");
const queued = [digestOf("chaos v1"), digestOf("chaos v2"), digestOf("chaos v3")] as const;
const early = digestOf("chaos early");

const SERVICES = [
  { name: "clean-svc", image: "clean:prod" },
  { name: "block-svc", image: "blocky:prod" },
  { name: "queue-svc", image: "queue:prod" },
  { name: "early-svc", image: "early:prod" },
];
const IMAGES = [
  { repository: "clean", digest: clean, tags: ["prod"] },
  {
    repository: "blocky",
    digest: critical,
    tags: ["prod"],
    findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" as const }],
  },
  ...queued.map((digest) => ({ repository: "queue", digest, tags: ["prod"] })),
  { repository: "early", digest: early, tags: ["prod"] },
];

interface Logical {
  key: string;
  event: EventBridgeEvent;
}

const LOGICAL: Logical[] = [
  { key: "clean push", event: pushEvent("clean", clean, "prod") },
  { key: "clean scan", event: scanEvent("clean", clean) },
  { key: "block push", event: pushEvent("blocky", critical, "prod") },
  { key: "block scan", event: scanEvent("blocky", critical, { CRITICAL: 1 }) },
  ...queued.flatMap((digest, index) => [
    { key: `queue push v${index + 1}`, event: pushEvent("queue", digest, "prod") },
    { key: `queue scan v${index + 1}`, event: scanEvent("queue", digest) },
  ]),
  { key: "early scan", event: scanEvent("early", early) },
  { key: "early push", event: pushEvent("early", early, "prod") },
];

interface Step {
  logical: Logical;
  /** 0 for the first copy of its event; duplicates are left out of the reference run. */
  copy: number;
  /** A redelivery keeps its id (EventBridge retry) or gets a new one (a re-emitted event). */
  sameId: boolean;
  gapSeconds: number;
}

function schedule(random: Random): Step[] {
  const copies = random.shuffle(
    LOGICAL.flatMap((logical) => Array.from({ length: 1 + random.int(3) }, () => logical)),
  );
  // The scan-before-push story needs its first scan ahead of its first push.
  const firstScan = copies.findIndex((logical) => logical.key === "early scan");
  const firstPush = copies.findIndex((logical) => logical.key === "early push");
  if (firstPush < firstScan)
    [copies[firstPush], copies[firstScan]] = [copies[firstScan]!, copies[firstPush]!];
  const seen = new Map<string, number>();
  return copies.map((logical) => {
    const copy = seen.get(logical.key) ?? 0;
    seen.set(logical.key, copy + 1);
    return { logical, copy, sameId: random.chance(0.5), gapSeconds: random.int(45) };
  });
}

const totals = { seeds: 0, deliveries: 0, duplicatesInjected: 0, lost: 0, duplicateDeploys: 0 };

interface RunResult {
  ledger: Awaited<ReturnType<typeof ledgerView>>;
  journal: string[];
  deploys: Map<string, number>;
  images: Record<string, string>;
  busy: number;
  deadLetters: number;
  deliveries: number;
  duplicatesInjected: number;
}

async function run(steps: Step[], random: Random | undefined): Promise<RunResult> {
  const sandbox: Sandbox = await startSandbox();
  try {
    for (const service of SERVICES) sandbox.createService(service);
    for (const image of IMAGES) sandbox.putImage(image);
    let duplicatesInjected = 0;
    if (random) {
      // App Runner's events are at-least-once too: 0–2 extra copies within three minutes.
      const publish = sandbox.bus.publish.bind(sandbox.bus);
      sandbox.bus.publish = (event: EventBridgeEvent) => {
        const rules = publish(event);
        if (event.source === "aws.apprunner") {
          for (let extra = random.int(3); extra > 0; extra--) {
            const copy = random.chance(0.5) ? event : { ...event, id: `${event.id}-again-${extra}` };
            sandbox.clock.schedule(random.int(180) * 1000, () => void publish(copy), "chaos: App Runner dup");
            duplicatesInjected++;
          }
        }
        return rules;
      };
    }
    for (const step of steps) {
      if (step.copy === 0 || random) {
        const event = step.sameId
          ? step.logical.event
          : { ...step.logical.event, id: `${step.logical.event.id}-copy-${step.copy}` };
        sandbox.publish(event);
        if (step.copy > 0) duplicatesInjected++;
        await sandbox.clock.advance(0);
      }
      await sandbox.clock.advance(step.gapSeconds * 1000);
    }
    await sandbox.settle();
    return {
      ledger: await ledgerView(sandbox),
      journal: await journalView(sandbox),
      deploys: successfulDeploys(sandbox),
      images: runningImages(sandbox),
      busy: busyRefusals(sandbox),
      deadLetters: sandbox.bus.deadLetters.length,
      deliveries: sandbox.bus.deliveries.length,
      duplicatesInjected,
    };
  } finally {
    await sandbox.stop();
  }
}

describe("chaos: every event delivered 1–3 times, in a seeded random order", () => {
  afterAll(() => {
    console.log(
      `[chaos delivery] seeds ${totals.seeds}, deliveries ${totals.deliveries}, duplicates injected ${totals.duplicatesInjected}, ` +
        `lost ${totals.lost}, duplicate deploys ${totals.duplicateDeploys}`,
    );
  });

  for (const seed of chaosSeeds(5, 7100)) {
    it(`seed ${seed}: same ledger as single delivery, one UpdateService per approved digest, nothing lost`, async () => {
      console.log(`[chaos delivery] seed ${seed} (rerun alone with CHAOS_SEED=${seed})`);
      const steps = schedule(seededRandom(seed));
      // Two independent sandboxes: running them side by side halves the wait on DynamoDB Local.
      const [reference, chaos] = await Promise.all([
        run(steps, undefined),
        run(steps, seededRandom(seed ^ 0x5eed)),
      ]);
      totals.seeds++;
      totals.deliveries += chaos.deliveries;
      totals.duplicatesInjected += chaos.duplicatesInjected;

      // The reference itself tells each story's ending.
      const state = (service: string, digest: string) =>
        reference.ledger.find((view) => view.service === service && view.digest === digest)?.state;
      expect(state("clean-svc", clean)).toBe("deployed");
      expect(state("block-svc", critical)).toBe("blocked");
      expect(state("early-svc", early)).toBe("deployed");
      const queue = queued.map((digest) => state("queue-svc", digest));
      expect(queue.every((value) => value === "deployed" || value === "superseded")).toBe(true);
      expect(reference.images["queue-svc"]).toMatch(/@sha256:/);

      const expectedReleases = LOGICAL.length / 2;
      const lost = expectedReleases - chaos.ledger.filter((view) => !OPEN_STATES.has(view.state)).length;
      totals.lost += Math.max(0, lost);
      const violations = deployViolations(chaos.ledger, chaos.deploys);
      totals.duplicateDeploys += violations.length;

      expect(chaos.ledger).toEqual(reference.ledger);
      expect(chaos.journal).toEqual(reference.journal);
      expect(chaos.images).toEqual(reference.images);
      expect(lost).toBe(0);
      // No faults here, so nothing may fail: one UpdateService per deployed digest, none otherwise.
      expect(chaos.ledger.filter((view) => view.state === "failed")).toEqual([]);
      expect(violations).toEqual([]);
      expect(chaos.busy).toBe(0);
      expect(chaos.deadLetters).toBe(0);
      expect(chaos.duplicatesInjected).toBeGreaterThan(0);
    });
  }
});
