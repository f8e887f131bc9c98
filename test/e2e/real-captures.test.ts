/**
 * Replay of real captures: what a platform engineer pastes from EventBridge (or from AWS's docs)
 * runs through the sandbox as it is, in the events' own account, region and time.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Effect } from "@gantry/core";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { replayCommand } from "../../packages/cli/src/commands/replay.ts";
import {
  ACCOUNT,
  basicScan,
  capture,
  digest,
  ofType,
  push,
  REGION,
  replay,
  updateServiceCalls,
} from "./scenario-helpers.ts";

/** Scenario tags are taken as given (as on AWS): a service is Gantry's only with this tag. */
const MANAGED = { "gantry:managed": "true" };
/** AWS's documented samples, verbatim (see test/fixtures/aws-events/SOURCES.md). */
const sample = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${file}`, import.meta.url), "utf8"));
const PUSH_SAMPLE = sample("ecr-image-action-push-success.json"); // 123456789012, us-west-2, 2019-11-16
const SCAN_SAMPLE = sample("ecr-image-scan-basic-complete.json"); // 123456789012, us-east-1, 2019-10-29
const SAMPLE_DIGEST = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234";
const SAMPLE_REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com";

const seconds = (iso: string, from: string) => (Date.parse(iso) - Date.parse(from)) / 1000;
const outcomes = (effects: Effect[]) => ofType(effects, "outcome") as (Effect & { at: string })[];

describe("replay of real captures (sandbox, real handlers, DynamoDB Local, emulators)", () => {
  it("AWS's documented push, pasted verbatim, deploys in its account and region with a positive lead time", async () => {
    // AWS documents no us-west-2 scan for this push: this one is the push sample's envelope with
    // the scan sample's detail, two minutes later and clean (the documented scan has CRITICALs).
    const cleanScan = {
      ...SCAN_SAMPLE,
      id: "85fc3613-e913-7fc4-a80c-a3753e4aa9af",
      time: "2019-11-16T01:56:34Z",
      region: "us-west-2",
      resources: ["arn:aws:ecr:us-west-2:123456789012:repository/my-repository-name"],
      detail: { ...(SCAN_SAMPLE.detail as object), "finding-severity-counts": {}, "image-tags": ["latest"] },
    };
    let sandboxAt: { accountId: string; region: string } | undefined;
    const effects = (await replay(
      {
        services: [{ name: "my-app", image: `${SAMPLE_REGISTRY}/my-repository-name:latest`, tags: MANAGED }],
        events: [PUSH_SAMPLE, SCAN_SAMPLE, cleanScan],
      },
      undefined,
      (sandbox) => {
        sandboxAt = { accountId: sandbox.accountId, region: sandbox.region };
        const inputs = updateServiceCalls(sandbox).map(
          (call) => call.input as { SourceConfiguration: { ImageRepository: { ImageIdentifier: string } } },
        );
        expect(inputs.map((input) => input.SourceConfiguration.ImageRepository.ImageIdentifier)).toEqual([
          `${SAMPLE_REGISTRY}/my-repository-name@${SAMPLE_DIGEST}`,
        ]);
        // The pasted events kept their own envelope.
        const pasted = sandbox.timeline.flatMap((entry) =>
          entry.event?.source === "aws.ecr" ? [entry.event] : [],
        );
        expect(pasted.map((event) => [event.account, event.region, event.time])).toEqual([
          ["123456789012", "us-west-2", "2019-11-16T01:54:34Z"],
          ["123456789012", "us-east-1", "2019-10-29T02:36:48Z"],
          ["123456789012", "us-west-2", "2019-11-16T01:56:34Z"],
        ]);
      },
    )) as (Effect & { at: string })[];

    expect(sandboxAt).toEqual({ accountId: "123456789012", region: "us-west-2" });
    expect(ofType(effects, "candidate")).toHaveLength(1);
    // The documented scan is from us-east-1: EventBridge would never bring it to this bus.
    const ignored = ofType(effects, "ignore");
    expect(ignored).toHaveLength(1);
    expect(ignored[0]?.reasons?.[0]).toMatch(/region us-east-1.*us-west-2/);
    expect(ofType(effects, "deploy")).toHaveLength(1);
    const [live] = outcomes(effects);
    expect(live).toMatchObject({ outcome: "deployed", service: "my-app", digest: SAMPLE_DIGEST });
    // Push at 01:54:34, clean scan at 01:56:34, then App Runner's deployment: minutes, not years.
    expect(live?.leadTimeSeconds).toBeGreaterThan(120);
    expect(live?.leadTimeSeconds).toBeLessThan(3600);
    expect(live?.leadTimeSeconds).toBe(seconds(live?.at as string, "2019-11-16T01:54:34Z"));
  });

  it("events later than the sandbox's default start: the clock moves to them (the lead time was -1558560 s)", async () => {
    const image = digest("captured later");
    const later = "2026-11-20T10:00:00Z";
    const effects = (await replay({
      services: [{ name: "storefront", image: "web:prod", tags: MANAGED }],
      events: [
        { ...push("web", image, "prod"), time: later },
        { ...basicScan("web", image), time: "2026-11-20T10:02:00Z" },
      ],
    })) as (Effect & { at: string })[];
    const [live] = outcomes(effects);
    expect(live).toMatchObject({ outcome: "deployed" });
    expect(live?.leadTimeSeconds).toBeGreaterThan(120);
    expect(live?.leadTimeSeconds).toBe(seconds(live?.at as string, later));
    expect(ofType(effects, "candidate")[0]?.at).toBe("2026-11-20T10:00:00.000Z");
  });

  it("an event older than the clock is delivered late with its own time: the clock never moves back", async () => {
    const image = digest("scan first");
    const effects = (await replay(
      {
        services: [{ name: "storefront", image: "web:prod", tags: MANAGED }],
        events: [
          { ...push("web", image, "prod"), time: "2026-11-02T09:10:00Z" },
          { ...basicScan("web", image), time: "2026-11-02T09:05:00Z" },
        ],
      },
      undefined,
      (sandbox) => {
        const scan = sandbox.timeline.find((entry) => entry.event?.["detail-type"] === "ECR Image Scan");
        expect(scan?.event?.time).toBe("2026-11-02T09:05:00Z");
        expect(scan?.at.toISOString()).toBe("2026-11-02T09:10:00.000Z");
        const times = sandbox.timeline.map((entry) => entry.at.getTime());
        expect(times).toEqual([...times].sort((a, b) => a - b));
      },
    )) as (Effect & { at: string })[];
    expect(ofType(effects, "allow")[0]?.at).toBe("2026-11-02T09:10:00.000Z");
    expect(outcomes(effects)[0]?.leadTimeSeconds).toBeGreaterThan(0);
  });

  it("an event from another account or region is not delivered, and the ignore says why", async () => {
    const image = digest("elsewhere");
    const effects = await replay(
      {
        services: [{ name: "storefront", image: "web:prod", tags: MANAGED }],
        events: [
          { ...push("web", image, "prod"), account: "999999999999" },
          { ...push("web", image, "prod"), region: "eu-west-1" },
        ],
      },
      undefined,
      (sandbox) => expect(sandbox.bus.deliveries.filter((d) => d.rule === "ecr-image-push")).toEqual([]),
    );
    expect(ofType(effects, "candidate")).toEqual([]);
    expect(ofType(effects, "ignore").map((effect) => effect.reasons?.[0])).toEqual([
      expect.stringMatching(new RegExp(`account 999999999999 .*${ACCOUNT}`)),
      expect.stringMatching(new RegExp(`region eu-west-1 .*${REGION}`)),
    ]);
  });

  it("an event no Gantry rule matches is ignored with a reason, never in silence", async () => {
    const effects = await replay({
      services: [{ name: "storefront", image: "web:prod", tags: MANAGED }],
      events: [
        {
          ...push("web", digest("deleted"), "prod"),
          detail: { ...push("web", digest("deleted"), "prod").detail, "action-type": "DELETE" },
        },
      ],
    });
    expect(ofType(effects, "ignore")).toEqual([
      expect.objectContaining({
        reasons: [expect.stringMatching(/no Gantry rule matches .*ECR Image Action/)],
      }),
    ]);
  });

  it("a service without gantry:managed=true is left alone, like on AWS", async () => {
    const image = digest("unmanaged");
    const effects = await replay(
      {
        services: [{ name: "storefront", image: "web:prod", tags: { "gantry:policy": "default" } }],
        events: [push("web", image, "prod"), basicScan("web", image)],
      },
      undefined,
      (sandbox) => expect(updateServiceCalls(sandbox)).toEqual([]),
    );
    expect(ofType(effects, "candidate")).toEqual([]);
    expect(ofType(effects, "deploy")).toEqual([]);
    expect(ofType(effects, "ignore")[0]?.reasons).toEqual([
      expect.stringMatching(/^no managed service runs \d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/web$/),
    ]);
  });

  it("a create-failed fault on op CreateService creates the service through the API and rebuilds it", async () => {
    const effects = await replay({
      services: [
        {
          name: "billing",
          image: "billing:prod",
          tags: MANAGED,
          faults: [{ op: "CreateService", outcome: "create-failed" }],
        },
      ],
    });
    expect(ofType(effects, "rebuild").map((effect) => effect.service)).toEqual(["billing"]);
    expect(outcomes(effects)[0]).toMatchObject({ service: "billing", outcome: "recovered" });
  });

  it("op names: UpdateService and UPDATE_SERVICE inject the same fault", async () => {
    const image = digest("bad build");
    const stories = [];
    for (const op of ["UpdateService", "UPDATE_SERVICE"]) {
      const effects = await replay({
        services: [
          {
            name: "storefront",
            image: "web:prod",
            tags: MANAGED,
            faults: [{ op, outcome: "fail-rollback" }],
          },
        ],
        images: [{ repository: "web", digest: image, tags: ["prod"] }],
        events: [push("web", image, "prod"), basicScan("web", image)],
      });
      stories.push(
        effects.filter((e) => ["deploy", "rollback", "quarantine"].includes(e.type)).map((e) => e.type),
      );
    }
    expect(stories).toEqual([
      ["deploy", "rollback", "quarantine"],
      ["deploy", "rollback", "quarantine"],
    ]);
  });
});

describe("gantry replay of a pasted capture", () => {
  beforeAll(() => {
    process.env.GANTRY_SANDBOX_DYNAMODB_ENDPOINT = inject("dynamodbEndpoint");
  });

  it("examples/aws-samples.scenario.json deploys in 2019's us-west-2, and the timeline says why the scan was dropped", async () => {
    const text = capture();
    expect(await replayCommand(["examples/aws-samples.scenario.json"], text.io)).toBe(0);
    expect(text.out.find((line) => line.includes("ECR Image Scan") && line.includes("us-east-1"))).toMatch(
      /\(123456789012 us-east-1: not this sandbox's bus\)$/,
    );
    expect(text.out.find((line) => line.includes(" ignore "))).toMatch(
      /event from another account or region: not delivered — region us-east-1 is not the sandbox's/,
    );

    const json = capture();
    expect(await replayCommand(["examples/aws-samples.scenario.json", "--json"], json.io)).toBe(0);
    const effects = json.out.map((line) => JSON.parse(line));
    const live = effects.find((effect) => effect.type === "outcome");
    expect(live).toMatchObject({ outcome: "deployed", service: "my-app", digest: SAMPLE_DIGEST });
    expect(live.at).toMatch(/^2019-11-16T/);
    expect(live.leadTimeSeconds).toBe(seconds(live.at, "2019-11-16T01:54:34Z"));
  });

  it("an event older than the clock shows as delivered late", async () => {
    const image = digest("late scan");
    const dir = mkdtempSync(join(tmpdir(), "gantry-replay-"));
    const file = join(dir, "late.scenario.json");
    writeFileSync(
      file,
      JSON.stringify({
        services: [{ name: "storefront", image: "web:prod", tags: MANAGED }],
        events: [
          { ...push("web", image, "prod"), time: "2026-11-02T09:10:00Z" },
          { ...basicScan("web", image), time: "2026-11-02T09:05:00Z" },
        ],
      }),
    );
    const { io, out } = capture();
    expect(await replayCommand([file], io)).toBe(0);
    expect(out.find((line) => line.includes("ECR Image Scan"))).toMatch(
      /^09:10:00 .*→ ecr-basic-scan \(event time 2026-11-02T09:05:00Z: delivered late\)$/,
    );
  });
});
