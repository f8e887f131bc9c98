/**
 * The presign API and the upload client against s3rver: the real handler (env validated, JWT
 * checked, S3 adapter, presigner) behind a local stand-in for CloudFront, the real client, the
 * real completion handler fed by s3rver's own object-created events. PutEvents is mocked; the
 * webhook goes to a local server and its signature is verified with the client's helper.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { MIB } from "@gantry/core";
import {
  buildUploadCompletionDeps,
  buildUploadPresignDeps,
  createUploadCompletedHandler,
  createUploadPresignHandler,
  localLambdaContext,
  parseUploadCompletedConfig,
  parseUploadPresignConfig,
} from "@gantry/runtime";
import { type RangeReader, UploadError, uploadFile, verifyUploadWebhook } from "@gantry/upload-client";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFunctionUrlServer } from "./support/function-url-server.ts";
import { es256KeyPair, signJwt } from "./support/jwt.ts";
import { type LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from "./support/s3rver.ts";

const BUCKET = "gantry-uploads-test";
const ISSUER = "https://auth.storefront.test";
const AUDIENCE = "storefront-uploads";
const WEBHOOK_SECRET = "whsec-0123456789abcdef0123456789abcdef";
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

let s3: LocalS3;
let api: Awaited<ReturnType<typeof startFunctionUrlServer>>;
let webhookServer: ReturnType<typeof createServer>;
let workdir: string;
const keys = es256KeyPair();
/** Shifts the presign function's clock: a negative skew signs URLs that are already expired. */
let clockSkewMs = 0;
const clock = { now: () => new Date(Date.now() + clockSkewMs) };
const eventBridge = new EventBridgeClient({ region: "us-east-1", credentials: S3RVER_CREDENTIALS });
const putEvents = mockClient(eventBridge);
const webhooks: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const completions: Promise<unknown>[] = [];
let s3Requests = 0;

