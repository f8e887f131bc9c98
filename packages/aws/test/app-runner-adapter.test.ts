import {
  AppRunnerClient,
  CreateServiceCommand,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  InvalidStateException,
  ListOperationsCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  type Service,
  UpdateServiceCommand,
} from "@aws-sdk/client-apprunner";
import { loadAppRunnerModel } from "@gantry/local";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { AppRunnerAdapter, deployImageInput } from "../src/index.ts";

const arn = "arn:aws:apprunner:us-east-1:111122223333:service/storefront/0123456789abcdef0123456789abcdef";
const registry = "111122223333.dkr.ecr.us-east-1.amazonaws.com";
const digest = `sha256:${"a".repeat(64)}`;
const appRunner = mockClient(AppRunnerClient);
const clock = { now: () => new Date("2026-11-02T09:00:00Z") };

/** A DescribeService answer as App Runner gives it: every setting filled in. */
const service: Service = {
  ServiceName: "storefront",
  ServiceId: "0123456789abcdef0123456789abcdef",
  ServiceArn: arn,
  ServiceUrl: "abc.us-east-1.awsapprunner.com",
  CreatedAt: new Date("2026-01-01T00:00:00Z"),
  UpdatedAt: new Date("2026-01-01T00:00:00Z"),
  Status: "RUNNING",
  SourceConfiguration: {
    ImageRepository: {
      ImageIdentifier: `${registry}/web:prod`,
      ImageRepositoryType: "ECR",
      ImageConfiguration: {
        Port: "3000",
        RuntimeEnvironmentVariables: { LOG_LEVEL: "info" },
        StartCommand: "node server.js",
      },
    },
    AutoDeploymentsEnabled: true,
    AuthenticationConfiguration: { AccessRoleArn: "arn:aws:iam::111122223333:role/apprunner-ecr-access" },
  },
  InstanceConfiguration: { Cpu: "1024", Memory: "2048" },
  AutoScalingConfigurationSummary: {},
  NetworkConfiguration: { EgressConfiguration: { EgressType: "DEFAULT" } },
};

beforeEach(() => appRunner.reset());

