import { Readable } from "node:stream";
import { AppRunnerClient, ListServicesCommand } from "@aws-sdk/client-apprunner";
import { describe, expect, it } from "vitest";
import { limitRate, TokenBucket } from "../src/token-bucket.ts";

/** A fake clock: sleeping moves time forward, nothing really waits. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(Math.round(ms));
      now += ms;
    },
    sleeps,
  };
}

describe("TokenBucket", () => {
  it("lets a burst through, then paces calls at the configured rate", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket(5, 3, time.now, time.sleep);
    for (let call = 0; call < 6; call++) await bucket.take();
    expect(time.sleeps).toEqual([200, 200, 200]);
    expect(time.now()).toBe(600);
  });

  it("refills while idle, up to the burst size", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket(2, 2, time.now, time.sleep);
    await bucket.take();
    await bucket.take();
    await time.sleep(10_000);
    time.sleeps.length = 0;
    for (let call = 0; call < 3; call++) await bucket.take();
    expect(time.sleeps).toEqual([500]);
  });

  it("serves concurrent callers in order, one token each", async () => {
    const time = fakeTime();
    const bucket = new TokenBucket(10, 1, time.now, time.sleep);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((index) => bucket.take().then(() => order.push(index))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(time.sleeps).toEqual([100, 100, 100]);
  });

  it("rejects a configuration that could never let a call through", () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/perSecond > 0/);
    expect(() => new TokenBucket(1, 0)).toThrow(/burst >= 1/);
  });

  it("as SDK middleware, every App Runner command waits for its token", async () => {
    const time = fakeTime();
    let sent = 0;
    // A canned HTTP answer: the client's whole middleware stack runs, only the network is skipped.
    const requestHandler = {
      handle: async () => {
        sent++;
        const body = Readable.from([Buffer.from('{"ServiceSummaryList":[]}')]);
        const headers = { "content-type": "application/x-amz-json-1.0" };
        return { response: { statusCode: 200, headers, body } };
      },
    };
    const client = new AppRunnerClient({
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      requestHandler,
    });
    limitRate(client, new TokenBucket(4, 1, time.now, time.sleep));
    for (let call = 0; call < 3; call++) await client.send(new ListServicesCommand({}));
    expect(time.sleeps).toEqual([250, 250]);
    expect(sent).toBe(3);
  });
});