const token = (sub = "user-42", overrides: Record<string, unknown> = {}) =>
  signJwt(
    { iss: ISSUER, aud: AUDIENCE, sub, exp: Math.floor(Date.now() / 1000) + 600, ...overrides },
    { alg: "ES256", privateKey: keys.privateKey },
  );

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), "gantry-upload-test-"));
  s3 = await startLocalS3(BUCKET);
  s3.httpServer.on("request", () => s3Requests++);

  webhookServer = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      webhooks.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((ready) => webhookServer.listen(0, "127.0.0.1", ready));
  const webhookUrl = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/hooks/uploads`;

  // Both functions get their configuration the way Lambda does: environment variables, validated.
  const presign = parseUploadPresignConfig({
    AWS_REGION: "us-east-1",
    GANTRY_S3_ENDPOINT: s3.endpoint,
    GANTRY_S3_FORCE_PATH_STYLE: "true",
    GANTRY_UPLOAD_BUCKET: BUCKET,
    GANTRY_UPLOAD_POLICY: JSON.stringify({
      app: "storefront",
      contentTypes: ["video/mp4", "image/*", "application/octet-stream"],
      maxObjectBytes: 1024 * MIB,
      partBytes: 16 * MIB,
      urlExpirySeconds: 300,
      sessionHours: 24,
    }),
    GANTRY_UPLOAD_AUTH: JSON.stringify({ issuer: ISSUER, audience: AUDIENCE, algorithms: ["ES256"] }),
    GANTRY_UPLOAD_AUTH_KEY: keys.publicKeyPem,
    GANTRY_UPLOAD_TOKEN_KEY: randomBytes(32).toString("hex"),
  });
  const handler = createUploadPresignHandler(() =>
    buildUploadPresignDeps(presign, { clock, credentials: S3RVER_CREDENTIALS }),
  );
  api = await startFunctionUrlServer({ handler });

  const completed = parseUploadCompletedConfig({
    AWS_REGION: "us-east-1",
    GANTRY_S3_ENDPOINT: s3.endpoint,
    GANTRY_S3_FORCE_PATH_STYLE: "true",
    GANTRY_UPLOAD_APPS: JSON.stringify({ storefront: { webhookUrl } }),
    GANTRY_UPLOAD_WEBHOOK_SECRETS: JSON.stringify({ storefront: WEBHOOK_SECRET }),
  });
  const onCompleted = createUploadCompletedHandler(() =>
    buildUploadCompletionDeps(completed, { credentials: S3RVER_CREDENTIALS, eventBridge }),
  );
  // s3rver emits S3 notification events itself: this is the bucket → function wiring.
  s3.server.on("event", (event: unknown) => {
    completions.push(onCompleted(event, localLambdaContext("upload-completed")));
  });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await s3?.stop();
  webhookServer?.closeAllConnections();
  await new Promise((done) => webhookServer?.close(done));
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

beforeEach(() => {
  clockSkewMs = 0;
  putEvents.reset();
  putEvents.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "e-1" }] });
  webhooks.length = 0;
  completions.length = 0;
});

/** A file written in 1 MiB random chunks, hashed on the way: never held in memory whole. */
async function writeRandomFile(name: string, size: number): Promise<{ path: string; sha256: string }> {
  const path = join(workdir, name);
  const hash = createHash("sha256");
  const stream = createWriteStream(path);
  for (let written = 0; written < size; written += MIB) {
    const chunk = randomBytes(Math.min(MIB, size - written));
    hash.update(chunk);
    if (!stream.write(chunk)) await new Promise<void>((drain) => stream.once("drain", () => drain()));
  }
  await new Promise<void>((done, fail) =>
    stream.end((error?: Error | null) => (error ? fail(error) : done())),
  );
  return { path, sha256: hash.digest("hex") };
}

/** A RangeReader over a file: only the parts in flight are read into memory. */
async function fileSource(path: string, name: string, type: string) {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  const reader: RangeReader = {
    size,
    name,
    type,
    read: async (start, end) => {
      const buffer = Buffer.allocUnsafe(end - start);
      const { bytesRead } = await handle.read(buffer, 0, end - start, start);
      return buffer.subarray(0, bytesRead);
    },
  };
  return { reader, close: () => handle.close() };
}

async function storedSha256(key: string): Promise<string> {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const hash = createHash("sha256");
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest("hex");
}

const isPartPut = (input: string | URL | Request, init?: RequestInit) =>
  init?.method === "PUT" && String(input).startsWith(s3.endpoint);

function partNumberOf(input: string | URL | Request): number {
  return Number(new URL(String(input)).searchParams.get("partNumber"));
}

/** Wraps fetch: `plan(partNumber, attempt)` may make an attempt fail like a flaky network would. */
function flakyFetch(plan: (partNumber: number, attempt: number) => "network" | "5xx" | undefined) {
  const attempts = new Map<number, number>();
  const fetchImpl: typeof fetch = async (input, init) => {
    if (isPartPut(input, init)) {
      const partNumber = partNumberOf(input);
      const attempt = (attempts.get(partNumber) ?? 0) + 1;
      attempts.set(partNumber, attempt);
      const failure = plan(partNumber, attempt);
      if (failure === "network") throw new TypeError("fetch failed");
      if (failure === "5xx") return new Response("<Error><Code>SlowDown</Code></Error>", { status: 503 });
    }
    return fetch(input, init);
  };
  return { fetchImpl, attempts };
}

async function apiCall(route: string, body: unknown, bearer = token()) {
  const text = JSON.stringify(body);
  const response = await fetch(`${api.url}/_uploads/${route}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-amz-content-sha256": createHash("sha256").update(text).digest("hex"),
      "x-upload-authorization": `Bearer ${bearer}`,
    },
    body: text,
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read whatever JSON the API answered.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe("a 200 MB upload through the presign API", () => {
  it("arrives intact from parallel, retried parts and is announced on the bus and to the webhook", async () => {
    const size = 200 * MIB;
    const file = await writeRandomFile("big.mp4", size);
    const { reader, close } = await fileSource(file.path, "holiday video.mp4", "video/mp4");
    // Part 3's first attempt dies on the network, part 7's first answer is a 503.
    const flaky = flakyFetch((part, attempt) =>
      attempt === 1 && part === 3 ? "network" : attempt === 1 && part === 7 ? "5xx" : undefined,
    );
    let inFlight = 0;
    let maxInFlight = 0;
    const fractions: number[] = [];

    const started = performance.now();
    const result = await uploadFile({
      endpoint: `${api.url}/_uploads`,
      file: reader,
      getToken: () => token(),
      concurrency: 4,
      retry: FAST_RETRY,
      onProgress: (progress) => fractions.push(progress.fraction),
      fetch: async (input, init) => {
        if (!isPartPut(input, init)) return flaky.fetchImpl(input, init);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          return await flaky.fetchImpl(input, init);
        } finally {
          inFlight--;
        }
      },
    }).finally(close);
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `200 MB upload: ${seconds.toFixed(1)} s, ${result.partCount} parts, ${maxInFlight} in parallel`,
    );

    expect(result).toMatchObject({ size, contentType: "video/mp4", partCount: 13, partsResumed: 0 });
    expect(result.key).toMatch(/^storefront\/[A-Za-z0-9_-]{22}\/holiday-video\.mp4$/);
    expect(maxInFlight).toBe(4);
    expect(flaky.attempts.get(3)).toBe(2);
    expect(flaky.attempts.get(7)).toBe(2);
    expect([...flaky.attempts.values()].reduce((sum, n) => sum + n, 0)).toBe(13 + 2);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    // The stored object is byte for byte the file.
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: result.key }));
    expect(head.ContentLength).toBe(size);
    expect(head.ContentType).toBe("video/mp4");
    expect(await storedSha256(result.key)).toBe(file.sha256);

    // The completion handler announced it.
    await Promise.all(completions);
    expect(putEvents).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const entry = putEvents.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({
      Source: "gantry.upload",
      DetailType: "Upload Completed",
      EventBusName: "default",
    });
    const detail = JSON.parse(entry.Detail!);
    expect(detail).toMatchObject({
      schemaVersion: 1,
      app: "storefront",
      bucket: BUCKET,
      key: result.key,
      size,
      contentType: "video/mp4",
      etag: result.etag,
      uploadedBy: "user-42",
    });
    expect(webhooks).toHaveLength(1);
    const [webhook] = webhooks;
    expect(JSON.parse(webhook!.body)).toEqual({ type: "upload.completed", detail });
    const verify = (secret: string, body = webhook!.body) =>
      verifyUploadWebhook({
        secret,
        body,
        timestamp: webhook!.headers["x-gantry-request-timestamp"] as string,
        signature: webhook!.headers["x-gantry-signature"] as string,
      });
    expect(await verify(WEBHOOK_SECRET)).toBe(true);
    expect(await verify("another-secret-0123456789abcdef0123")).toBe(false);
    expect(await verify(WEBHOOK_SECRET, webhook!.body.replace(String(size), String(size + 1)))).toBe(false);
  }, 90_000);
});

