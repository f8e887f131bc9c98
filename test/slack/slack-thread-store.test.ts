import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createLedgerTable, DynamoDbLedger, DynamoDbSlackThreadStore } from "@gantry/aws";
import { SlackThreadBusyError } from "@gantry/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const client = new DynamoDBClient({
  endpoint: inject("dynamodbEndpoint"),
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const table = `slack-threads-${randomUUID()}`;
let now = new Date("2026-11-02T09:00:00Z").getTime();
const clock = { now: () => new Date(now) };
const store = new DynamoDbSlackThreadStore(client, table, clock, { leaseMs: 60_000 });

beforeAll(() => createLedgerTable(client, table));
afterAll(() => client.destroy());

describe("Slack threads in the ledger table (DynamoDB Local)", () => {
  it("one lease per thread: a second delivery waits until the first gives it back", async () => {
    const first = await store.acquire("web@sha256:a", "deploys", "owner-1");
    expect(first).toEqual({ threadKey: "web@sha256:a", channel: "deploys", posted: {} });
    expect(await store.acquire("web@sha256:a", "deploys", "owner-2")).toBeUndefined();
    // Another channel of the same release is another thread.
    expect(await store.acquire("web@sha256:a", "oncall", "owner-2")).toBeDefined();

    await store.checkpoint(
      { ...first!, rootTs: "1.000001", channelId: "C1", posted: { k1: "1.000002" } },
      "owner-1",
    );
    expect(await store.acquire("web@sha256:a", "deploys", "owner-2")).toBeUndefined();
    await store.release(
      { ...first!, rootTs: "1.000001", channelId: "C1", posted: { k1: "1.000002" } },
      "owner-1",
    );

    // What was saved is what the next delivery (a new container, say) starts from.
    expect(await store.acquire("web@sha256:a", "deploys", "owner-2")).toEqual({
      threadKey: "web@sha256:a",
      channel: "deploys",
      rootTs: "1.000001",
      channelId: "C1",
      posted: { k1: "1.000002" },
    });
  });

  it("a lease held by a delivery that died expires; the late owner cannot write any more", async () => {
    const held = await store.acquire("web@sha256:b", "deploys", "dead");
    now += 61_000;
    const taken = await store.acquire("web@sha256:b", "deploys", "alive");
    expect(taken).toBeDefined();
    await expect(store.checkpoint({ ...held!, rootTs: "9.9" }, "dead")).rejects.toBeInstanceOf(
      SlackThreadBusyError,
    );
    // Abandoning someone else's lease is harmless.
    await store.abandon(held!, "dead");
    expect(await store.acquire("web@sha256:b", "deploys", "third")).toBeUndefined();
    await store.abandon(taken!, "alive");
    expect(await store.acquire("web@sha256:b", "deploys", "third")).toBeDefined();
  });

  it("lists every channel's thread of a release, and stays out of the ledger's own records", async () => {
    const threads = await store.threadsOf("web@sha256:a");
    expect(threads.map((thread) => thread.channel).sort()).toEqual(["deploys", "oncall"]);
    const ledger = new DynamoDbLedger(client, table);
    expect(await ledger.releasesByDigest("sha256:a")).toEqual([]);
  });

  it("a nonce is claimed once until it expires", async () => {
    const expiresAt = new Date(now + 6 * 60_000);
    expect(await store.claimNonce("n1", expiresAt)).toBe(true);
    expect(await store.claimNonce("n1", expiresAt)).toBe(false);
    expect(await store.claimNonce("n2", expiresAt)).toBe(true);
    now += 7 * 60_000;
    expect(await store.claimNonce("n1", new Date(now + 60_000))).toBe(true);
  });
});
