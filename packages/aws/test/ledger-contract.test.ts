import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type FleetIndexStore,
  type IndexedService,
  LedgerConflictError,
  type LedgerPort,
  type Release,
  type ScanRecord,
} from "@gantry/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { InMemoryLedger } from "../../core/test/support/in-memory-ledger.ts";
import { createLedgerTable, DynamoDbLedger } from "../src/index.ts";

/**
 * One contract, two ledgers: the DynamoDB ledger against DynamoDB Local, and the in-memory ledger
 * the core's unit tests run on. The fake is only as good as this proof that it behaves the same.
 */
const client = new DynamoDBClient({
  endpoint: inject("dynamodbEndpoint"),
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const tableName = `ledger-${randomUUID()}`;
beforeAll(async () => {
  await createLedgerTable(client, tableName);
});
afterAll(() => client.destroy());

const ledgers: [string, () => LedgerPort][] = [
  ["DynamoDbLedger (DynamoDB Local)", () => new DynamoDbLedger(client, tableName)],
  ["InMemoryLedger", () => new InMemoryLedger()],
];

describe.each(ledgers)("ledger contract: %s", (_name, makeLedger) => {
  const ledger = makeLedger();
  // Each ledger gets its own service and images, so both can share DynamoDB Local's table.
  const arn = `arn:aws:apprunner:us-east-1:111122223333:service/web/${randomUUID().replaceAll("-", "")}`;
  const repository = `web-${randomUUID()}`;

  const release = (digest: string, pushedAt: string): Release => ({
    serviceArn: arn,
    serviceName: "web",
    digest,
    registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com",
    repository,
    tags: ["prod"],
    policyName: "default",
    policyVersion: "abcd1234",
    state: "awaiting-scan",
    pushedAt,
    version: 1,
  });

  const scan = (scannedAt: string | undefined, critical: number): ScanRecord => ({
    repository,
    digest: "sha256:aaa",
    tags: [],
    scanner: "basic",
    scanStatus: "COMPLETE",
    succeeded: true,
    severityCounts: { CRITICAL: critical, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
    ...(scannedAt ? { scannedAt } : {}),
    receivedAt: "2026-01-01T00:00:00.000Z",
  });

  it("creates a release once: a duplicate put is a conflict, not an overwrite", async () => {
    const first = release("sha256:aaa", "2026-01-01T00:00:00.000Z");
    await ledger.commit([{ kind: "put-release", release: first }]);
    await expect(
      ledger.commit([{ kind: "put-release", release: { ...first, tags: ["other"] } }]),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    expect((await ledger.getRelease(arn, "sha256:aaa"))?.tags).toEqual(["prod"]);
  });

  it("updates only from the expected version, and a failed transaction writes nothing", async () => {
    const current = (await ledger.getRelease(arn, "sha256:aaa")) as Release;
    await ledger.commit([
      { kind: "update-release", release: { ...current, state: "blocked", version: 2 }, expectedVersion: 1 },
    ]);
    await expect(
      ledger.commit([
        {
          kind: "put-slot",
          slot: { serviceArn: arn, waitingDigest: "sha256:aaa", version: 1 },
          expectedVersion: undefined,
        },
        {
          kind: "update-release",
          release: { ...current, state: "deploying", version: 2 },
          expectedVersion: 1,
        },
      ]),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    expect((await ledger.getRelease(arn, "sha256:aaa"))?.state).toBe("blocked");
    expect(await ledger.getSlot(arn)).toBeUndefined();
  });

  it("drops undefined fields on write, as DynamoDB marshalling does", async () => {
    await ledger.commit([
      {
        kind: "put-slot",
        slot: { serviceArn: arn, waitingDigest: undefined, version: 1 },
        expectedVersion: undefined,
      },
    ]);
    expect(await ledger.getSlot(arn)).toEqual({ serviceArn: arn, version: 1 });
  });

  it("queries releases by service (newest first) and by digest", async () => {
    await ledger.commit([
      { kind: "put-release", release: release("sha256:bbb", "2026-01-02T00:00:00.000Z") },
    ]);
    expect((await ledger.releasesByService(arn)).map((r) => r.digest)).toEqual(["sha256:bbb", "sha256:aaa"]);
    expect((await ledger.releasesByDigest("sha256:bbb")).map((r) => r.serviceArn)).toContain(arn);
    expect(await ledger.releasesByDigest(`sha256:none-${randomUUID()}`)).toEqual([]);
  });

  it("keeps the newest scan of an image: a rescan replaces it, an older or equal one does not", async () => {
    expect(await ledger.putScan(scan("2026-01-01T00:00:00.000Z", 1))).toBe(true);
    expect(await ledger.putScan(scan("2026-01-01T00:00:00.000Z", 5))).toBe(false);
    expect(await ledger.putScan(scan("2025-12-31T00:00:00.000Z", 7))).toBe(false);
    expect(await ledger.putScan(scan(undefined, 8))).toBe(false);
    expect((await ledger.getScan(repository, "sha256:aaa"))?.severityCounts.CRITICAL).toBe(1);
    expect(await ledger.putScan(scan("2026-01-03T00:00:00.000Z", 9))).toBe(true);
    expect((await ledger.getScan(repository, "sha256:aaa"))?.severityCounts.CRITICAL).toBe(9);
  });

  it("returns the journal newest first", async () => {
    for (const [index, type] of (["candidate", "block", "approve"] as const).entries()) {
      await ledger.commit([
        {
          kind: "journal",
          entry: {
            serviceArn: arn,
            serviceName: "web",
            at: `2026-01-0${index + 1}T00:00:00.000Z`,
            type,
            key: `${type}#1`,
          },
        },
      ]);
    }
    expect((await ledger.history(arn)).map((entry) => entry.type)).toEqual(["approve", "block", "candidate"]);
    expect((await ledger.history(arn, 1)).map((entry) => entry.type)).toEqual(["approve"]);
  });

  it("writes a service record conditionally on its version", async () => {
    const name = `svc-${randomUUID()}`;
    await ledger.putServiceRecord({ serviceName: name, serviceArn: arn, version: 1 }, undefined);
    await expect(
      ledger.putServiceRecord({ serviceName: name, serviceArn: arn, version: 1 }, undefined),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    await expect(
      ledger.putServiceRecord({ serviceName: name, serviceArn: "other", version: 3 }, 2),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    await ledger.putServiceRecord({ serviceName: name, serviceArn: "new", version: 2 }, 1);
    expect((await ledger.getServiceRecord(name))?.serviceArn).toBe("new");
  });

  it("lists the records of recreates in flight, and only while they are", async () => {
    const name = `svc-${randomUUID()}`;
    const mine = async () =>
      (await ledger.recreatesInFlight()).filter((record) => record.serviceName === name);
    const recovery = { attempts: 2, oldServiceArn: arn, startedAt: "2026-11-02T09:00:00.000Z" };
    await ledger.putServiceRecord({ serviceName: name, serviceArn: arn, version: 1 }, undefined);
    expect(await mine()).toEqual([]);
    await ledger.putServiceRecord(
      { serviceName: name, serviceArn: arn, recovery: { ...recovery, phase: "deleting" }, version: 2 },
      1,
    );
    expect((await mine()).map((record) => record.recovery?.phase)).toEqual(["deleting"]);
    // Claimed for CreateService, no new ARN yet: still the reconciler's to finish.
    await ledger.putServiceRecord(
      { serviceName: name, serviceArn: arn, recovery: { ...recovery, phase: "creating" }, version: 3 },
      2,
    );
    expect(await mine()).toHaveLength(1);
    await ledger.putServiceRecord(
      {
        serviceName: name,
        serviceArn: "new",
        recovery: { ...recovery, phase: "creating", newServiceArn: "new" },
        version: 4,
      },
      3,
    );
    expect(await mine()).toEqual([]);
  });
});

describe.each(ledgers)("fleet index and reconciler cursor contract: %s", (_name, makeLedger) => {
  // The fleet index is one per table: this block is its only user in this file's table.
  const ledger = makeLedger() as LedgerPort & FleetIndexStore;
  const arnOf = (name: string) =>
    `arn:aws:apprunner:us-east-1:111122223333:service/${name}/${"0".repeat(32)}`;
  const entry = (
    name: string,
    updatedAt: string,
    overrides: Partial<IndexedService> = {},
  ): IndexedService => ({
    serviceArn: arnOf(name),
    serviceName: name,
    status: "RUNNING",
    imageIdentifier: `111122223333.dkr.ecr.us-east-1.amazonaws.com/${name}:prod`,
    autoDeploymentsEnabled: false,
    tags: { "gantry:managed": "true" },
    updatedAt,
    ...overrides,
  });

  it("starts empty, then lists what was put, by ARN, with the walk's time", async () => {
    expect(await ledger.fleetIndex()).toEqual({ services: [] });
    await ledger.saveFleetIndex({
      put: [entry("b", "2026-01-01T00:00:00.000Z"), entry("a", "2026-01-01T00:00:00.000Z")],
      walkedAt: "2026-11-02T09:00:00.000Z",
    });
    const index = await ledger.fleetIndex();
    expect(index.services.map((service) => service.serviceName)).toEqual(["a", "b"]);
    expect(index.services[0]).toEqual(entry("a", "2026-01-01T00:00:00.000Z"));
    expect(index.walkedAt).toBe("2026-11-02T09:00:00.000Z");
  });

  it("never replaces an entry with one App Runner updated earlier; the same UpdatedAt carries a new status", async () => {
    await ledger.saveFleetIndex({
      put: [entry("a", "2026-02-01T00:00:00.000Z", { imageIdentifier: "new" })],
    });
    await ledger.saveFleetIndex({
      put: [
        entry("a", "2026-01-15T00:00:00.000Z", { imageIdentifier: "stale" }),
        entry("b", "2026-01-01T00:00:00.000Z", { status: "PAUSED" }),
      ],
    });
    const services = (await ledger.fleetIndex()).services;
    expect(services.find((service) => service.serviceName === "a")?.imageIdentifier).toBe("new");
    expect(services.find((service) => service.serviceName === "b")?.status).toBe("PAUSED");
  });

  it("removes services that are gone or no longer managed; the walk time only moves forward", async () => {
    await ledger.saveFleetIndex({
      remove: [arnOf("b"), arnOf("never-indexed")],
      walkedAt: "2026-11-02T08:00:00.000Z",
    });
    const index = await ledger.fleetIndex();
    expect(index.services.map((service) => service.serviceName)).toEqual(["a"]);
    expect(index.walkedAt).toBe("2026-11-02T09:00:00.000Z");
  });

  it("keeps the reconciler's cursor", async () => {
    expect(await ledger.reconcileCursor()).toBeUndefined();
    await ledger.saveReconcileCursor(arnOf("a"));
    await ledger.saveReconcileCursor(arnOf("b"));
    expect(await ledger.reconcileCursor()).toBe(arnOf("b"));
  });
});
