import { describe, expect, it } from "vitest";
import {
  continueRecreate,
  type Effect,
  type GantryConfigInput,
  onImagePushed,
  type Release,
  reconcile,
  recoverCreateFailed,
  serviceHistory,
} from "../../src/index.ts";
import {
  type CoreHarness,
  coreHarness,
  digestOf,
  interleave,
  pushed,
  REGISTRY,
} from "../support/core-harness.ts";

const MINUTE = 60_000;
const NAME = "storefront";

type Setup = CoreHarness & { serviceArn: string };

/** A service whose creation failed, and whose rebuild App Runner refuses: only a recreate is left. */
function failedService(
  input: {
    config?: GantryConfigInput;
    environment?: Record<string, string>;
    customDomains?: string[];
    privateIngress?: boolean;
    createProblems?: string[];
  } = {},
): Setup {
  const harness = coreHarness(input.config);
  const { serviceArn } = harness.appRunner.addService({
    name: NAME,
    image: `${REGISTRY}/web:prod`,
    status: "CREATE_FAILED",
    ...(input.environment ? { environment: input.environment } : {}),
    ...(input.customDomains ? { customDomains: input.customDomains } : {}),
    ...(input.privateIngress ? { privateIngress: true } : {}),
    ...(input.createProblems ? { createProblems: input.createProblems } : {}),
  });
  harness.appRunner.failNext(
    "rebuildService",
    Object.assign(new Error("ConfigurationSource cannot be changed from REPOSITORY to API"), {
      name: "InvalidRequestException",
      $fault: "client",
      $metadata: {},
    }),
  );
  return { ...harness, serviceArn };
}

async function startRecovery(h: Setup): Promise<Effect[]> {
  return recoverCreateFailed(h.deps, await h.appRunner.describeService(h.serviceArn));
}

const called = (h: CoreHarness, method: string) => h.appRunner.calls.filter((call) => call.method === method);

function liveArn(h: CoreHarness): string {
  const live = [...h.appRunner.services.values()].find(
    (service) => service.serviceName === NAME && service.status !== "DELETED",
  );
  if (!live) throw new Error("no live service");
  return live.serviceArn;
}

describe("recreate: never delete what cannot be created again", () => {
  it("an invalid or incomplete CreateService input is refused before DeleteService, and left for a person", async () => {
    const h = failedService({
      createProblems: [
        "CreateService input: SourceConfiguration.ImageRepository.ImageRepositoryType is required",
      ],
    });

    const effects = await startRecovery(h);

    expect(called(h, "deleteService")).toEqual([]);
    expect(effects).toEqual([
      expect.objectContaining({
        type: "giveup",
        level: "failure",
        message: expect.stringMatching(/^recreate refused/),
        reasons: expect.arrayContaining([expect.stringMatching(/ImageRepositoryType is required/)]),
      }),
    ]);
    expect((await h.ledger.getServiceRecord(NAME))?.recovery?.phase).toBe("gave-up");
    // Nothing more happens on later runs: the service stays for a person.
    h.clock.advance(10 * MINUTE);
    expect(await reconcile(h.deps)).toEqual([]);
    expect(called(h, "deleteService")).toEqual([]);
  });

  it.each([
    {
      loses: "custom domains",
      input: { customDomains: ["shop.example.com"] },
      flag: "allowWithCustomDomains",
    },
    { loses: "a private endpoint", input: { privateIngress: true }, flag: "allowWithPrivateIngress" },
  ])(
    "a service with $loses is not recreated unless its policy sets recreate.$flag",
    async ({ input, flag }) => {
      const refused = failedService(input);
      const effects = await startRecovery(refused);
      expect(called(refused, "deleteService")).toEqual([]);
      expect(effects[0]).toMatchObject({
        type: "giveup",
        message: expect.stringMatching(/^recreate refused/),
      });
      expect(effects[0]?.reasons).toEqual(
        expect.arrayContaining([expect.stringContaining(`recreate.${flag}`)]),
      );

      const allowed = failedService({
        ...input,
        config: { policies: { default: { recreate: { [flag]: true } } } },
      });
      const proceeding = await startRecovery(allowed);
      expect(proceeding[0]).toMatchObject({ type: "recreate", phase: "deleting" });
      expect(called(allowed, "deleteService")).toHaveLength(1);
    },
  );

  it("environment values that no longer match the recorded hashes refuse the delete", async () => {
    const h = failedService({ environment: { API_TOKEN: "s3cr3t-v1" } });
    // The spec recorded while the service ran with other values.
    const spec = await h.appRunner.captureSpec(h.serviceArn);
    await h.ledger.putServiceRecord(
      { serviceName: NAME, serviceArn: h.serviceArn, lastGoodSpec: spec, version: 1 },
      undefined,
    );
    const service = h.appRunner.services.get(h.serviceArn);
    if (service) service.environment = { API_TOKEN: "s3cr3t-v2" };

    const effects = await startRecovery(h);

    expect(called(h, "deleteService")).toEqual([]);
    expect(effects[0]?.reasons).toEqual(expect.arrayContaining([expect.stringContaining("API_TOKEN")]));
    expect(JSON.stringify(effects)).not.toContain("s3cr3t");
  });
});