describe("refusals come before any URL", () => {
  const huge: RangeReader = {
    size: 2048 * MIB,
    read: () => Promise.reject(new Error("a refused upload must not be read")),
  };

  it("refuses an oversize file with 413 and never touches S3", async () => {
    const before = s3Requests;
    const puts: string[] = [];
    const error = await uploadFile({
      endpoint: `${api.url}/_uploads`,
      file: huge,
      filename: "too-big.mp4",
      contentType: "video/mp4",
      getToken: () => token(),
      fetch: (input, init) => {
        if (init?.method === "PUT") puts.push(String(input));
        return fetch(input, init);
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: "too_large", status: 413, retryable: false });
    expect(puts).toEqual([]);
    expect(s3Requests).toBe(before);
  });

  it("refuses a type outside the allowlist with 415 and never touches S3", async () => {
    const before = s3Requests;
    const answer = await apiCall("create", {
      filename: "run.sh",
      contentType: "text/x-shellscript",
      size: 10,
    });
    expect(answer).toEqual({
      status: 415,
      body: {
        error: "unsupported_media_type",
        message: "text/x-shellscript is not accepted; allowed: video/mp4, image/*, application/octet-stream",
      },
    });
    expect(s3Requests).toBe(before);
  });

  it("refuses callers without a valid token, and another caller's upload", async () => {
    const before = s3Requests;
    const unsigned = await fetch(`${api.url}/_uploads/create`, {
      method: "POST",
      headers: { "x-amz-content-sha256": createHash("sha256").update("{}").digest("hex") },
      body: "{}",
    });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("www-authenticate")).toContain("Bearer");
    const expired = await apiCall(
      "create",
      { filename: "a.png", contentType: "image/png", size: 10 },
      token("user-42", { exp: 1 }),
    );
    expect(expired).toEqual({
      status: 401,
      body: { error: "unauthorized", message: "the token has expired" },
    });
    const wrongAudience = await apiCall(
      "create",
      { filename: "a.png", contentType: "image/png", size: 10 },
      token("user-42", { aud: "another-app" }),
    );
    expect(wrongAudience.status).toBe(401);
    expect(s3Requests).toBe(before);

    const started = await apiCall("create", { filename: "a.png", contentType: "image/png", size: 10 });
    expect(started.status).toBe(201);
    const checksumSha256 = createHash("sha256").update("0123456789").digest("base64");
    const stolen = await apiCall(
      "sign",
      { token: started.body.token, parts: [{ partNumber: 1, checksumSha256 }] },
      token("user-7"),
    );
    expect(stolen).toEqual({
      status: 403,
      body: { error: "forbidden", message: "this upload was started by another caller" },
    });
    const tampered = `${started.body.token.slice(0, -2)}AA`;
    expect(
      (await apiCall("sign", { token: tampered, parts: [{ partNumber: 1, checksumSha256 }] })).status,
    ).toBe(403);
    const beyondPlan = await apiCall("sign", {
      token: started.body.token,
      parts: [{ partNumber: 2, checksumSha256 }],
    });
    expect(beyondPlan).toEqual({
      status: 422,
      body: { error: "invalid_parts", message: "part 2 is outside 1..1" },
    });
    const incomplete = await apiCall("complete", { token: started.body.token, parts: [] });
    expect(incomplete.status).toBe(400);
  });
});

