import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LedgerConflictError, type Release } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createLedgerTable, DynamoDbLedger } from "../src/index.ts";

const client = new DynamoDBClient({
  endpoint: inject("dynamodbEndpoint"),
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const tableName = `ledger-${randomUUID()}`;
const ledger = new DynamoDbLedger(client, tableName);
const arn = "arn:aws:apprunner:us-east-1:111122223333:service/web/0123456789abcdef0123456789abcdef";

const release = (digest: string, pushedAt: string): Release => ({
  serviceArn: arn,
  serviceName: "web",
  digest,
  registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com",
  repository: "web",
  tags: ["prod"],
  policyName: "default",
  policyVersion: "abcd1234",
  state: "awaiting-scan",
  pushedAt,
  version: 1,
});

beforeAll(async () => {
  await createLedgerTable(client, tableName);
});
afterAll(() => client.destroy());

describe("DynamoDbLedger against DynamoDB Local", () => {
  it("creates a release once: a duplicate put is a conflict, not an overwrite", async () => {
    const first = release("sha256:aaa", "2026-01-01T00:00:00.000Z");
    await ledger.commit([{ kind: "put-release", release: first }]);
    await expect(
      ledger.commit([{ kind: "put-release", release: { ...first, tags: ["other"] } }]),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    expect((await ledger.getRelease(arn, "sha256:aaa"))?.tags).toEqual(["prod"]);
  });

  it("updates only from the expected version, and a failed transaction writes nothing", async () => {
    const current = (await ledger.getRelease(arn, "sha256:aaa"))!;
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

  it("queries releases by service (newest first) and by digest", async () => {
    await ledger.commit([
      { kind: "put-release", release: release("sha256:bbb", "2026-01-02T00:00:00.000Z") },
    ]);
    expect((await ledger.releasesByService(arn)).map((r) => r.digest)).toEqual(["sha256:bbb", "sha256:aaa"]);
    expect((await ledger.releasesByDigest("sha256:bbb")).map((r) => r.serviceName)).toEqual(["web"]);
    expect(await ledger.releasesByDigest("sha256:none")).toEqual([]);
  });

  it("keeps the first scan recorded for an image", async () => {
    const scan = {
      repository: "web",
      digest: "sha256:aaa",
      tags: [],
      scanner: "basic" as const,
      scanStatus: "COMPLETE",
      succeeded: true,
      severityCounts: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, INFORMATIONAL: 0, UNDEFINED: 0 },
      receivedAt: "2026-01-01T00:00:00.000Z",
    };
    expect(await ledger.putScan(scan)).toBe(true);
    expect(await ledger.putScan({ ...scan, severityCounts: { ...scan.severityCounts, CRITICAL: 9 } })).toBe(
      false,
    );
    expect((await ledger.getScan("web", "sha256:aaa"))?.severityCounts.CRITICAL).toBe(1);
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
});