describe("recreate: the reconciler drives delete → create", () => {
  it("creates the service again when the DELETED event is lost, from the ledger alone", async () => {
    const h = failedService({ environment: { API_TOKEN: "s3cr3t" } });
    const started = await startRecovery(h);
    expect(started).toEqual([expect.objectContaining({ type: "recreate", phase: "deleting" })]);
    h.clock.advance(2 * MINUTE);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED"); // deleted; its DELETED event never arrives

    const effects = await reconcile(h.deps);

    const created = effects.find((effect) => effect.type === "recreate" && effect.phase === "creating");
    expect(created).toMatchObject({ oldServiceArn: h.serviceArn, newServiceArn: liveArn(h) });
    expect(called(h, "createService")).toHaveLength(1);
    // Values came from the deleted service (App Runner still describes it), never from the ledger.
    expect(h.appRunner.inspect(liveArn(h)).environment).toEqual({ API_TOKEN: "s3cr3t" });
    const record = await h.ledger.getServiceRecord(NAME);
    expect(record).toMatchObject({ serviceArn: liveArn(h), previousArns: [h.serviceArn] });
    expect(JSON.stringify(record)).not.toContain("s3cr3t");

    // The new service comes up; the next run completes the recovery.
    h.appRunner.finish(liveArn(h), "SUCCEEDED");
    const completed = await reconcile(h.deps);
    expect(completed).toEqual([expect.objectContaining({ type: "outcome", outcome: "recovered" })]);
  });

  it("a deleted service App Runner no longer describes counts as deleted", async () => {
    const h = failedService();
    await startRecovery(h);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    h.appRunner.forget(h.serviceArn);

    await reconcile(h.deps);

    expect(called(h, "createService")).toHaveLength(1);
    expect((await h.ledger.getServiceRecord(NAME))?.recovery).toMatchObject({ phase: "creating" });
  });

  it("refuses to create a service whose environment values can no longer be read", async () => {
    const h = failedService({ environment: { API_TOKEN: "s3cr3t" } });
    await startRecovery(h);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    h.appRunner.forget(h.serviceArn);

    const effects = await reconcile(h.deps);

    expect(effects).toEqual([
      expect.objectContaining({
        type: "giveup",
        level: "failure",
        reasons: [expect.stringContaining("API_TOKEN")],
        message: expect.stringMatching(/could not be created again/),
      }),
    ]);
    expect(h.appRunner.calls.filter((call) => call.method === "createService")).toHaveLength(1);
    expect([...h.appRunner.services.values()].filter((service) => service.serviceName === NAME)).toEqual([]);
  });

  it.each([1, 2, 3, 4, 5, 6])(
    "a duplicated DELETED event and the reconciler racing create the service once (seed %i)",
    async (seed) => {
      const h = failedService();
      await startRecovery(h);
      h.appRunner.finish(h.serviceArn, "SUCCEEDED");
      interleave(h, seed);

      const outcomes = await Promise.all([
        continueRecreate(h.deps, NAME, h.serviceArn),
        continueRecreate(h.deps, NAME, h.serviceArn),
        reconcile(h.deps),
      ]);

      expect(called(h, "createService")).toHaveLength(1);
      expect(outcomes.flat().filter((effect) => effect.type === "recreate")).toHaveLength(1);
      expect((await h.ledger.getServiceRecord(NAME))?.serviceArn).toBe(liveArn(h));
    },
  );

  it("a delete decided but never started (DeleteService failed transiently) is started by the reconciler", async () => {
    const h = failedService();
    h.appRunner.failNext(
      "deleteService",
      Object.assign(new Error("Rate exceeded"), {
        name: "ThrottlingException",
        $fault: "client",
        $metadata: {},
      }),
    );
    await expect(startRecovery(h)).rejects.toThrow(/Rate exceeded/);
    expect((await h.ledger.getServiceRecord(NAME))?.recovery).toMatchObject({
      phase: "deleting",
      oldServiceArn: h.serviceArn,
    });

    await reconcile(h.deps);
    expect(h.appRunner.runningOperation(h.serviceArn)?.type).toBe("DELETE_SERVICE");
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await reconcile(h.deps);

    expect(called(h, "createService")).toHaveLength(1);
  });

  it("a CreateService claimed by a handler that stopped is finished by adopting the service it made", async () => {
    const h = failedService();
    await startRecovery(h);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    // The handler claims the create and calls CreateService, then stops before recording the ARN.
    h.ledger.beforeCommit = undefined;
    const record = await h.ledger.getServiceRecord(NAME);
    if (!record?.recovery) throw new Error("no recovery");
    await h.ledger.putServiceRecord(
      {
        ...record,
        recovery: { ...record.recovery, phase: "creating", createClaimedAt: h.clock.now().toISOString() },
        version: record.version + 1,
      },
      record.version,
    );
    const made = await h.appRunner.createService(record.recovery.spec!, { environmentFrom: h.serviceArn });

    expect(await reconcile(h.deps)).toEqual([]); // the claim is fresh: its handler may still record it
    h.clock.advance(10 * MINUTE);
    const effects = await reconcile(h.deps);

    expect(effects.find((effect) => effect.type === "recreate")).toMatchObject({
      newServiceArn: made.serviceArn,
    });
    expect(called(h, "createService")).toHaveLength(1);
    expect(await h.ledger.getServiceRecord(NAME)).toMatchObject({
      serviceArn: made.serviceArn,
      previousArns: [h.serviceArn],
    });
  });
});

