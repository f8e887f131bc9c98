import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  abortUpload,
  backoffDelay,
  memoryResumeStore,
  UploadError,
  type UploadProgress,
  uploadFile,
  verifyUploadWebhook,
} from "../src/index.ts";
import { fakeUploadBackend, hmacHex } from "./fake-upload-backend.ts";

const PART = 1024;
const FAST = { baseDelayMs: 1, maxDelayMs: 5 };
const base = { endpoint: "https://app.test/_uploads/", getToken: () => "user-token", retry: FAST };

describe("uploadFile", () => {
  it("uploads every part with at most `concurrency` in flight, reports progress, completes in order", async () => {
    const backend = fakeUploadBackend({ partSize: PART });
    const file = randomBytes(PART * 9 + 100);
    const progress: UploadProgress[] = [];
    const result = await uploadFile({
      ...base,
      file,
      filename: "a.bin",
      contentType: "application/octet-stream",
      concurrency: 3,
      fetch: backend.fetch,
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ size: file.length, partCount: 10, partsResumed: 0 });
    expect(backend.maxInFlight).toBe(3);
    expect(backend.puts()).toHaveLength(10);
    expect(progress[0]).toMatchObject({ uploadedBytes: 0, fraction: 0, partsDone: 0, partCount: 10 });
    expect(progress.at(-1)).toMatchObject({ uploadedBytes: file.length, fraction: 1, partsDone: 10 });
    expect(progress.map((p) => p.uploadedBytes)).toEqual(
      [...progress.map((p) => p.uploadedBytes)].sort((a, b) => a - b),
    );
    expect(backend.calls.at(-1)).toBe("complete");
  });

  it("accepts a Blob and takes its name and type", async () => {
    const backend = fakeUploadBackend({ partSize: PART });
    const blob = Object.assign(new Blob([randomBytes(PART + 1)], { type: "image/png" }), { name: "p.png" });
    const result = await uploadFile({ ...base, file: blob, fetch: backend.fetch });
    expect(result).toMatchObject({ contentType: "image/png", key: "storefront/up-1/p.png", partCount: 2 });
  });

  it("retries a failed part on a freshly signed URL, with backoff", async () => {
    const backend = fakeUploadBackend({
      partSize: PART,
      intercept: ({ route, partNumber, attempt }) => {
        if (route === "put" && partNumber === 2 && attempt <= 2)
          return new Response("", { status: attempt === 1 ? 500 : 403 });
        if (route === "put" && partNumber === 3 && attempt === 1) throw new TypeError("fetch failed");
        return undefined;
      },
    });
    const result = await uploadFile({ ...base, file: randomBytes(PART * 3), fetch: backend.fetch });
    expect(result.partCount).toBe(3);
    expect(backend.puts().filter((put) => put === "PUT 2")).toHaveLength(3);
    expect(backend.puts().filter((put) => put === "PUT 3")).toHaveLength(2);
    expect(backend.calls.filter((call) => call === "sign")).toHaveLength(3 + 2 + 1);
  });

  it("retries the API on 5xx but stops at once on a refusal", async () => {
    const flaky = fakeUploadBackend({
      partSize: PART,
      intercept: ({ route, attempt }) =>
        route === "create" && attempt === 1
          ? new Response('{"error":"unavailable","message":"later"}', { status: 503 })
          : undefined,
    });
    await uploadFile({ ...base, file: randomBytes(10), fetch: flaky.fetch });
    expect(flaky.calls.filter((call) => call === "create")).toHaveLength(2);

    const refusing = fakeUploadBackend({
      partSize: PART,
      intercept: ({ route }) =>
        route === "sign"
          ? new Response('{"error":"forbidden","message":"not yours"}', { status: 403 })
          : undefined,
    });
    const error = await uploadFile({ ...base, file: randomBytes(10), fetch: refusing.fetch }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: "forbidden", status: 403, retryable: false, message: "not yours" });
    expect(refusing.calls.filter((call) => call === "sign")).toHaveLength(1);
    expect(refusing.puts()).toEqual([]);
  });

  it("fails when S3's composite checksum is not the parts' own", async () => {
    const backend = fakeUploadBackend({ partSize: PART, completeChecksum: "AAAA-2" });
    const error = await uploadFile({ ...base, file: randomBytes(PART * 2), fetch: backend.fetch }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "checksum_mismatch" });
  });

  it("needs a readable ETag (the bucket's CORS rule must expose it)", async () => {
    const backend = fakeUploadBackend({
      partSize: PART,
      intercept: ({ route }) => (route === "put" ? new Response(null, { status: 200 }) : undefined),
    });
    const error = await uploadFile({ ...base, file: randomBytes(10), fetch: backend.fetch }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "etag_unreadable", retryable: false });
  });
});

