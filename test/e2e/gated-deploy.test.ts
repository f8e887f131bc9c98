import type { Effect } from "@gantry/core";
import { callViolations, Sandbox } from "@gantry/local";
import { describe, expect, inject, it } from "vitest";
import {
  basicScan,
  digest,
  enhancedScan,
  ofType,
  push,
  REGISTRY,
  replay,
  updateServiceCalls,
} from "./scenario-helpers.ts";

/** Scenario tags are taken as given (as on AWS): a service is Gantry's only with this tag. */
const MANAGED = { "gantry:managed": "true" };
const web = { name: "storefront", image: "web:prod", tags: MANAGED };
const webCopy = { name: "storefront-eu", image: "web:prod", tags: MANAGED };
const clean = digest("web clean");
const critical = digest("web critical");

const summary = (effects: Effect[]) =>
  effects
    .filter((effect) => !["candidate", "allow", "ignore", "slack"].includes(effect.type))
    .map((effect) => `${effect.type} ${effect.service ?? "-"} ${effect.digest?.slice(7, 13) ?? "-"}`);

describe("scan-gated, digest-pinned deploys (sandbox, real handlers, DynamoDB Local, emulators)", () => {
  it("a clean scan deploys by digest once to every service that tracks the tag", async () => {
    const effects = await replay(
      {
        services: [web, webCopy, { name: "other-app", image: "other:prod", tags: MANAGED }],
        images: [{ repository: "web", digest: clean, tags: ["prod"] }],
        events: [push("web", clean, "prod"), basicScan("web", clean)],
      },
      undefined,
      (sandbox) => {
        const updates = updateServiceCalls(sandbox);
        expect(updates).toHaveLength(2);
        for (const call of updates) {
          const input = call.input as {
            SourceConfiguration: {
              ImageRepository: Record<string, unknown>;
              AutoDeploymentsEnabled: boolean;
            };
          };
          expect(input.SourceConfiguration.ImageRepository.ImageIdentifier).toBe(`${REGISTRY}/web@${clean}`);
          expect(input.SourceConfiguration.AutoDeploymentsEnabled).toBe(false);
          // The full source configuration went back: port and access role were not dropped.
          expect(input.SourceConfiguration.ImageRepository.ImageConfiguration).toMatchObject({
            Port: "8080",
          });
          expect(input.SourceConfiguration).toHaveProperty("AuthenticationConfiguration.AccessRoleArn");
        }
        expect(callViolations(sandbox.appRunner.model, sandbox.appRunner.calls)).toEqual([]);
      },
    );
    expect(
      ofType(effects, "deploy")
        .map((effect) => effect.service)
        .sort(),
    ).toEqual(["storefront", "storefront-eu"]);
    expect(ofType(effects, "outcome").map((effect) => effect.outcome)).toEqual(["deployed", "deployed"]);
  });

  it("CRITICAL findings over the threshold block with reasons and send no UpdateService", async () => {
    const effects = await replay(
      {
        services: [web],
        images: [
          {
            repository: "web",
            digest: critical,
            tags: ["prod"],
            findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" }],
          },
        ],
        events: [push("web", critical, "prod"), basicScan("web", critical, { CRITICAL: 1, HIGH: 4 })],
      },
      undefined,
      (sandbox) => expect(updateServiceCalls(sandbox)).toEqual([]),
    );
    expect(ofType(effects, "block")).toEqual([
      expect.objectContaining({
        service: "storefront",
        digest: critical,
        reasons: ["1 CRITICAL finding (allowed: 0)"],
      }),
    ]);
    expect(ofType(effects, "deploy")).toEqual([]);
  });

  const exceptionConfig = (expiresAt: string) => ({
    policies: {
      default: {
        exceptions: [
          { id: "CVE-2026-0001", owner: "team-web", reason: "not reachable from the handler", expiresAt },
        ],
      },
    },
  });
  const criticalScenario = {
    services: [web],
    images: [
      {
        repository: "web",
        digest: critical,
        tags: ["prod"],
        findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" as const }],
      },
    ],
    events: [push("web", critical, "prod"), basicScan("web", critical, { CRITICAL: 1 })],
  };

  it("an exception that covers the finding lets the image deploy (finding ids read from ECR)", async () => {
    const effects = await replay(criticalScenario, exceptionConfig("2027-01-01T00:00:00Z"), (sandbox) => {
      expect(sandbox.ecr.calls.some((call) => call.op === "DescribeImageScanFindings")).toBe(true);
    });
    expect(ofType(effects, "deploy")).toHaveLength(1);
    expect(ofType(effects, "allow")[0]?.notes).toEqual([
      "CVE-2026-0001 (CRITICAL) excepted until 2027-01-01T00:00:00Z: not reachable from the handler",
    ]);
  });

  it("an expired exception no longer applies: blocked, and the expiry is reported", async () => {
    const effects = await replay(criticalScenario, exceptionConfig("2026-10-01T00:00:00Z"));
    expect(ofType(effects, "deploy")).toEqual([]);
    expect(ofType(effects, "block")[0]).toMatchObject({
      reasons: ["1 CRITICAL finding (allowed: 0)"],
      notes: ["exception CVE-2026-0001 (owner team-web) expired 2026-10-01T00:00:00Z"],
    });
  });

  it("audit mode deploys and says what it would have blocked", async () => {
    const effects = await replay(criticalScenario, { policies: { default: { mode: "audit" } } });
    expect(ofType(effects, "deploy")).toHaveLength(1);
    expect(ofType(effects, "allow")[0]).toMatchObject({
      level: "warning",
      reasons: ["would have blocked (audit mode): 1 CRITICAL finding (allowed: 0)"],
    });
  });

  it("a scan that arrives before its push gives the same result", async () => {
    const effects = await replay({
      services: [web],
      images: [{ repository: "web", digest: clean, tags: ["prod"] }],
      events: [basicScan("web", clean), push("web", clean, "prod")],
    });
    expect(summary(effects)).toEqual([
      `deploy storefront ${clean.slice(7, 13)}`,
      `outcome storefront ${clean.slice(7, 13)}`,
    ]);
  });

  it("every event delivered three times in shuffled order (new event ids) → same ledger, one deploy", async () => {
    const events = [push("web", clean, "prod"), basicScan("web", clean)];
    const copies = [0, 1, 2].flatMap((copy) =>
      events.map((event) => ({ ...event, id: `${event.id}-${copy}` })),
    );
    const shuffled = [copies[1], copies[0], copies[3], copies[5], copies[2], copies[4]];
    let ledgerOnce: unknown;
    await replay(
      { services: [web], images: [{ repository: "web", digest: clean, tags: ["prod"] }], events },
      undefined,
      async (sandbox) => {
        ledgerOnce = await ledgerView(sandbox);
      },
    );
    const effects = await replay(
      {
        services: [web],
        images: [{ repository: "web", digest: clean, tags: ["prod"] }],
        events: shuffled as never,
      },
      undefined,
      async (sandbox) => {
        expect(updateServiceCalls(sandbox)).toHaveLength(1);
        expect(await ledgerView(sandbox)).toEqual(ledgerOnce);
      },
    );
    expect(ofType(effects, "deploy")).toHaveLength(1);
  });

  it("two pushes while an operation runs: only the newest digest deploys after it", async () => {
    const [first, second, third] = [digest("v1"), digest("v2"), digest("v3")];
    const effects = await replay(
      {
        services: [web],
        images: [first, second, third].map((d) => ({ repository: "web", digest: d, tags: ["prod"] })),
        events: [
          push("web", first, "prod"),
          basicScan("web", first),
          push("web", second, "prod"),
          basicScan("web", second),
          push("web", third, "prod"),
          basicScan("web", third),
        ],
      },
      undefined,
      (sandbox) => {
        const identifiers = updateServiceCalls(sandbox).map(
          (call) =>
            (call.input as { SourceConfiguration: { ImageRepository: { ImageIdentifier: string } } })
              .SourceConfiguration.ImageRepository.ImageIdentifier,
        );
        expect(identifiers).toEqual([`${REGISTRY}/web@${first}`, `${REGISTRY}/web@${third}`]);
      },
    );
    expect(summary(effects)).toEqual([
      `deploy storefront ${first.slice(7, 13)}`,
      `wait storefront ${second.slice(7, 13)}`,
      `supersede storefront ${second.slice(7, 13)}`,
      `wait storefront ${third.slice(7, 13)}`,
      `outcome storefront ${first.slice(7, 13)}`,
      `deploy storefront ${third.slice(7, 13)}`,
      `outcome storefront ${third.slice(7, 13)}`,
    ]);
  });

  it("the enhanced-scanning (Inspector2) path gates the same way", async () => {
    const effects = await replay({
      services: [web],
      images: [{ repository: "web", digest: critical, tags: ["prod"] }],
      events: [push("web", critical, "prod"), enhancedScan("web", critical, { CRITICAL: 2 })],
    });
    expect(ofType(effects, "block")[0]).toMatchObject({ reasons: ["2 CRITICAL findings (allowed: 0)"] });
  });

  it("enhanced scanning with an exception reads the finding ids from Inspector and deploys", async () => {
    const effects = await replay(
      {
        services: [web],
        images: [
          {
            repository: "web",
            digest: critical,
            tags: ["prod"],
            findings: [{ id: "CVE-2026-0001", severity: "CRITICAL" }],
          },
        ],
        events: [push("web", critical, "prod"), enhancedScan("web", critical, { CRITICAL: 1 })],
      },
      exceptionConfig("2027-01-01T00:00:00Z"),
    );
    expect(ofType(effects, "deploy")).toHaveLength(1);
    expect(ofType(effects, "allow")[0]?.notes).toEqual([
      "CVE-2026-0001 (CRITICAL) excepted until 2027-01-01T00:00:00Z: not reachable from the handler",
    ]);
  });

  it("an untagged push and a push to a repository nobody runs are ignored", async () => {
    const effects = await replay({
      services: [web],
      events: [push("web", clean), push("unknown-repo", critical, "prod")],
    });
    expect(ofType(effects, "ignore").map((effect) => effect.reasons)).toEqual([
      ["untagged push"],
      [
        expect.stringMatching(
          /^no managed service runs \d{12}\.dkr\.ecr\.us-east-1\.amazonaws\.com\/unknown-repo$/,
        ),
      ],
    ]);
    expect(ofType(effects, "candidate")).toEqual([]);
  });

  it("a scan that never arrives is blocked by the reconciler after the policy's timeout (fail closed)", async () => {
    const effects = await replay(
      { services: [web], events: [push("web", clean, "prod")] },
      { policies: { default: { scanTimeoutMinutes: 15 } } },
    );
    const block = ofType(effects, "block")[0] as Effect & { at: string };
    expect(block.reasons).toEqual(["scan TIMED_OUT after 15 min: no scan verdict, failing closed"]);
    expect(new Date(block.at).getTime() - new Date("2026-11-02T09:00:00Z").getTime()).toBeGreaterThanOrEqual(
      15 * 60_000,
    );
  });

  it("a lost scan event is recovered by the reconciler asking ECR directly", async () => {
    const effects = await replay({
      services: [web],
      images: [{ repository: "web", digest: clean, tags: ["prod"] }],
      events: [push("web", clean, "prod")],
    });
    expect(summary(effects)).toEqual([
      `deploy storefront ${clean.slice(7, 13)}`,
      `outcome storefront ${clean.slice(7, 13)}`,
    ]);
  });

  it("auto-deploy on a managed service is reported as drift and switched off by the deploy", async () => {
    const effects = await replay(
      {
        services: [{ ...web, autoDeploy: true }],
        images: [{ repository: "web", digest: clean, tags: ["prod"] }],
        events: [push("web", clean, "prod"), basicScan("web", clean)],
      },
      undefined,
      (sandbox) => {
        const source = sandbox.appRunner.snapshot().services[0]?.service.SourceConfiguration as {
          AutoDeploymentsEnabled: boolean;
        };
        expect(source.AutoDeploymentsEnabled).toBe(false);
      },
    );
    expect(ofType(effects, "drift")).toHaveLength(1);
  });

  it("an unknown policy on a service means never deploy, plus a warning", async () => {
    const effects = await replay({
      services: [{ ...web, tags: { ...MANAGED, "gantry:policy": "no-such-policy" } }],
      images: [{ repository: "web", digest: clean, tags: ["prod"] }],
      events: [push("web", clean, "prod"), basicScan("web", clean)],
    });
    expect(ofType(effects, "deploy")).toEqual([]);
    expect(ofType(effects, "notify")[0]).toMatchObject({
      level: "warning",
      reasons: [expect.stringContaining('unknown policy "no-such-policy"')],
    });
  });

  it("a handler that died between claiming the slot and UpdateService does not wedge the service", async () => {
    const sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
    try {
      const serviceArn = sandbox.createService(web);
      sandbox.putImage({ repository: "web", digest: clean, tags: ["prod"] });
      sandbox.publish(push("web", clean, "prod"));
      await sandbox.clock.advance(0);
      // What a crashed image-scan handler leaves behind: a claim, and no operation.
      await sandbox.ledger.commit([
        {
          kind: "put-slot",
          slot: {
            serviceArn,
            activeOperationId: `claim:${clean}`,
            activeDigest: clean,
            claimedAt: sandbox.clock.now().toISOString(),
            version: 1,
          },
          expectedVersion: undefined,
        },
      ]);
      sandbox.publish(basicScan("web", clean));
      await sandbox.settle();
      // The claim names this very digest, so the scan's handler leaves it to its claimer; the
      // reconciler finds the claim stale and deploys it, once.
      expect(summary(sandbox.effects())).toEqual([
        `deploy storefront ${clean.slice(7, 13)}`,
        `outcome storefront ${clean.slice(7, 13)}`,
      ]);
      expect(updateServiceCalls(sandbox)).toHaveLength(1);
    } finally {
      await sandbox.stop();
    }
  });

  it("every decision is published to SNS with filterable attributes", async () => {
    await replay(criticalScenario, undefined, (sandbox) => {
      const block = sandbox.sns.messages.find((message) => message.attributes.kind?.value === "block");
      expect(block?.attributes).toMatchObject({
        level: { value: "warning" },
        service: { value: "storefront" },
      });
      expect(JSON.parse(block?.message ?? "{}")).toMatchObject({
        schemaVersion: 1,
        kind: "block",
        service: "storefront",
        digest: critical,
        releaseId: `storefront@${critical}`,
        reasons: ["1 CRITICAL finding (allowed: 0)"],
      });
    });
  });
});

/** The ledger's releases, without volatile fields (operation ids, times). */
async function ledgerView(sandbox: import("@gantry/local").Sandbox) {
  const arns = sandbox.appRunner.snapshot().services.map(({ service }) => service.ServiceArn as string);
  const releases = (await Promise.all(arns.map((arn) => sandbox.ledger.releasesByService(arn)))).flat();
  return releases.map(({ serviceName, digest: d, state, version, decision }) => ({
    serviceName,
    d,
    state,
    version,
    verdict: decision?.verdict,
  }));
}