describe("recreate: history and quarantines follow the service to its new ARN", () => {
  async function quarantine(h: Setup, digest: string): Promise<void> {
    const release: Release = {
      serviceArn: h.serviceArn,
      serviceName: NAME,
      digest,
      registry: REGISTRY,
      repository: "web",
      tags: ["prod"],
      policyName: "default",
      policyVersion: "0",
      state: "rolled-back",
      pushedAt: h.clock.now().toISOString(),
      quarantine: { since: h.clock.now().toISOString(), reason: "the new version crashed on start" },
      version: 1,
    };
    await h.ledger.commit([{ kind: "put-release", release }]);
  }

  async function recreated(h: Setup): Promise<string> {
    await startRecovery(h);
    h.appRunner.finish(h.serviceArn, "SUCCEEDED");
    await reconcile(h.deps);
    return liveArn(h);
  }

  it("a digest quarantined on the old ARN is still refused for the new service", async () => {
    const h = failedService();
    const bad = digestOf("bad");
    await quarantine(h, bad);
    const newArn = await recreated(h);
    h.appRunner.finish(newArn, "SUCCEEDED");

    const effects = await onImagePushed(
      h.deps,
      pushed({ repository: "web", digest: bad, tag: "prod", time: h.clock.now() }),
    );

    expect(effects.find((effect) => effect.serviceArn === newArn)).toMatchObject({
      type: "ignore",
      reasons: [expect.stringMatching(/quarantined for storefront/)],
    });
    expect(called(h, "deployImage")).toEqual([]);
  });

  it("history reads across the old and the new ARN", async () => {
    const h = failedService();
    const bad = digestOf("bad");
    await quarantine(h, bad);
    const newArn = await recreated(h);

    const history = await serviceHistory(h.deps, { serviceName: NAME, serviceArn: newArn });

    expect(history.serviceArns).toEqual([newArn, h.serviceArn]);
    expect(history.releases.map((release) => release.digest)).toEqual([bad]);
    expect(
      history.journal.map((entry) => `${entry.type}@${entry.serviceArn === newArn ? "new" : "old"}`),
    ).toEqual(expect.arrayContaining(["recreate@new", "recreate@old", "quarantine@new"]));
  });
});