describe("resuming after a reload", () => {
  async function interrupted(
    backend: ReturnType<typeof fakeUploadBackend>,
    file: Uint8Array,
    store = memoryResumeStore(),
  ) {
    const controller = new AbortController();
    const error = await uploadFile({
      ...base,
      file,
      filename: "movie.mp4",
      contentType: "video/mp4",
      concurrency: 1,
      fetch: backend.fetch,
      resume: { store },
      signal: controller.signal,
      onProgress: (p) => {
        if (p.partsDone === 2) controller.abort(new DOMException("the page was closed", "AbortError"));
      },
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(store.entries.size).toBe(1);
    return store;
  }

  it("asks which parts S3 holds and uploads only the others", async () => {
    const backend = fakeUploadBackend({ partSize: PART, listChecksums: true });
    const file = randomBytes(PART * 5);
    const store = await interrupted(backend, file);
    expect(backend.puts()).toEqual(["PUT 1", "PUT 2"]);

    const progress: UploadProgress[] = [];
    const result = await uploadFile({
      ...base,
      file,
      filename: "movie.mp4",
      contentType: "video/mp4",
      fetch: backend.fetch,
      resume: { store },
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ partCount: 5, partsResumed: 2, key: "storefront/up-1/movie.mp4" });
    expect(backend.calls.filter((call) => call === "create")).toHaveLength(1);
    expect(backend.calls).toContain("parts");
    expect(backend.puts().slice(2).sort()).toEqual(["PUT 3", "PUT 4", "PUT 5"]);
    expect(progress.at(-1)?.fraction).toBe(1);
    expect(store.entries.size).toBe(0);
  });

  it("re-uploads a stored part whose checksum is not the local part's", async () => {
    const backend = fakeUploadBackend({ partSize: PART, listChecksums: true });
    const file = randomBytes(PART * 3);
    const store = await interrupted(backend, file);
    const changed = Uint8Array.from(file);
    changed[10] = (changed[10]! + 1) % 256;
    const result = await uploadFile({
      ...base,
      file: changed,
      filename: "movie.mp4",
      contentType: "video/mp4",
      fetch: backend.fetch,
      resume: { store },
    });
    expect(result.partsResumed).toBe(1);
    expect(backend.puts().slice(2).sort()).toEqual(["PUT 1", "PUT 3"]);
  });

  it("starts over when the upload is gone", async () => {
    const backend = fakeUploadBackend({ partSize: PART });
    const file = randomBytes(PART * 3);
    const store = await interrupted(backend, file);
    for (const upload of backend.uploads.values()) upload.completed = true;
    const result = await uploadFile({
      ...base,
      file,
      filename: "movie.mp4",
      contentType: "video/mp4",
      fetch: backend.fetch,
      resume: { store },
    });
    expect(result).toMatchObject({ key: "storefront/up-2/movie.mp4", partsResumed: 0 });
    expect(backend.calls.filter((call) => call === "create")).toHaveLength(2);
    expect(store.entries.size).toBe(0);
  });

  it("ignores a corrupt or mismatched record", async () => {
    const backend = fakeUploadBackend({ partSize: PART });
    const store = memoryResumeStore();
    store.setItem("k", "{not json");
    await uploadFile({ ...base, file: randomBytes(10), fetch: backend.fetch, resume: { store, key: "k" } });
    expect(backend.calls.filter((call) => call === "parts")).toEqual([]);
    expect(store.entries.size).toBe(0);
  });

  it("abortUpload discards the upload and forgets it", async () => {
    const backend = fakeUploadBackend({ partSize: PART });
    const store = await interrupted(backend, randomBytes(PART * 3));
    const [key] = [...store.entries.keys()];
    expect(await abortUpload({ ...base, fetch: backend.fetch, resume: { store, key: key! } })).toBe(true);
    expect(backend.calls.at(-1)).toBe("abort");
    expect(store.entries.size).toBe(0);
    expect(await abortUpload({ ...base, fetch: backend.fetch, resume: { store, key: key! } })).toBe(false);
  });
});

describe("backoffDelay", () => {
  it("grows exponentially up to the cap, with full jitter", () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, () => 0.999))).toEqual([
      99, 199, 399, 799, 999,
    ]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });
});

describe("verifyUploadWebhook", () => {
  const secret = "whsec-0123456789abcdef0123456789abcdef";
  const body = JSON.stringify({ type: "upload.completed", detail: { key: "k" } });
  const now = new Date("2026-11-22T10:00:00Z");
  const timestamp = String(now.getTime() / 1000);
  const signature = `v1=${hmacHex(secret, `v1:${timestamp}:${body}`)}`;

  it.each([
    { name: "a genuine request", input: {}, valid: true },
    { name: "another secret", input: { secret: `${secret}x` }, valid: false },
    { name: "a changed body", input: { body: `${body} ` }, valid: false },
    { name: "a changed timestamp", input: { timestamp: String(Number(timestamp) + 1) }, valid: false },
    { name: "a stale request", input: { now: new Date(now.getTime() + 301_000) }, valid: false },
    { name: "no signature", input: { signature: null }, valid: false },
    { name: "another scheme", input: { signature: signature.replace("v1=", "v0=") }, valid: false },
  ])("$name → $valid", async ({ input, valid }) => {
    expect(await verifyUploadWebhook({ secret, body, timestamp, signature, now, ...input })).toBe(valid);
  });
});
