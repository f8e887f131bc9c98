import {
  AppRunnerClient,
  DescribeServiceCommand,
  ListServicesCommand,
  type ListServicesCommandInput,
  ListTagsForResourceCommand,
  type Service,
  type ServiceSummary,
  UpdateServiceCommand,
} from "@aws-sdk/client-apprunner";
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryLedger } from "../../core/test/support/in-memory-ledger.ts";
import { AppRunnerAdapter, ManagedTagsAdapter } from "../src/index.ts";

/**
 * Discovery at fleet scale: 1,000 managed services. App Runner's ListServices returns at most 20
 * per page (https://docs.aws.amazon.com/apprunner/latest/api/API_ListServices.html); the Resource
 * Groups Tagging API's GetResources up to 100 with their tags
 * (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html).
 */
const FLEET = 1_000;
const registry = "111122223333.dkr.ecr.us-east-1.amazonaws.com";
const appRunner = mockClient(AppRunnerClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
let now = new Date("2026-11-02T09:00:00Z");
const clock = { now: () => now };

interface FakeService {
  summary: ServiceSummary;
  image: string;
  tags: Record<string, string>;
}

const arnOf = (index: number) =>
  `arn:aws:apprunner:us-east-1:111122223333:service/svc-${String(index).padStart(4, "0")}/${index.toString(16).padStart(32, "0")}`;

let fleet: Map<string, FakeService>;
/** What the tagging API lists; by default exactly the tagged services App Runner has. */
let taggedExtra: { ResourceARN: string; Tags: { Key: string; Value: string }[] }[];

function makeFleet(): Map<string, FakeService> {
  const services = new Map<string, FakeService>();
  for (let index = 0; index < FLEET; index++) {
    const arn = arnOf(index);
    services.set(arn, {
      summary: {
        ServiceArn: arn,
        ServiceName: `svc-${String(index).padStart(4, "0")}`,
        ServiceId: index.toString(16).padStart(32, "0"),
        Status: "RUNNING",
        CreatedAt: new Date("2026-01-01T00:00:00Z"),
        UpdatedAt: new Date("2026-01-02T00:00:00Z"),
      },
      image: `${registry}/app-${index}:prod`,
      tags: { "gantry:managed": "true", "gantry:policy": "default" },
    });
  }
  return services;
}

function describeOf(service: FakeService): Service {
  return {
    ...service.summary,
    ServiceUrl: "x.awsapprunner.com",
    SourceConfiguration: {
      ImageRepository: { ImageIdentifier: service.image, ImageRepositoryType: "ECR" },
      AutoDeploymentsEnabled: false,
    },
    InstanceConfiguration: { Cpu: "1024", Memory: "2048" },
  } as Service;
}

function tagList(tags: Record<string, string>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

function page<T>(items: T[], token: string | undefined, size: number) {
  const start = token ? Number(token) : 0;
  const next = start + size < items.length ? String(start + size) : undefined;
  return { items: items.slice(start, start + size), next };
}

beforeEach(() => {
  now = new Date("2026-11-02T09:00:00Z");
  fleet = makeFleet();
  taggedExtra = [];
  appRunner.reset();
  tagging.reset();
  appRunner.on(ListServicesCommand).callsFake((input: ListServicesCommandInput) => {
    const { items, next } = page([...fleet.values()], input.NextToken, input.MaxResults ?? 20);
    return { ServiceSummaryList: items.map((service) => service.summary), NextToken: next };
  });
  appRunner.on(DescribeServiceCommand).callsFake(({ ServiceArn }) => {
    const service = fleet.get(ServiceArn);
    if (!service) throw Object.assign(new Error("not found"), { name: "ResourceNotFoundException" });
    return { Service: describeOf(service) };
  });
  appRunner
    .on(ListTagsForResourceCommand)
    .callsFake(({ ResourceArn }) => ({ Tags: tagList(fleet.get(ResourceArn)?.tags ?? {}) }));
  tagging.on(GetResourcesCommand).callsFake((input: GetResourcesCommandInput) => {
    const filter = input.TagFilters?.[0];
    const matching = [
      ...[...fleet.values()]
        .filter((service) => filter?.Key && filter.Values?.includes(service.tags[filter.Key] ?? ""))
        .map((service) => ({ ResourceARN: service.summary.ServiceArn, Tags: tagList(service.tags) })),
      ...taggedExtra,
    ];
    const { items, next } = page(matching, input.PaginationToken, input.ResourcesPerPage ?? 50);
    return { ResourceTagMappingList: items, PaginationToken: next ?? "" };
  });
});

function adapterWith(index: InMemoryLedger) {
  return new AppRunnerAdapter(new AppRunnerClient({ region: "us-east-1" }), clock, 60_000, undefined, {
    managedTags: new ManagedTagsAdapter(new ResourceGroupsTaggingAPIClient({ region: "us-east-1" })),
    index,
  });
}

function appRunnerCalls(): number {
  return appRunner.calls().length;
}

describe("fleet discovery at 1,000 services", () => {
  it("finds managed services through the tagging API (10 pages), never ListTagsForResource per service", async () => {
    const adapter = adapterWith(new InMemoryLedger());

    const managed = await adapter.listManagedServices();

    expect(managed).toHaveLength(FLEET);
    expect(managed[7]).toMatchObject({ imageIdentifier: `${registry}/app-7:prod`, status: "RUNNING" });
    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 10);
    expect(tagging).toHaveReceivedCommandWith(GetResourcesCommand, {
      TagFilters: [{ Key: "gantry:managed", Values: ["true"] }],
      ResourceTypeFilters: ["apprunner:service"],
      ResourcesPerPage: 100,
    });
    expect(appRunner).toHaveReceivedCommandTimes(ListServicesCommand, 50);
    expect(appRunner).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
    // The first walk ever describes each managed service once, and remembers it in the ledger.
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, FLEET);
  });

  it("a cold instance with a warm index costs 50 App Runner calls, not ~2,050: DescribeService only where UpdatedAt moved", async () => {
    const index = new InMemoryLedger();
    await adapterWith(index).listManagedServices();
    // Someone deploys svc-0042 outside Gantry: App Runner bumps its UpdatedAt.
    const changed = fleet.get(arnOf(42)) as FakeService;
    changed.image = `${registry}/app-42@sha256:${"b".repeat(64)}`;
    changed.summary.UpdatedAt = new Date("2026-11-02T08:59:00Z");
    now = new Date(now.getTime() + 5 * 60_000);
    appRunner.resetHistory();
    tagging.resetHistory();

    const managed = await adapterWith(index).listManagedServices();

    expect(managed).toHaveLength(FLEET);
    expect(managed.find((service) => service.serviceArn === arnOf(42))?.imageIdentifier).toBe(changed.image);
    expect(appRunner).toHaveReceivedCommandTimes(ListServicesCommand, 50);
    expect(appRunner).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 0);
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, 1);
    expect(appRunner).toHaveReceivedCommandWith(DescribeServiceCommand, { ServiceArn: arnOf(42) });
    expect(appRunnerCalls()).toBe(51);
    expect(tagging).toHaveReceivedCommandTimes(GetResourcesCommand, 10);
    // The index now holds the new image: a third instance describes nothing at all.
    now = new Date(now.getTime() + 5 * 60_000);
    appRunner.resetHistory();
    await adapterWith(index).listManagedServices();
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, 0);
  });

  it("after a fleet-wide deploy, a walk re-describes at most 100 changed services; later walks describe the rest", async () => {
    const index = new InMemoryLedger();
    await adapterWith(index).listManagedServices();
    // A base image bump: every service deployed, every UpdatedAt moved.
    for (const [position, service] of [...fleet.values()].entries()) {
      service.image = `${registry}/app-${position}@sha256:${"d".repeat(64)}`;
      service.summary.UpdatedAt = new Date("2026-11-02T08:30:00Z");
    }
    const walks: number[] = [];
    for (let walk = 0; walk < 11; walk++) {
      now = new Date(now.getTime() + 5 * 60_000);
      appRunner.resetHistory();
      const managed = await adapterWith(index).listManagedServices();
      expect(managed).toHaveLength(FLEET);
      walks.push(appRunner.commandCalls(DescribeServiceCommand).length);
    }

    expect(walks).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 0]);
    const stored = await index.fleetIndex();
    expect(stored.services.every((service) => service.imageIdentifier.includes("@sha256:"))).toBe(true);
  });

  it("a cold instance reuses a walk another instance made within the TTL: no App Runner call at all", async () => {
    const index = new InMemoryLedger();
    await adapterWith(index).listManagedServices();
    now = new Date(now.getTime() + 30_000);
    appRunner.resetHistory();
    tagging.resetHistory();

    const managed = await adapterWith(index).listManagedServices();

    expect(managed).toHaveLength(FLEET);
    expect(appRunnerCalls()).toBe(0);
    expect(tagging.calls()).toHaveLength(0);
  });

  it("status and tags come from this walk; a service no longer tagged leaves the index", async () => {
    const index = new InMemoryLedger();
    await adapterWith(index).listManagedServices();
    (fleet.get(arnOf(1)) as FakeService).summary.Status = "PAUSED";
    (fleet.get(arnOf(2)) as FakeService).tags = { team: "payments" };
    (fleet.get(arnOf(3)) as FakeService).tags["gantry:policy"] = "strict";
    now = new Date(now.getTime() + 5 * 60_000);

    const managed = await adapterWith(index).listManagedServices();

    expect(managed).toHaveLength(FLEET - 1);
    expect(managed.find((service) => service.serviceArn === arnOf(1))?.status).toBe("PAUSED");
    expect(managed.find((service) => service.serviceArn === arnOf(3))?.tags["gantry:policy"]).toBe("strict");
    const stored = await index.fleetIndex();
    expect(stored.services.map((service) => service.serviceArn)).not.toContain(arnOf(2));
    expect(stored.services.find((service) => service.serviceArn === arnOf(1))?.status).toBe("PAUSED");
  });

  it("trusts ListServices for what exists: a deleted service the tagging API still lists is not managed", async () => {
    // GetResources may return previously tagged resources that no longer exist (aws/aws-sdk#302).
    taggedExtra = [
      {
        ResourceARN: "arn:aws:apprunner:us-east-1:111122223333:service/gone/ffffffffffffffffffffffffffffffff",
        Tags: [{ Key: "gantry:managed", Value: "true" }],
      },
    ];

    const managed = await adapterWith(new InMemoryLedger()).listManagedServices();

    expect(managed).toHaveLength(FLEET);
    expect(managed.map((service) => service.serviceName)).not.toContain("gone");
  });

  it("a service created minutes ago that the tagging API does not list yet is checked with ListTagsForResource", async () => {
    const index = new InMemoryLedger();
    await adapterWith(index).listManagedServices();
    const fresh: FakeService = {
      summary: {
        ServiceArn: arnOf(FLEET),
        ServiceName: "svc-new",
        ServiceId: "e".repeat(32),
        Status: "RUNNING",
        CreatedAt: new Date(now.getTime() + 60_000),
        UpdatedAt: new Date(now.getTime() + 60_000),
      },
      image: `${registry}/new:prod`,
      tags: { "gantry:managed": "true" },
    };
    fleet.set(arnOf(FLEET), fresh);
    // The tagging API has not caught up with the new service's tags yet.
    tagging.on(GetResourcesCommand).callsFake((input: GetResourcesCommandInput) => {
      const all = [...fleet.values()]
        .filter((service) => service !== fresh)
        .map((service) => ({ ResourceARN: service.summary.ServiceArn, Tags: tagList(service.tags) }));
      const { items, next } = page(all, input.PaginationToken, input.ResourcesPerPage ?? 50);
      return { ResourceTagMappingList: items, PaginationToken: next ?? "" };
    });
    now = new Date(now.getTime() + 5 * 60_000);
    appRunner.resetHistory();

    const managed = await adapterWith(index).listManagedServices();

    expect(managed.map((service) => service.serviceName)).toContain("svc-new");
    expect(appRunner).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 1);
    expect(appRunner).toHaveReceivedCommandWith(ListTagsForResourceCommand, { ResourceArn: arnOf(FLEET) });
  });

  it("a service this instance deploys is re-described alone, and the index learns its new image", async () => {
    const index = new InMemoryLedger();
    const adapter = adapterWith(index);
    await adapter.listManagedServices();
    const target = fleet.get(arnOf(5)) as FakeService;
    const image = `${registry}/app-5@sha256:${"c".repeat(64)}`;
    appRunner.on(UpdateServiceCommand).callsFake(() => {
      target.image = image;
      target.summary.UpdatedAt = new Date(now.getTime());
      return { OperationId: "op-1", Service: describeOf(target) };
    });
    await adapter.deployImage(arnOf(5), image);
    appRunner.resetHistory();

    const managed = await adapter.listManagedServices();

    expect(managed.find((service) => service.serviceArn === arnOf(5))?.imageIdentifier).toBe(image);
    expect(appRunner).toHaveReceivedCommandTimes(DescribeServiceCommand, 1);
    expect(appRunner).toHaveReceivedCommandTimes(ListServicesCommand, 0);
    const stored = await index.fleetIndex();
    expect(stored.services.find((service) => service.serviceArn === arnOf(5))?.imageIdentifier).toBe(image);
  });
});
