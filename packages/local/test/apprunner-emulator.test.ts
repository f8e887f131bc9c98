import {
  AppRunnerClient,
  type AppRunnerClientConfig,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DescribeServiceCommand,
  InternalServiceErrorException,
  InvalidRequestException,
  InvalidStateException,
  ListOperationsCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  PauseServiceCommand,
  ResourceNotFoundException,
  ResumeServiceCommand,
  StartDeploymentCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-apprunner";
import type { EventBridgeEvent } from "@gantry/events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppRunnerEmulator, DEFAULT_APP_RUNNER_DURATIONS as DURATIONS } from "../src/apprunner-emulator.ts";
import {
  OPERATION_STATUS_CHANGE,
  OPERATION_STATUS_CODES,
  SERVICE_STATUS_CHANGE,
} from "../src/apprunner-events.ts";
import { AwsEmulatorServer } from "../src/aws-emulator-server.ts";
import { callViolations } from "../src/aws-model.ts";
import { VirtualClock } from "../src/virtual-clock.ts";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const REGISTRY = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const IMAGE_V1 = `${REGISTRY}/shop/web@sha256:${"1".repeat(64)}`;
const IMAGE_V2 = `${REGISTRY}/shop/web@sha256:${"2".repeat(64)}`;
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AppRunnerECRAccessRole`;
const START = new Date("2026-01-01T00:00:00Z");
const SERVICE_ARN = new RegExp(
  `^arn:aws:apprunner:${REGION}:${ACCOUNT}:service/([A-Za-z0-9_-]+)/([0-9a-f]{32})$`,
);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// The v3 spelling of AWS's sample events (monitor-ev.md @2797322, FACTS §1).
const ENVELOPE_KEYS = [
  "account",
  "detail",
  "detail-type",
  "id",
  "region",
  "resources",
  "source",
  "time",
  "version",
];
const OPERATION_DETAIL_KEYS = ["message", "operationStatus", "serviceId", "serviceName", "severity"];
const STATUS_DETAIL_KEYS = [
  "currentServiceStatus",
  "message",
  "previousServiceStatus",
  "serviceId",
  "serviceName",
  "severity",
];

interface Harness {
  clock: VirtualClock;
  emulator: AppRunnerEmulator;
  server: AwsEmulatorServer;
  endpoint: string;
  client: AppRunnerClient;
  events: EventBridgeEvent[];
}

let h: Harness;
const extraClients: AppRunnerClient[] = [];

beforeEach(async () => {
  const clock = new VirtualClock(START);
  const events: EventBridgeEvent[] = [];
  const emulator = new AppRunnerEmulator({
    clock,
    accountId: ACCOUNT,
    region: REGION,
    emit: (event) => {
      events.push(event);
    },
  });
  const server = new AwsEmulatorServer({ apprunner: emulator });
  const { endpoint } = await server.start();
  h = { clock, emulator, server, endpoint, client: newClient(endpoint, { maxAttempts: 1 }), events };
});

afterEach(async () => {
  for (const client of [h.client, ...extraClients.splice(0)]) client.destroy();
  await h.server.stop();
  h.emulator.dispose();
  // Every request and response of the test, checked against AWS's model.
  expect(callViolations(h.emulator.model, h.emulator.calls)).toEqual([]);
  expect(eventViolations(h.events, h.emulator.model.shape("ServiceStatus").enum ?? [])).toEqual([]);
});

function newClient(endpoint: string, config: Partial<AppRunnerClientConfig> = {}): AppRunnerClient {
  return new AppRunnerClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-checked" },
    ...config,
  });
}

function serviceInput(name: string, image = IMAGE_V1): CreateServiceCommandInput {
  return {
    ServiceName: name,
    SourceConfiguration: {
      ImageRepository: {
        ImageIdentifier: image,
        ImageRepositoryType: "ECR",
        ImageConfiguration: { Port: "3000", RuntimeEnvironmentVariables: { STAGE: "prod" } },
      },
      AutoDeploymentsEnabled: false,
      AuthenticationConfiguration: { AccessRoleArn: ACCESS_ROLE },
    },
    InstanceConfiguration: { Cpu: "1 vCPU", Memory: "2 GB" },
    HealthCheckConfiguration: { Protocol: "HTTP", Path: "/health" },
    Tags: [
      { Key: "gantry:managed", Value: "true" },
      { Key: "gantry:policy", Value: "strict" },
    ],
  };
}

async function createRunning(name: string, image = IMAGE_V1): Promise<string> {
  const { Service } = await h.client.send(new CreateServiceCommand(serviceInput(name, image)));
  await h.clock.advance(DURATIONS.createService);
  return Service?.ServiceArn ?? "";
}

async function describeService(arn: string) {
  const { Service } = await h.client.send(new DescribeServiceCommand({ ServiceArn: arn }));
  if (!Service) throw new Error("DescribeService returned no Service");
  return Service;
}

async function operations(arn: string) {
  const { OperationSummaryList } = await h.client.send(new ListOperationsCommand({ ServiceArn: arn }));
  return OperationSummaryList ?? [];
}

/** Updates only the image, sending back the rest of the SourceConfiguration (DESIGN: deploy by digest). */
async function updateImage(arn: string, image: string) {
  const current = await describeService(arn);
  const source = current.SourceConfiguration;
  return h.client.send(
    new UpdateServiceCommand({
      ServiceArn: arn,
      SourceConfiguration: {
        ...source,
        ImageRepository: { ...source?.ImageRepository, ImageIdentifier: image, ImageRepositoryType: "ECR" },
      },
    }),
  );
}

function image(service: { SourceConfiguration?: { ImageRepository?: { ImageIdentifier?: string } } }) {
  return service.SourceConfiguration?.ImageRepository?.ImageIdentifier;
}

/** Events in a compact form: the operation code, or `previous>current` for status changes. */
function timeline(events = h.events): string[] {
  return events.map((event) =>
    event["detail-type"] === OPERATION_STATUS_CHANGE
      ? String(event.detail.operationStatus)
      : `${event.detail.previousServiceStatus}>${event.detail.currentServiceStatus}`,
  );
}

function eventViolations(events: EventBridgeEvent[], serviceStatuses: string[]): string[] {
  const codes = Object.values(OPERATION_STATUS_CODES).flatMap((outcomes) => Object.values(outcomes));
  const ids = new Set(events.map((event) => event.id));
  const found = ids.size === events.length ? [] : ["event ids are not unique"];
  for (const event of events) {
    const problems: string[] = [];
    const detailKeys =
      event["detail-type"] === OPERATION_STATUS_CHANGE ? OPERATION_DETAIL_KEYS : STATUS_DETAIL_KEYS;
    if (Object.keys(event).sort().join() !== ENVELOPE_KEYS.join()) problems.push("envelope keys");
    if (Object.keys(event.detail).sort().join() !== detailKeys.join()) problems.push("detail keys");
    if (event.version !== "0" || event.source !== "aws.apprunner") problems.push("version/source");
    if (event.account !== ACCOUNT || event.region !== REGION) problems.push("account/region");
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(event.time)) problems.push(`time ${event.time}`);
    if (!UUID.test(event.id)) problems.push("id");
    const arn = SERVICE_ARN.exec(event.resources[0] ?? "");
    if (
      event.resources.length !== 1 ||
      arn?.[1] !== event.detail.serviceName ||
      arn?.[2] !== event.detail.serviceId
    ) {
      problems.push("resources");
    }
    if (event["detail-type"] === OPERATION_STATUS_CHANGE) {
      if (!codes.includes(String(event.detail.operationStatus))) problems.push("operationStatus");
    } else if (event["detail-type"] === SERVICE_STATUS_CHANGE) {
      const { previousServiceStatus: previous, currentServiceStatus: current, message } = event.detail;
      if (![previous, current].every((status) => serviceStatuses.includes(String(status))))
        problems.push("statuses");
      if (message !== `Service status is set to ${current}.`) problems.push("message");
    } else problems.push("detail-type");
    if (problems.length > 0) found.push(`${event.id}: ${problems.join(", ")}`);
  }
  return found;
}

describe("App Runner emulator through the real AppRunnerClient", () => {
  it("creates a service asynchronously: OPERATION_IN_PROGRESS, then RUNNING on the clock", async () => {
    const created = await h.client.send(new CreateServiceCommand(serviceInput("shop-web")));
    const service = created.Service;
    expect(created.OperationId).toMatch(UUID);
    expect(service?.Status).toBe("OPERATION_IN_PROGRESS");
    expect(service?.ServiceArn).toMatch(SERVICE_ARN);
    expect(service?.ServiceArn).toBe(
      `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/shop-web/${service?.ServiceId}`,
    );
    expect(service?.ServiceUrl).toMatch(/^[0-9a-f]{10}\.us-east-1\.awsapprunner\.com$/);
    expect(service?.CreatedAt).toEqual(START);
    // Defaults filled in as App Runner describes them.
    expect(service?.InstanceConfiguration).toEqual({ Cpu: "1024", Memory: "2048" });
    expect(service?.HealthCheckConfiguration).toMatchObject({
      Protocol: "HTTP",
      Path: "/health",
      Interval: 5,
    });
    expect(service?.AutoScalingConfigurationSummary).toMatchObject({
      AutoScalingConfigurationName: "DefaultConfiguration",
      AutoScalingConfigurationRevision: 1,
      IsDefault: true,
    });
    expect(service?.NetworkConfiguration?.EgressConfiguration?.EgressType).toBe("DEFAULT");
    const arn = service?.ServiceArn ?? "";

    expect(await operations(arn)).toEqual([
      expect.objectContaining({
        Id: created.OperationId,
        Type: "CREATE_SERVICE",
        Status: "PENDING",
        TargetArn: arn,
      }),
    ]);
    await h.clock.advance(DURATIONS.pending);
    expect((await operations(arn))[0]?.Status).toBe("IN_PROGRESS");
    expect(h.events).toEqual([]);

    await h.clock.advance(DURATIONS.createService - DURATIONS.pending);
    const [operation] = await operations(arn);
    expect(operation?.Status).toBe("SUCCEEDED");
    expect(operation?.EndedAt).toEqual(new Date(START.getTime() + DURATIONS.createService));
    expect((await describeService(arn)).Status).toBe("RUNNING");
    expect(timeline()).toEqual(["CreateServiceCompletedSuccessfully", "OPERATION_IN_PROGRESS>RUNNING"]);
    expect(h.events[0]?.time).toBe("2026-01-01T00:05:00Z");
    expect(h.events[0]?.resources).toEqual([arn]);
  });

  it("updates the image: the response shows the new configuration, the service runs it afterwards", async () => {
    const arn = await createRunning("shop-web");
    h.events.length = 0;

    const updated = await updateImage(arn, IMAGE_V2);
    expect(updated.OperationId).toMatch(UUID);
    expect(updated.Service?.Status).toBe("OPERATION_IN_PROGRESS");
    expect(image(updated.Service ?? {})).toBe(IMAGE_V2);
    await h.clock.advance(DURATIONS.updateService);

    const service = await describeService(arn);
    expect(service.Status).toBe("RUNNING");
    expect(image(service)).toBe(IMAGE_V2);
    expect(service.SourceConfiguration?.ImageRepository?.ImageConfiguration?.Port).toBe("3000");
    expect((await operations(arn))[0]).toMatchObject({
      Id: updated.OperationId,
      Type: "UPDATE_SERVICE",
      Status: "SUCCEEDED",
    });
    expect(timeline()).toEqual([
      "RUNNING>OPERATION_IN_PROGRESS",
      "UpdateServiceCompletedSuccessfully",
      "OPERATION_IN_PROGRESS>RUNNING",
    ]);
  });

  it("fail-rollback: the update fails, App Runner rolls back to the previous image and stays RUNNING", async () => {
    const arn = await createRunning("shop-web");
    h.events.length = 0;
    h.emulator.injectFault({ service: "shop-web", op: "UPDATE_SERVICE", outcome: "fail-rollback" });

    const { OperationId } = await updateImage(arn, IMAGE_V2);
    await h.clock.advance(DURATIONS.updateService);
    expect((await operations(arn))[0]?.Status).toBe("ROLLBACK_IN_PROGRESS");
    expect((await describeService(arn)).Status).toBe("OPERATION_IN_PROGRESS");

    await h.clock.advance(DURATIONS.rollback);
    expect((await operations(arn))[0]).toMatchObject({ Id: OperationId, Status: "ROLLBACK_SUCCEEDED" });
    const service = await describeService(arn);
    expect(service.Status).toBe("RUNNING");
    expect(image(service)).toBe(IMAGE_V1);
    expect(timeline()).toEqual([
      "RUNNING>OPERATION_IN_PROGRESS",
      "UpdateServiceFailed",
      "OPERATION_IN_PROGRESS>RUNNING",
    ]);
    expect(h.events[1]?.detail.severity).toBe("ERROR");
    // AWS's events carry neither the operation nor the image (FACTS §0.7).
    expect(JSON.stringify(h.events)).not.toContain(OperationId);
    expect(JSON.stringify(h.events)).not.toContain("sha256");
  });

  it("fail-rollback can end FAILED, as AWS's own deploy action observed (FACTS §0.4)", async () => {
    const arn = await createRunning("shop-web");
    h.events.length = 0;
    h.emulator.injectFault({ op: "StartDeployment", outcome: "fail-rollback", rollbackStatus: "FAILED" });

    await h.client.send(new StartDeploymentCommand({ ServiceArn: arn }));
    await h.clock.runUntilIdle();

    expect((await operations(arn))[0]).toMatchObject({ Type: "START_DEPLOYMENT", Status: "FAILED" });
    expect((await describeService(arn)).Status).toBe("RUNNING");
    expect(timeline()).toEqual([
      "RUNNING>OPERATION_IN_PROGRESS",
      "DeploymentFailed",
      "OPERATION_IN_PROGRESS>RUNNING",
    ]);
  });

  it("fail: the operation fails without a rollback verdict; the service keeps its previous image", async () => {
    const arn = await createRunning("shop-web");
    h.emulator.injectFault({ service: arn, op: "UpdateService", outcome: "fail" });

    await updateImage(arn, IMAGE_V2);
    await h.clock.runUntilIdle();

    expect((await operations(arn))[0]).toMatchObject({ Type: "UPDATE_SERVICE", Status: "FAILED" });
    const service = await describeService(arn);
    expect(service.Status).toBe("RUNNING");
    expect(image(service)).toBe(IMAGE_V1);
    expect(timeline().slice(-2)).toEqual(["UpdateServiceFailed", "OPERATION_IN_PROGRESS>RUNNING"]);
  });

  it("create-failed ends in CREATE_FAILED, and UpdateService rebuilds the service (FACTS §0.2)", async () => {
    h.emulator.injectFault({ service: "shop-web", op: "CREATE_SERVICE", outcome: "create-failed" });
    const { Service } = await h.client.send(new CreateServiceCommand(serviceInput("shop-web")));
    const arn = Service?.ServiceArn ?? "";
    await h.clock.runUntilIdle();

    expect((await describeService(arn)).Status).toBe("CREATE_FAILED");
    expect((await operations(arn))[0]).toMatchObject({ Type: "CREATE_SERVICE", Status: "FAILED" });
    expect(timeline()).toEqual(["CreateServiceFailed", "OPERATION_IN_PROGRESS>CREATE_FAILED"]);
    await expect(h.client.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );

    await updateImage(arn, IMAGE_V2);
    await h.clock.runUntilIdle();
    const service = await describeService(arn);
    expect(service.Status).toBe("RUNNING");
    expect(image(service)).toBe(IMAGE_V2);
    expect(timeline().slice(2)).toEqual([
      "CREATE_FAILED>OPERATION_IN_PROGRESS",
      "UpdateServiceCompletedSuccessfully",
      "OPERATION_IN_PROGRESS>RUNNING",
    ]);
  });

  it("refuses a second operation while one runs: InvalidStateException, or InvalidRequestException for StartDeployment", async () => {
    const arn = await createRunning("shop-web");
    await updateImage(arn, IMAGE_V2);

    await expect(updateImage(arn, IMAGE_V1)).rejects.toBeInstanceOf(InvalidStateException);
    await expect(h.client.send(new PauseServiceCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(
      InvalidStateException,
    );
    await expect(h.client.send(new DeleteServiceCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(
      InvalidStateException,
    );
    const deployment = h.client.send(new StartDeploymentCommand({ ServiceArn: arn }));
    await expect(deployment).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(deployment).rejects.toThrow(/operation \(UPDATE_SERVICE\) is in progress/);
    const refused = await updateImage(arn, IMAGE_V1).catch((error: InvalidStateException) => error);
    expect(refused.$metadata.httpStatusCode).toBe(400);

    await h.clock.runUntilIdle();
    expect((await h.client.send(new StartDeploymentCommand({ ServiceArn: arn }))).OperationId).toMatch(UUID);
    expect((await operations(arn)).map((operation) => operation.Type)).toEqual([
      "START_DEPLOYMENT",
      "UPDATE_SERVICE",
      "CREATE_SERVICE",
    ]);
  });

  it("answers a throttle fault with ThrottlingException (HTTP 400) and a 5xx fault with InternalServiceErrorException (HTTP 500)", async () => {
    const arn = await createRunning("shop-web");
    h.emulator.injectFault({ op: "DescribeService", outcome: "throttle" });
    h.emulator.injectFault({ op: "DescribeService", outcome: "error-5xx" });

    await expect(describeService(arn)).rejects.toMatchObject({
      name: "ThrottlingException",
      message: "Rate exceeded",
      $metadata: { httpStatusCode: 400 },
    });
    const failed = describeService(arn);
    await expect(failed).rejects.toBeInstanceOf(InternalServiceErrorException);
    await expect(failed).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect((await describeService(arn)).Status).toBe("RUNNING");
  });

  it("lets the SDK retry throttling and 5xx answers: it classifies both as retryable", async () => {
    const arn = await createRunning("shop-web");
    const retrying = newClient(h.endpoint, { maxAttempts: 3 });
    extraClients.push(retrying);
    h.emulator.injectFault({ service: "shop-web", op: "DescribeService", outcome: "throttle" });
    h.emulator.injectFault({ service: "shop-web", op: "DescribeService", outcome: "error-5xx" });

    const { Service } = await retrying.send(new DescribeServiceCommand({ ServiceArn: arn }));
    expect(Service?.Status).toBe("RUNNING");
    const answers = h.emulator.calls
      .filter((call) => call.op === "DescribeService")
      .map((call) => call.error?.code ?? "ok");
    expect(answers).toEqual(["ThrottlingException", "InternalServiceErrorException", "ok"]);
  });

  it("latency: the API answers after a real delay", async () => {
    const arn = await createRunning("shop-web");
    h.emulator.injectFault({ op: "DescribeService", outcome: "latency", delayMs: 150 });
    const started = performance.now();
    expect((await describeService(arn)).Status).toBe("RUNNING");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("no-event: the operation happens but App Runner's events are lost (FACTS §0.5)", async () => {
    const arn = await createRunning("shop-web");
    h.events.length = 0;
    h.emulator.injectFault({ service: "shop-web", op: "UPDATE_SERVICE", outcome: "no-event" });
    await updateImage(arn, IMAGE_V2);
    await h.clock.runUntilIdle();
    expect(image(await describeService(arn))).toBe(IMAGE_V2);
    expect(h.events).toEqual([]);
  });

  it("scopes faults to a service and counts them down", async () => {
    const web = await createRunning("shop-web");
    const api = await createRunning("shop-api");
    h.emulator.injectFault({ service: "shop-api", op: "DescribeService", outcome: "throttle", times: 2 });

    expect((await describeService(web)).Status).toBe("RUNNING");
    await expect(describeService(api)).rejects.toMatchObject({ name: "ThrottlingException" });
    await expect(describeService(api)).rejects.toMatchObject({ name: "ThrottlingException" });
    expect((await describeService(api)).Status).toBe("RUNNING");
    expect(h.emulator.snapshot().faults).toEqual([]);
  });

  it("refuses faults that cannot happen", () => {
    expect(() => h.emulator.injectFault({ op: "PAUSE_SERVICE", outcome: "fail-rollback" })).toThrow(
      /fail-rollback/,
    );
    expect(() => h.emulator.injectFault({ op: "UpdateService", outcome: "create-failed" })).toThrow(
      /create-failed/,
    );
    expect(() => h.emulator.injectFault({ op: "DescribeService", outcome: "fail" })).toThrow(/asynchronous/);
    expect(() => h.emulator.injectFault({ op: "DescribeServices", outcome: "throttle" })).toThrow(/unknown/);
    expect(() => h.emulator.injectFault({ op: "DescribeService", outcome: "latency" })).toThrow(/delayMs/);
    expect(() => h.emulator.injectFault({ op: "UPDATE_SERVICE", outcome: "fail", times: 0 })).toThrow(
      /times/,
    );
  });

  it("pauses, refuses deployments while paused, resumes and deletes", async () => {
    const arn = await createRunning("shop-web");
    h.events.length = 0;

    const paused = await h.client.send(new PauseServiceCommand({ ServiceArn: arn }));
    expect(paused.OperationId).toMatch(UUID);
    await h.clock.runUntilIdle();
    expect((await describeService(arn)).Status).toBe("PAUSED");
    await expect(updateImage(arn, IMAGE_V2)).rejects.toBeInstanceOf(InvalidStateException);
    await expect(h.client.send(new StartDeploymentCommand({ ServiceArn: arn }))).rejects.toThrow(
      /status is PAUSED/,
    );
    await expect(h.client.send(new PauseServiceCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(
      InvalidStateException,
    );

    await h.client.send(new ResumeServiceCommand({ ServiceArn: arn }));
    await h.clock.runUntilIdle();
    expect((await describeService(arn)).Status).toBe("RUNNING");

    const deleted = await h.client.send(new DeleteServiceCommand({ ServiceArn: arn }));
    expect(deleted.Service?.Status).toBe("OPERATION_IN_PROGRESS");
    await h.clock.runUntilIdle();
    const gone = await describeService(arn);
    expect(gone.Status).toBe("DELETED");
    expect(gone.DeletedAt).toEqual(h.clock.now());
    expect((await h.client.send(new ListServicesCommand({}))).ServiceSummaryList).toEqual([]);
    await expect(
      h.client.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: "k", Value: "v" }] })),
    ).rejects.toBeInstanceOf(InvalidStateException);
    await expect(h.client.send(new DeleteServiceCommand({ ServiceArn: arn }))).rejects.toBeInstanceOf(
      InvalidStateException,
    );

    expect(timeline()).toEqual([
      "RUNNING>OPERATION_IN_PROGRESS",
      "PauseServiceCompletedSuccessfully",
      "OPERATION_IN_PROGRESS>PAUSED",
      "PAUSED>OPERATION_IN_PROGRESS",
      "ResumeServiceCompletedSuccessfully",
      "OPERATION_IN_PROGRESS>RUNNING",
      "RUNNING>OPERATION_IN_PROGRESS",
      "DeleteServiceCompletedSuccessfully",
      "OPERATION_IN_PROGRESS>DELETED",
    ]);
    // The name is free again once the service is deleted.
    expect(await createRunning("shop-web")).not.toBe(arn);
  });

  it("a failed delete leaves DELETE_FAILED, and the delete can be retried", async () => {
    const arn = await createRunning("shop-web");
    h.emulator.injectFault({ op: "DELETE_SERVICE", outcome: "fail" });
    await h.client.send(new DeleteServiceCommand({ ServiceArn: arn }));
    await h.clock.runUntilIdle();
    expect((await describeService(arn)).Status).toBe("DELETE_FAILED");
    expect(timeline().slice(-2)).toEqual(["DeleteServiceFailed", "OPERATION_IN_PROGRESS>DELETE_FAILED"]);

    await h.client.send(new DeleteServiceCommand({ ServiceArn: arn }));
    await h.clock.runUntilIdle();
    expect((await describeService(arn)).Status).toBe("DELETED");
  });

  it("lists operations newest first, in pages of MaxResults", async () => {
    const arn = await createRunning("shop-web");
    for (const next of [IMAGE_V2, IMAGE_V1, IMAGE_V2]) {
      await updateImage(arn, next);
      await h.clock.runUntilIdle();
    }
    await h.client.send(new StartDeploymentCommand({ ServiceArn: arn }));

    const all = await operations(arn);
    expect(all.map((operation) => `${operation.Type}:${operation.Status}`)).toEqual([
      "START_DEPLOYMENT:PENDING",
      "UPDATE_SERVICE:SUCCEEDED",
      "UPDATE_SERVICE:SUCCEEDED",
      "UPDATE_SERVICE:SUCCEEDED",
      "CREATE_SERVICE:SUCCEEDED",
    ]);
    const started = all.map((operation) => operation.StartedAt?.getTime() ?? 0);
    expect(started).toEqual([...started].sort((a, b) => b - a));

    const first = await h.client.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 2 }));
    const second = await h.client.send(
      new ListOperationsCommand({ ServiceArn: arn, MaxResults: 2, NextToken: first.NextToken }),
    );
    const third = await h.client.send(
      new ListOperationsCommand({ ServiceArn: arn, MaxResults: 2, NextToken: second.NextToken }),
    );
    const paged = [first, second, third].flatMap((page) => page.OperationSummaryList ?? []);
    expect(paged.map((operation) => operation.Id)).toEqual(all.map((operation) => operation.Id));
    expect(third.NextToken).toBeUndefined();

    const tooMany = h.client.send(new ListOperationsCommand({ ServiceArn: arn, MaxResults: 21 }));
    await expect(tooMany).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(tooMany).rejects.toThrow(/MaxResults must be at most 20/);
    await expect(
      h.client.send(new ListOperationsCommand({ ServiceArn: arn, NextToken: "bm90LWEtdG9rZW4" })),
    ).rejects.toThrow(/NextToken is not valid/);
  });

  it("lists running services in pages", async () => {
    for (const name of ["svc-a", "svc-b", "svc-c"]) await createRunning(name);
    const first = await h.client.send(new ListServicesCommand({ MaxResults: 2 }));
    const second = await h.client.send(
      new ListServicesCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );
    const names = [first, second]
      .flatMap((page) => page.ServiceSummaryList ?? [])
      .map((summary) => summary.ServiceName);
    expect(names).toEqual(["svc-a", "svc-b", "svc-c"]);
    expect(second.NextToken).toBeUndefined();
    expect(second.ServiceSummaryList?.[0]).toMatchObject({
      Status: "RUNNING",
      ServiceUrl: expect.any(String),
    });
  });

  it("tags: from CreateService, TagResource overwrites and adds, UntagResource removes", async () => {
    const arn = await createRunning("shop-web");
    const tags = async () => (await h.client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags;
    expect(await tags()).toEqual([
      { Key: "gantry:managed", Value: "true" },
      { Key: "gantry:policy", Value: "strict" },
    ]);
    await h.client.send(
      new TagResourceCommand({
        ResourceArn: arn,
        Tags: [
          { Key: "gantry:policy", Value: "audit" },
          { Key: "team", Value: "shop" },
        ],
      }),
    );
    await h.client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["gantry:managed"] }));
    expect(await tags()).toEqual([
      { Key: "gantry:policy", Value: "audit" },
      { Key: "team", Value: "shop" },
    ]);
    await expect(
      h.client.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: "aws:owner", Value: "x" }] })),
    ).rejects.toThrow(/Tags\[0\]\.Key must match the pattern/);
  });

  it("refuses bad input with InvalidRequestException naming the field", async () => {
    const badName = h.client.send(new CreateServiceCommand(serviceInput("shop web!")));
    await expect(badName).rejects.toBeInstanceOf(InvalidRequestException);
    await expect(badName).rejects.toThrow(/ServiceName must match the pattern/);

    const input = serviceInput("shop-web");
    input.HealthCheckConfiguration = { Protocol: "GRPC" as "HTTP" };
    await expect(h.client.send(new CreateServiceCommand(input))).rejects.toThrow(
      /HealthCheckConfiguration\.Protocol must be one of TCP, HTTP/,
    );

    const noRole = serviceInput("shop-web");
    delete noRole.SourceConfiguration?.AuthenticationConfiguration;
    await expect(h.client.send(new CreateServiceCommand(noRole))).rejects.toThrow(
      /AccessRoleArn is required/,
    );

    await createRunning("shop-web");
    await expect(h.client.send(new CreateServiceCommand(serviceInput("shop-web")))).rejects.toThrow(
      /already exists/,
    );
    expect(h.emulator.snapshot().services).toHaveLength(1);
  });

  it("answers ResourceNotFoundException for an unknown service", async () => {
    const unknown = `arn:aws:apprunner:${REGION}:${ACCOUNT}:service/nope/${"0".repeat(32)}`;
    await expect(describeService(unknown)).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(h.client.send(new StartDeploymentCommand({ ServiceArn: unknown }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it("turns AutoDeploymentsEnabled on by default for a same-account ECR image, as the model documents", async () => {
    const input = serviceInput("shop-web");
    delete input.SourceConfiguration?.AutoDeploymentsEnabled;
    const { Service } = await h.client.send(new CreateServiceCommand(input));
    expect(Service?.SourceConfiguration?.AutoDeploymentsEnabled).toBe(true);
  });

  it("seedService creates a RUNNING service instantly, without events; snapshot shows the state", async () => {
    const seeded = h.emulator.seedService(serviceInput("legacy"));
    const arn = String(seeded.ServiceArn);
    expect((await describeService(arn)).Status).toBe("RUNNING");
    expect((await operations(arn)).map((operation) => operation.Status)).toEqual(["SUCCEEDED"]);
    expect(h.events).toEqual([]);

    await updateImage(arn, IMAGE_V2);
    const [snapshot] = h.emulator.snapshot().services;
    expect(snapshot?.service.Status).toBe("OPERATION_IN_PROGRESS");
    expect(snapshot?.activeOperation).toMatchObject({ type: "UPDATE_SERVICE", status: "PENDING" });
    expect(snapshot?.operations).toHaveLength(2);
    expect(() => h.emulator.seedService({ ServiceName: "x", SourceConfiguration: {} })).toThrow(
      /ServiceName/,
    );
  });
});

describe("AWS JSON protocol details of the server", () => {
  async function post(target: string | undefined, body: string) {
    const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0" };
    if (target) headers["x-amz-target"] = target;
    const response = await fetch(h.endpoint, { method: "POST", headers, body });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it("answers errors with __type and message, and unknown operations with UnknownOperationException", async () => {
    expect(await post("AppRunner.ListConnections", "{}")).toEqual({
      status: 400,
      type: "application/x-amz-json-1.0",
      body: { __type: "UnknownOperationException", message: expect.stringContaining("ListConnections") },
    });
    expect((await post("Nope.DescribeService", "{}")).body.__type).toBe("UnknownOperationException");
    expect((await post(undefined, "{}")).body.__type).toBe("UnknownOperationException");
    expect((await post("AppRunner.ListServices", "{not json")).body.__type).toBe("SerializationException");
    expect(await post("AppRunner.ListServices", "")).toMatchObject({
      status: 200,
      body: { ServiceSummaryList: [] },
    });
    // ListConnections exists in the model but not in the emulator: the model check must notice.
    expect(callViolations(h.emulator.model, h.emulator.calls)).toEqual([
      "call 0 ListConnections: error UnknownOperationException is not modeled for ListConnections",
    ]);
    h.emulator.calls.splice(0, 1);
  });

  it("closes keep-alive sockets on stop, leaving no TCP handle behind", async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((name) => name.startsWith("TCP"));
    await h.client.send(new ListServicesCommand({}));
    expect(tcpHandles()).toContain("TCPSocketWrap"); // the SDK keeps the connection alive
    await h.server.stop();
    // libuv releases closed handles on the next loop turn, hence the polling.
    await vi.waitFor(() => expect(tcpHandles()).toEqual([]));
    await expect(h.client.send(new ListServicesCommand({}))).rejects.toThrow(/ECONNREFUSED/);
  });

  it("stops at once even while a request is still being answered", async () => {
    h.emulator.injectFault({ op: "ListServices", outcome: "latency", delayMs: 400 });
    const pending = h.client.send(new ListServicesCommand({}));
    await vi.waitFor(() => expect(h.emulator.calls).toHaveLength(1));
    const started = performance.now();
    await h.server.stop();
    expect(performance.now() - started).toBeLessThan(200);
    await expect(pending).rejects.toThrow();
  });
});
