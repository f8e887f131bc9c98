import { AppRunnerClient, DeleteServiceCommand, TagResourceCommand } from "@aws-sdk/client-apprunner";
import {
  GetResourcesCommand,
  InvalidParameterException,
  ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppRunnerEmulator } from "../src/apprunner-emulator.ts";
import { AwsEmulatorServer } from "../src/aws-emulator-server.ts";
import { TaggingEmulator } from "../src/tagging-emulator.ts";
import { VirtualClock } from "../src/virtual-clock.ts";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

/** The local Resource Groups Tagging API answers GetResources from the App Runner emulator's tags. */
describe("TaggingEmulator (GetResources over the App Runner emulator)", () => {
  let server: AwsEmulatorServer;
  let appRunner: AppRunnerEmulator;
  let tagging: ResourceGroupsTaggingAPIClient;
  let appRunnerClient: AppRunnerClient;
  const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));

  beforeEach(async () => {
    appRunner = new AppRunnerEmulator({ clock, accountId: ACCOUNT, region: REGION, emit: () => undefined });
    server = new AwsEmulatorServer({ apprunner: appRunner, others: [new TaggingEmulator(appRunner)] });
    const { endpoint } = await server.start();
    tagging = new ResourceGroupsTaggingAPIClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
    appRunnerClient = new AppRunnerClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
  });
  afterEach(async () => {
    appRunner.dispose();
    await server.stop();
  });

  function seed(name: string, tags: Record<string, string>): string {
    const service = appRunner.seedService({
      ServiceName: name,
      SourceConfiguration: {
        ImageRepository: {
          ImageIdentifier: "public.ecr.aws/nginx/nginx:latest",
          ImageRepositoryType: "ECR_PUBLIC",
        },
        AutoDeploymentsEnabled: false,
      },
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
    return String(service.ServiceArn);
  }

  it("lists the services whose tags match every filter, with all their tags, page by page", async () => {
    const managed = Array.from({ length: 5 }, (_, index) =>
      seed(`managed-${index}`, { "gantry:managed": "true", team: "a" }),
    );
    seed("unmanaged", { team: "a" });
    seed("switched-off", { "gantry:managed": "false" });

    const first = await tagging.send(
      new GetResourcesCommand({
        TagFilters: [{ Key: "gantry:managed", Values: ["true"] }],
        ResourceTypeFilters: ["apprunner:service"],
        ResourcesPerPage: 3,
      }),
    );
    expect(first.ResourceTagMappingList?.map((mapping) => mapping.ResourceARN)).toEqual(managed.slice(0, 3));
    expect(first.ResourceTagMappingList?.[0]?.Tags).toEqual([
      { Key: "gantry:managed", Value: "true" },
      { Key: "team", Value: "a" },
    ]);
    expect(first.PaginationToken).toBeTruthy();
    const second = await tagging.send(
      new GetResourcesCommand({
        TagFilters: [{ Key: "gantry:managed", Values: ["true"] }],
        ResourceTypeFilters: ["apprunner:service"],
        ResourcesPerPage: 3,
        PaginationToken: first.PaginationToken,
      }),
    );
    expect(second.ResourceTagMappingList?.map((mapping) => mapping.ResourceARN)).toEqual(managed.slice(3));
    expect(second.PaginationToken).toBe("");
    const otherType = await tagging.send(
      new GetResourcesCommand({ ResourceTypeFilters: ["ec2:instance"], TagFilters: [{ Key: "team" }] }),
    );
    expect(otherType.ResourceTagMappingList).toEqual([]);
  });

  it("follows TagResource, and may still list a deleted service, as AWS's may (aws/aws-sdk#302)", async () => {
    const arn = seed("web-1", { team: "a" });
    await appRunnerClient.send(
      new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: "gantry:managed", Value: "true" }] }),
    );
    await appRunnerClient.send(new DeleteServiceCommand({ ServiceArn: arn }));
    await clock.runUntilIdle();

    const listed = await tagging.send(
      new GetResourcesCommand({ TagFilters: [{ Key: "gantry:managed", Values: ["true"] }] }),
    );

    expect(listed.ResourceTagMappingList?.map((mapping) => mapping.ResourceARN)).toEqual([arn]);
  });

  it("refuses what the API reference refuses: ResourcesPerPage outside 1–100, more than 50 tag filters", async () => {
    await expect(tagging.send(new GetResourcesCommand({ ResourcesPerPage: 101 }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(
      tagging.send(
        new GetResourcesCommand({
          TagFilters: Array.from({ length: 51 }, (_, index) => ({ Key: `k${index}` })),
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      tagging.send(new GetResourcesCommand({ ResourceARNList: ["arn:x"], ResourcesPerPage: 10 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});