describe("AppRunnerAdapter", () => {
  it("deploys by digest: the full source configuration, only the identifier changed, auto-deploy off", async () => {
    appRunner.on(DescribeServiceCommand).resolves({ Service: service });
    appRunner
      .on(UpdateServiceCommand)
      .resolves({ OperationId: "0f0e0d0c-0b0a-4909-8807-060504030201", Service: service });
    const adapter = new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1" }), clock);

    await expect(adapter.deployImage(arn, `${registry}/web@${digest}`)).resolves.toEqual({
      operationId: "0f0e0d0c-0b0a-4909-8807-060504030201",
    });

    const source = service.SourceConfiguration!;
    const expected = {
      ServiceArn: arn,
      SourceConfiguration: {
        ...source,
        ImageRepository: { ...source.ImageRepository!, ImageIdentifier: `${registry}/web@${digest}` },
        AutoDeploymentsEnabled: false,
      },
    };
    expect(appRunner).toHaveReceivedCommandExactlyOnceWith(UpdateServiceCommand, expected);
    expect(loadAppRunnerModel().validateInput("UpdateService", expected)).toEqual([]);
  });

  it("refuses to deploy an image to a source-code service", () => {
    const codeService = {
      ...service,
      SourceConfiguration: {
        CodeRepository: {
          RepositoryUrl: "https://github.com/x/y",
          SourceCodeVersion: { Type: "BRANCH" as const, Value: "main" },
        },
      },
    };
    expect(() => deployImageInput(codeService, `${registry}/web@${digest}`)).toThrow(/source-code service/);
  });

  it("lets InvalidStateException through unchanged (the caller queues the deploy)", async () => {
    appRunner.on(DescribeServiceCommand).resolves({ Service: service });
    appRunner
      .on(UpdateServiceCommand)
      .rejects(new InvalidStateException({ message: "operation in progress", $metadata: {} }));
    const adapter = new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1", maxAttempts: 1 }), clock);
    await expect(adapter.deployImage(arn, `${registry}/web@${digest}`)).rejects.toBeInstanceOf(
      InvalidStateException,
    );
  });

  it("discovers only services tagged gantry:managed=true, skipping deleted ones, and caches the answer", async () => {
    const other = "arn:aws:apprunner:us-east-1:111122223333:service/other/fedcba9876543210fedcba9876543210";
    const gone = "arn:aws:apprunner:us-east-1:111122223333:service/gone/00000000000000000000000000000000";
    appRunner.on(ListServicesCommand).resolves({
      ServiceSummaryList: [
        { ServiceArn: arn, ServiceName: "storefront", Status: "RUNNING" },
        { ServiceArn: other, ServiceName: "other", Status: "RUNNING" },
        { ServiceArn: gone, ServiceName: "gone", Status: "DELETED" },
      ],
    });
    appRunner
      .on(ListTagsForResourceCommand, { ResourceArn: arn })
      .resolves({ Tags: [{ Key: "gantry:managed", Value: "true" }] });
    appRunner
      .on(ListTagsForResourceCommand, { ResourceArn: other })
      .resolves({ Tags: [{ Key: "team", Value: "x" }] });
    appRunner.on(DescribeServiceCommand).resolves({ Service: service });
    const adapter = new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1" }), clock);

    const managed = await adapter.listManagedServices();
    expect(managed).toEqual([
      {
        serviceArn: arn,
        serviceName: "storefront",
        status: "RUNNING",
        imageIdentifier: `${registry}/web:prod`,
        autoDeploymentsEnabled: true,
        // ImageConfiguration.Port, which the failure diagnosis judges the app's port against.
        port: 3000,
        tags: { "gantry:managed": "true" },
      },
    ]);
    await adapter.listManagedServices();
    expect(appRunner).toHaveReceivedCommandTimes(ListServicesCommand, 1);
    expect(appRunner).not.toHaveReceivedCommandWith(ListTagsForResourceCommand, { ResourceArn: gone });
  });

  it("after a deploy, the next discovery re-describes only the deployed service, not the fleet", async () => {
    const fleet = Array.from({ length: 30 }, (_, index) => ({
      ServiceArn: `arn:aws:apprunner:us-east-1:111122223333:service/svc-${index}/${String(index).padStart(32, "0")}`,
      ServiceName: `svc-${index}`,
      Status: "RUNNING" as const,
    }));
    fleet[0] = { ServiceArn: arn, ServiceName: "storefront", Status: "RUNNING" };
    appRunner.on(ListServicesCommand).resolves({ ServiceSummaryList: fleet });
    appRunner.on(ListTagsForResourceCommand).resolves({ Tags: [{ Key: "gantry:managed", Value: "true" }] });
    appRunner.on(DescribeServiceCommand).resolves({ Service: service });
    const deployed = {
      ...service,
      SourceConfiguration: {
        ...service.SourceConfiguration,
        ImageRepository: {
          ...service.SourceConfiguration?.ImageRepository,
          ImageIdentifier: `${registry}/web@${digest}`,
          ImageRepositoryType: "ECR" as const,
        },
      },
    };
    appRunner.on(UpdateServiceCommand).resolves({ Service: deployed, OperationId: "op-deploy" });
    const adapter = new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1" }), clock);

    expect(await adapter.listManagedServices()).toHaveLength(30);
    await adapter.deployImage(arn, `${registry}/web@${digest}`);
    appRunner.resetHistory();
    appRunner.on(DescribeServiceCommand, { ServiceArn: arn }).resolves({ Service: deployed });

    const after = await adapter.listManagedServices();
    expect(after.find((managed) => managed.serviceArn === arn)?.imageIdentifier).toBe(
      `${registry}/web@${digest}`,
    );
    expect(after).toHaveLength(30);
    expect(appRunner).toHaveReceivedCommandTimes(ListServicesCommand, 0);
    expect(appRunner).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, 1);
    await adapter.listManagedServices();
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, 1);
  });

  it("maps ListOperations newest first as App Runner returns them", async () => {
    appRunner.on(ListOperationsCommand).resolves({
      OperationSummaryList: [
        {
          Id: "op-2",
          Type: "UPDATE_SERVICE",
          Status: "IN_PROGRESS",
          StartedAt: new Date("2026-11-02T09:00:00Z"),
        },
        { Id: "op-1", Type: "CREATE_SERVICE", Status: "SUCCEEDED" },
      ],
    });
    const adapter = new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1" }), clock);
    expect(
      (await adapter.listOperations(arn)).map((operation) => `${operation.id}:${operation.status}`),
    ).toEqual(["op-2:IN_PROGRESS", "op-1:SUCCEEDED"]);
    expect(appRunner).toHaveReceivedCommandWith(ListOperationsCommand, { ServiceArn: arn, MaxResults: 20 });
  });
});