describe("presigned part URLs", () => {
  it("are bounded in time: an expired URL is refused by S3, and the client re-signs and succeeds", async () => {
    const size = 6 * MIB;
    const bytes = randomBytes(size);
    const started = await apiCall("create", { filename: "photo.png", contentType: "image/png", size });
    expect(started.body).toMatchObject({ partSize: 16 * MIB, partCount: 1 });
    const checksumSha256 = createHash("sha256").update(bytes).digest("base64");

    clockSkewMs = -60 * 60 * 1000; // signed an hour ago: valid for 300 s, so expired now
    const expired = await apiCall("sign", {
      token: started.body.token,
      parts: [{ partNumber: 1, checksumSha256 }],
    });
    expect(expired.status).toBe(200);
    const part = expired.body.parts[0];
    expect(part).toMatchObject({
      partNumber: 1,
      method: "PUT",
      size,
      headers: { "x-amz-checksum-sha256": checksumSha256 },
    });
    expect(new URL(part.url).searchParams.get("X-Amz-Expires")).toBe("300");
    expect(new URL(part.url).searchParams.get("X-Amz-SignedHeaders")).toBe(
      "content-length;host;x-amz-checksum-sha256",
    );
    const refused = await fetch(part.url, { method: "PUT", headers: part.headers, body: bytes });
    expect(refused.status).toBe(403);

    // The client: its first URL is expired too; S3's 403 makes it sign again with the right time.
    let signs = 0;
    const result = await uploadFile({
      endpoint: `${api.url}/_uploads`,
      file: bytes,
      filename: "photo.png",
      contentType: "image/png",
      getToken: () => token(),
      retry: FAST_RETRY,
      fetch: (input, init) => {
        if (String(input).endsWith("/_uploads/sign")) clockSkewMs = signs++ === 0 ? -60 * 60 * 1000 : 0;
        return fetch(input, init);
      },
    });
    expect(signs).toBe(2);
    expect(result.size).toBe(size);
    expect(await storedSha256(result.key)).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("give up after the retries and report the last failure", async () => {
    const flaky = flakyFetch(() => "5xx");
    const error = await uploadFile({
      endpoint: `${api.url}/_uploads`,
      file: randomBytes(1024),
      filename: "a.bin",
      getToken: () => token(),
      retry: { ...FAST_RETRY, retries: 2 },
      fetch: flaky.fetchImpl,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "part_failed", status: 503 });
    expect(flaky.attempts.get(1)).toBe(3);
  });
});
