import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { backoffCeilingSeconds, type Effect } from "@gantry/core";
import { callViolations, Sandbox } from "@gantry/local";
import { describe, expect, inject, it } from "vitest";
import { historyCommand } from "../../packages/cli/src/commands/ledger.ts";
import {
  basicScan,
  capture,
  digest,
  ofType,
  pointCliAtStage,
  push,
  replay,
  updateServiceCalls,
} from "./scenario-helpers.ts";

const good = digest("web good");
const bad = digest("web bad");
/** Scenario tags are taken as given (as on AWS): a service is Gantry's only with this tag. */
const MANAGED = { "gantry:managed": "true" };
const web = { name: "storefront", image: "web:prod", tags: MANAGED };
const images = [
  { repository: "web", digest: good, tags: ["prod"] },
  { repository: "web", digest: bad, tags: ["prod"] },
];
const deploy = (d: string) => [push("web", d, "prod"), basicScan("web", d)];
const types = (effects: Effect[]) =>
  effects
    .filter((effect) => !["candidate", "allow", "ignore", "paused", "slack"].includes(effect.type))
    .map((effect) => effect.type);

describe("self-healing App Runner (sandbox, real handlers, DynamoDB Local, emulator faults)", () => {
  it("a failed deploy that App Runner rolls back is recorded with its cause, and the digest is quarantined", async () => {
    const effects = await replay(
      {
        services: [{ ...web, faults: [{ op: "UPDATE_SERVICE", outcome: "fail-rollback" }] }],
        images,
        events: [
          ...deploy(bad),
          { advanceSeconds: 1800 },
          // Pushed again later: a new event (new id), same digest.
          { ...push("web", bad, "prod"), id: "re-push" },
          { ...basicScan("web", bad), id: "re-scan" },
        ],
      },
      undefined,
      async (sandbox) => {
        const arn = sandbox.appRunner.snapshot().services[0]?.service.ServiceArn as string;
        const release = await sandbox.ledger.getRelease(arn, bad);
        expect(release).toMatchObject({
          state: "rolled-back",
          failure: { cause: "health-check" },
          quarantine: { reason: "the new version failed its health check" },
        });
        expect(updateServiceCalls(sandbox)).toHaveLength(1);
      },
    );
    expect(types(effects)).toEqual(["deploy", "rollback", "quarantine"]);
    expect(ofType(effects, "rollback")[0]).toMatchObject({
      cause: "health-check",
      evidence: [expect.stringContaining("Health check failed")],
    });
    // The re-push is recognised and not deployed.
    expect(ofType(effects, "ignore").at(-1)?.reasons?.[0]).toMatch(/quarantined for storefront/);
  });

  it("a transient failure is retried with growing, jittered delays and then succeeds", async () => {
    let schedule: { attempt: number; delaySeconds: number }[] = [];
    const effects = await replay(
      {
        services: [{ ...web, faults: [{ op: "UPDATE_SERVICE", outcome: "fail", times: 2 }] }],
        images,
        events: deploy(good),
      },
      { policies: { default: { retry: { maxAttempts: 4, baseDelaySeconds: 60, maxDelaySeconds: 600 } } } },
      (sandbox) => {
        schedule = sandbox.scheduler.scheduled.map(({ job, at }) => ({
          attempt: job.attempt,
          delaySeconds: Math.round((at.getTime() - sandbox.clock.now().getTime()) / 1000),
        }));
      },
    );
    expect(types(effects)).toEqual(["deploy", "retry", "deploy", "retry", "deploy", "outcome"]);
    const retries = ofType(effects, "retry") as (Effect & { attempt: number; delaySeconds: number })[];
    expect(retries.map((retry) => retry.attempt)).toEqual([2, 3]);
    retries.forEach((retry, index) => {
      expect(retry.delaySeconds).toBeGreaterThanOrEqual(1);
      expect(retry.delaySeconds).toBeLessThanOrEqual(
        backoffCeilingSeconds({ baseDelaySeconds: 60, maxDelaySeconds: 600 }, index + 1),
      );
    });
    expect(schedule.map((entry) => entry.attempt)).toEqual([2, 3]);
    expect(ofType(effects, "outcome")[0]).toMatchObject({ outcome: "deployed" });
  });

  it("a failure that keeps happening stops after the policy's attempts with a give-up notice", async () => {
    const effects = await replay(
      {
        services: [{ ...web, faults: [{ op: "UPDATE_SERVICE", outcome: "fail", times: 10 }] }],
        images,
        events: deploy(good),
      },
      { policies: { default: { retry: { maxAttempts: 3, baseDelaySeconds: 30, maxDelaySeconds: 300 } } } },
      (sandbox) => expect(updateServiceCalls(sandbox)).toHaveLength(3),
    );
    expect(types(effects)).toEqual(["deploy", "retry", "deploy", "retry", "deploy", "giveup"]);
    expect(ofType(effects, "giveup")[0]).toMatchObject({
      level: "failure",
      reasons: [expect.stringMatching(/3 of 3 attempts failed/), expect.anything(), expect.anything()],
    });
  });

  it("a first start that cannot reach its database yet is retried, not quarantined", async () => {
    const effects = await replay({
      services: [
        {
          ...web,
          faults: [
            {
              op: "UPDATE_SERVICE",
              outcome: "fail-rollback",
              logs: ["Error: connect ECONNREFUSED 10.0.4.2:5432", "health check failed"],
            },
          ],
        },
      ],
      images,
      events: deploy(good),
    });
    expect(types(effects)).toEqual(["deploy", "retry", "deploy", "outcome"]);
    expect(ofType(effects, "retry")[0]?.reasons).toContain(
      "probable cause: the app could not reach a dependency yet (database or upstream)",
    );
  });

  it("throttled UpdateService calls become recorded, durable retries", async () => {
    const effects = await replay({
      services: [{ ...web, faults: [{ op: "UpdateService", outcome: "throttle", times: 1 }] }],
      images,
      events: deploy(good),
    });
    expect(types(effects)).toEqual(["retry", "deploy", "outcome"]);
    expect(ofType(effects, "retry")[0]?.reasons?.[0]).toMatch(/ThrottlingException/);
  });

  it("throttled UpdateService calls do not use up the deployment attempts", async () => {
    // Two throttles, then a deployment that fails twice: with a budget of 3 deployments, the third
    // deploys. Counted together (5 attempts) it would have given up after the first failure.
    const effects = await replay(
      {
        services: [
          {
            ...web,
            faults: [
              { op: "UpdateService", outcome: "throttle", times: 2 },
              { op: "UPDATE_SERVICE", outcome: "fail", times: 2 },
            ],
          },
        ],
        images,
        events: deploy(good),
      },
      { policies: { default: { retry: { maxAttempts: 3, baseDelaySeconds: 30, maxDelaySeconds: 300 } } } },
    );
    expect(types(effects)).toEqual([
      "retry",
      "retry",
      "deploy",
      "retry",
      "deploy",
      "retry",
      "deploy",
      "outcome",
    ]);
    const retries = ofType(effects, "retry").map((effect) => effect.message);
    expect(retries[0]).toMatch(/^UpdateService again in .+ \(API error 1 of 10\)$/);
    expect(retries[1]).toMatch(/\(API error 2 of 10\)$/);
    expect(retries[2]).toMatch(/^attempt 2 of 3 in /);
    expect(retries[3]).toMatch(/^attempt 3 of 3 in /);
    expect(ofType(effects, "outcome")[0]).toMatchObject({ outcome: "deployed" });
  });

  it("UpdateService refused past the API error budget gives up with that reason", async () => {
    const effects = await replay(
      {
        services: [{ ...web, faults: [{ op: "UpdateService", outcome: "error-5xx", times: 10 }] }],
        images,
        events: deploy(good),
      },
      {
        policies: {
          default: { retry: { maxAttempts: 3, baseDelaySeconds: 30, maxDelaySeconds: 300, maxApiErrors: 4 } },
        },
      },
      (sandbox) => {
        expect(sandbox.appRunner.calls.filter((call) => call.op === "UpdateService")).toHaveLength(4);
        expect(updateServiceCalls(sandbox)).toHaveLength(0);
      },
    );
    expect(types(effects)).toEqual(["retry", "retry", "retry", "giveup"]);
    expect(ofType(effects, "giveup")[0]).toMatchObject({
      level: "failure",
      reasons: [expect.stringMatching(/^UpdateService refused 4 times \(budget 4\)$/), expect.anything()],
      message: "gave up: App Runner kept refusing UpdateService; the previous version keeps running",
    });
  });

  it("a CREATE_FAILED service is rebuilt with UpdateService", async () => {
    const effects = await replay({
      services: [{ ...web, create: true, faults: [{ op: "CREATE_SERVICE", outcome: "create-failed" }] }],
    });
    expect(types(effects)).toEqual(["rebuild", "outcome"]);
    expect(ofType(effects, "outcome")[0]).toMatchObject({
      outcome: "recovered",
      message: "recovered from CREATE_FAILED by rebuild",
    });
  });

  it("when the rebuild is refused, the service is recreated from its spec and the new ARN is recorded", async () => {
    let oldArn = "";
    const effects = await replay(
      {
        services: [
          {
            ...web,
            create: true,
            faults: [
              { op: "CREATE_SERVICE", outcome: "create-failed" },
              { op: "UpdateService", outcome: "refuse" },
            ],
          },
        ],
      },
      undefined,
      async (sandbox) => {
        const services = sandbox.appRunner.snapshot().services;
        expect(services.map(({ service }) => service.Status).sort()).toEqual(["DELETED", "RUNNING"]);
        const [deleted, running] = ["DELETED", "RUNNING"].map(
          (status) => services.find(({ service }) => service.Status === status)!,
        );
        oldArn = deleted!.service.ServiceArn as string;
        // Same spec: source, health check and tags came back.
        expect(running!.service.SourceConfiguration).toEqual(deleted!.service.SourceConfiguration);
        expect(running!.service.HealthCheckConfiguration).toEqual(deleted!.service.HealthCheckConfiguration);
        expect(running!.tags).toEqual(deleted!.tags);
        const record = await sandbox.ledger.getServiceRecord("storefront");
        expect(record?.recovery).toMatchObject({
          phase: "recovered",
          oldServiceArn: oldArn,
          newServiceArn: running!.service.ServiceArn,
        });
      },
    );
    expect(types(effects)).toEqual(["recreate", "recreate", "outcome"]);
    expect(ofType(effects, "recreate")[1]).toMatchObject({
      oldServiceArn: oldArn,
      newServiceUrl: expect.stringMatching(/awsapprunner\.com$/),
    });
  });

  it("when the DELETED event is lost, the reconciler creates the service again (DescribeService sees it deleted)", async () => {
    let oldArn = "";
    const effects = await replay(
      {
        services: [
          {
            ...web,
            create: true,
            faults: [
              { op: "CREATE_SERVICE", outcome: "create-failed" },
              { op: "UpdateService", outcome: "refuse" },
              { op: "DELETE_SERVICE", outcome: "no-event" },
            ],
          },
        ],
      },
      undefined,
      async (sandbox) => {
        const services = sandbox.appRunner.snapshot().services;
        expect(services.map(({ service }) => service.Status).sort()).toEqual(["DELETED", "RUNNING"]);
        oldArn = services.find(({ service }) => service.Status === "DELETED")?.service.ServiceArn as string;
        const newArn = services.find(({ service }) => service.Status === "RUNNING")?.service.ServiceArn;
        expect(await sandbox.ledger.getServiceRecord("storefront")).toMatchObject({
          serviceArn: newArn,
          previousArns: [oldArn],
          recovery: { phase: "recovered", newServiceArn: newArn },
        });
        // Every request Gantry sent (DescribeCustomDomains, CreateService, …) and every answer fit the model.
        expect(callViolations(sandbox.appRunner.model, sandbox.appRunner.calls)).toEqual([]);
        // `gantry history` shows the service across both ARNs.
        const restore = await pointCliAtStage(sandbox);
        try {
          const history = capture();
          expect(await historyCommand(["storefront", "--json"], history.io)).toBe(0);
          const shown = JSON.parse(history.out.join("\n"));
          expect(shown).toMatchObject({ serviceArn: newArn, previousArns: [oldArn] });
          expect(
            shown.journal
              .filter((entry: { type: string }) => entry.type === "recreate")
              .map((entry: { serviceArn: string }) => entry.serviceArn)
              .sort(),
          ).toEqual([newArn, oldArn].sort());
        } finally {
          await restore();
        }
      },
    );
    expect(types(effects)).toEqual(["recreate", "recreate", "outcome"]);
    expect(ofType(effects, "recreate")[1]).toMatchObject({ phase: "creating", oldServiceArn: oldArn });
  });

  it("environment values never reach the ledger, and a recreated service gets them back from App Runner", async () => {
    const secret = "sk_live_51NotARealKeyButSecretAllTheSame";
    const sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint"), slack: false });
    const dynamodb = new DynamoDBClient({
      endpoint: inject("dynamodbEndpoint"),
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      sandbox.appRunner.injectFault({ op: "CREATE_SERVICE", outcome: "create-failed" });
      sandbox.appRunner.injectFault({ op: "UpdateService", outcome: "refuse" });
      await sandbox.appRunner.handle("CreateService", {
        ServiceName: "storefront",
        SourceConfiguration: {
          ImageRepository: {
            ImageIdentifier: `${sandbox.registry}/web:prod`,
            ImageRepositoryType: "ECR",
            ImageConfiguration: { Port: "8080", RuntimeEnvironmentVariables: { STRIPE_KEY: secret } },
          },
          AutoDeploymentsEnabled: false,
          AuthenticationConfiguration: {
            AccessRoleArn: `arn:aws:iam::${sandbox.accountId}:role/apprunner-ecr-access`,
          },
        },
        Tags: [{ Key: "gantry:managed", Value: "true" }],
      });
      await sandbox.settle();

      expect(types(sandbox.effects())).toEqual(["recreate", "recreate", "outcome"]);
      const running = sandbox.appRunner
        .snapshot()
        .services.find(({ service }) => service.Status === "RUNNING");
      expect(running?.service).toMatchObject({
        SourceConfiguration: {
          ImageRepository: { ImageConfiguration: { RuntimeEnvironmentVariables: { STRIPE_KEY: secret } } },
        },
      });
      const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: sandbox.ledger.tableName }));
      expect(JSON.stringify(Items)).toContain("STRIPE_KEY");
      expect(JSON.stringify(Items)).not.toContain(secret);
    } finally {
      dynamodb.destroy();
      await sandbox.stop();
    }
  });

  it("a service a person paused is not resumed, even with autoResume", async () => {
    const effects = await replay(
      {
        services: [{ ...web, tags: { ...MANAGED, "gantry:policy": "resumable" } }],
        events: [{ pause: { service: "storefront", by: "person" } }, { advanceSeconds: 3600 }],
      },
      {
        automationPrincipals: ["arn:aws:sts::*:assumed-role/nightly-scaler/*"],
        policies: { resumable: { autoResume: true } },
      },
      (sandbox) => expect(sandbox.appRunner.snapshot().services[0]?.service.Status).toBe("PAUSED"),
    );
    expect(ofType(effects, "resume")).toEqual([]);
    expect(ofType(effects, "paused")).toHaveLength(1);
  });

  it("a service paused by automation is resumed where the policy says autoResume", async () => {
    const effects = await replay(
      {
        services: [{ ...web, tags: { ...MANAGED, "gantry:policy": "resumable" } }],
        events: [{ pause: { service: "storefront", by: "automation" } }],
      },
      {
        automationPrincipals: ["arn:aws:sts::*:assumed-role/nightly-scaler/*"],
        policies: { resumable: { autoResume: true } },
      },
      (sandbox) => expect(sandbox.appRunner.snapshot().services[0]?.service.Status).toBe("RUNNING"),
    );
    expect(ofType(effects, "resume")[0]).toMatchObject({
      reasons: [expect.stringMatching(/nightly-scaler/)],
    });
  });

  it("an operation that runs far too long is reported once as stuck, then followed to its end", async () => {
    const sandbox = await Sandbox.start({
      dynamodbEndpoint: inject("dynamodbEndpoint"),
      appRunnerDurations: { updateService: 2 * 60 * 60_000 },
      slack: false,
    });
    try {
      sandbox.createService(web);
      sandbox.putImage(images[0]!);
      for (const event of deploy(good)) sandbox.publish(event);
      await sandbox.settle();
      const effects = sandbox.effects();
      expect(types(effects)).toEqual(["deploy", "stuck", "outcome"]);
      expect(ofType(effects, "stuck")[0]).toMatchObject({ ageMinutes: expect.any(Number), level: "warning" });
      expect(
        (ofType(effects, "stuck")[0] as Effect & { ageMinutes: number }).ageMinutes,
      ).toBeGreaterThanOrEqual(45);
    } finally {
      await sandbox.stop();
    }
  });

  it("a lost App Runner event (no-event) is repaired by the reconciler", async () => {
    const effects = await replay({
      services: [{ ...web, faults: [{ op: "UPDATE_SERVICE", outcome: "no-event" }] }],
      images,
      events: deploy(good),
    });
    expect(types(effects)).toEqual(["deploy", "outcome"]);
  });

  it("every event delivered twice and out of order leaves the same ledger", async () => {
    const base = {
      services: [{ ...web, faults: [{ op: "UPDATE_SERVICE" as const, outcome: "fail-rollback" as const }] }],
      images,
    };
    const once = deploy(bad);
    const twice = [once[1], once[0], once[1], once[0]].map((event, index) => ({
      ...event,
      id: `${event!.id}-${index}`,
    }));
    const view = async (sandbox: Sandbox) => {
      const arn = sandbox.appRunner.snapshot().services[0]?.service.ServiceArn as string;
      return (await sandbox.ledger.releasesByService(arn)).map(
        ({ digest: d, state, quarantine, failure }) => ({ d, state, q: !!quarantine, cause: failure?.cause }),
      );
    };
    let expected: unknown;
    await replay({ ...base, events: once }, undefined, async (sandbox) => {
      expected = await view(sandbox);
    });
    await replay({ ...base, events: twice }, undefined, async (sandbox) => {
      expect(await view(sandbox)).toEqual(expected);
      expect(updateServiceCalls(sandbox)).toHaveLength(1);
    });
  });
});