describe("AppRunnerAdapter: a recreate is checked before anything is deleted", () => {
  const accessRole = "arn:aws:iam::111122223333:role/apprunner-ecr-access";
  const instanceRole = "arn:aws:iam::111122223333:role/storefront-runtime";
  /** A CREATE_FAILED service with a secret in its environment, a secret reference and an instance role. */
  const failed: Service = {
    ...service,
    Status: "CREATE_FAILED",
    SourceConfiguration: {
      ...service.SourceConfiguration,
      ImageRepository: {
        ImageIdentifier: `${registry}/web:prod`,
        ImageRepositoryType: "ECR",
        ImageConfiguration: {
          Port: "3000",
          RuntimeEnvironmentVariables: { LOG_LEVEL: "info", STRIPE_KEY: "sk_live_do-not-store" },
          RuntimeEnvironmentSecrets: {
            DB_PASSWORD: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
          },
        },
      },
    },
    InstanceConfiguration: { Cpu: "1024", Memory: "2048", InstanceRoleArn: instanceRole },
  };
  const managedTags = [{ Key: "gantry:managed", Value: "true" }];

  function answering(described: Service, domains: string[] = []) {
    appRunner.on(DescribeServiceCommand).resolves({ Service: described });
    appRunner.on(ListTagsForResourceCommand).resolves({ Tags: managedTags });
    appRunner.on(DescribeCustomDomainsCommand).resolves({
      DNSTarget: "abc.us-east-1.awsapprunner.com",
      ServiceArn: arn,
      CustomDomains: domains.map((DomainName) => ({
        DomainName,
        EnableWWWSubdomain: false,
        Status: "ACTIVE",
      })),
      VpcDNSTargets: [],
    });
  }

  const adapterPassing = (roles?: string[]) =>
    new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1", maxAttempts: 1 }), clock, 60_000, roles);

  it("records environment variables only by name and salted hash; secret references stay", async () => {
    answering(failed);
    const spec = await adapterPassing().captureSpec(arn);

    expect(JSON.stringify(spec)).not.toContain("sk_live_do-not-store");
    expect(JSON.stringify(spec)).not.toContain('"info"');
    expect(Object.keys(spec.environment?.sha256 ?? {}).sort()).toEqual(["LOG_LEVEL", "STRIPE_KEY"]);
    expect(spec.environment?.sha256.STRIPE_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(spec.createInput).toMatchObject({
      SourceConfiguration: {
        ImageRepository: {
          ImageConfiguration: {
            Port: "3000",
            RuntimeEnvironmentSecrets: {
              DB_PASSWORD: "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
            },
          },
        },
      },
    });
  });

  it("a complete, valid spec with passable roles and nothing to lose may be recreated", async () => {
    answering(failed);
    const adapter = adapterPassing([accessRole, instanceRole]);
    const spec = await adapter.captureSpec(arn);
    await expect(adapter.checkRecreate(arn, spec)).resolves.toEqual({ problems: [], losses: [] });
  });

  it("names what is wrong: model violations, roles Gantry may not pass, changed environment values", async () => {
    answering(failed);
    const adapter = adapterPassing([accessRole]);
    const spec = await adapter.captureSpec(arn);
    const source = (spec.createInput.SourceConfiguration ?? {}) as Record<string, Record<string, unknown>>;
    const broken = {
      ...spec,
      createInput: {
        ...spec.createInput,
        SourceConfiguration: {
          ...source,
          ImageRepository: { ...source.ImageRepository, ImageRepositoryType: undefined },
        },
      },
    };
    // The service now runs with another value than the one recorded.
    const changed = structuredClone(failed);
    changed.SourceConfiguration!.ImageRepository!.ImageConfiguration!
      .RuntimeEnvironmentVariables!.STRIPE_KEY = "sk_live_rotated";
    answering(changed);

    const { problems } = await adapter.checkRecreate(arn, broken);

    expect(problems).toEqual(
      expect.arrayContaining([
        "CreateService input: SourceConfiguration.ImageRepository.ImageRepositoryType is required",
        expect.stringMatching(new RegExp(`^role ${instanceRole} is not one Gantry may pass`)),
        "environment variables STRIPE_KEY have other values than the recorded spec",
      ]),
    );
    expect(problems.join(" ")).not.toMatch(/sk_live/);
  });

  it("reports custom domains and a private endpoint as what a new service would lose", async () => {
    answering(
      { ...failed, NetworkConfiguration: { IngressConfiguration: { IsPubliclyAccessible: false } } },
      ["shop.example.com"],
    );
    const adapter = adapterPassing();
    const { losses } = await adapter.checkRecreate(arn, await adapter.captureSpec(arn));
    expect(losses.map((loss) => loss.kind)).toEqual(["custom-domains", "private-ingress"]);
    expect(losses[0]?.detail).toContain("shop.example.com");
  });

  it("creates with the values read back from the deleted service, checked against the recorded hashes", async () => {
    answering(failed);
    const adapter = adapterPassing([accessRole, instanceRole]);
    const spec = await adapter.captureSpec(arn);
    expect(JSON.stringify(spec)).not.toContain("sk_live_do-not-store");
    answering({ ...failed, Status: "DELETED" });
    appRunner.on(CreateServiceCommand).resolves({
      OperationId: "0f0e0d0c-0b0a-4909-8807-060504030201",
      Service: {
        ...failed,
        ServiceArn: `${arn.slice(0, -32)}${"f".repeat(32)}`,
        Status: "OPERATION_IN_PROGRESS",
      },
    });

    await adapter.createService(spec, { environmentFrom: arn });

    const sent = appRunner.commandCalls(CreateServiceCommand)[0]?.args[0].input;
    expect(
      sent?.SourceConfiguration?.ImageRepository?.ImageConfiguration?.RuntimeEnvironmentVariables,
    ).toEqual({
      LOG_LEVEL: "info",
      STRIPE_KEY: "sk_live_do-not-store",
    });
    expect(loadAppRunnerModel().validateInput("CreateService", sent)).toEqual([]);
  });

  it("refuses to create (and sends nothing) when the values can no longer be read", async () => {
    answering(failed);
    const adapter = adapterPassing();
    const spec = await adapter.captureSpec(arn);
    appRunner
      .on(DescribeServiceCommand)
      .rejects(new ResourceNotFoundException({ message: "A resource doesn't exist", $metadata: {} }));

    await expect(adapter.createService(spec, { environmentFrom: arn })).rejects.toMatchObject({
      name: "RecreateRefusedError",
      problems: [expect.stringContaining("LOG_LEVEL, STRIPE_KEY")],
    });
    expect(appRunner).not.toHaveReceivedCommand(CreateServiceCommand);
  });

  it("reads a deleted service's status, and an ARN App Runner no longer knows as deleted", async () => {
    appRunner.on(DescribeServiceCommand).resolves({ Service: { ...failed, Status: "DELETED" } });
    const adapter = adapterPassing();
    await expect(adapter.describeService(arn)).resolves.toMatchObject({ status: "DELETED", tags: {} });
    expect(appRunner).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    appRunner
      .on(DescribeServiceCommand)
      .rejects(new ResourceNotFoundException({ message: "A resource doesn't exist", $metadata: {} }));
    await expect(adapter.serviceStatus(arn)).resolves.toBe("DELETED");
  });
});
