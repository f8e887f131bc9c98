import { describe, expect, it } from "vitest";
import {
  abortUpload,
  type CompleteOutcome,
  completeUpload,
  listUploadParts,
  MIB,
  type MultipartUploadStore,
  onUploadCompleted,
  type PresignPartInput,
  type StoredPart,
  signUploadParts,
  startUpload,
  type UploadCompletedDetail,
  type UploadDeps,
  type UploadSession,
} from "../src/index.ts";

/** In-memory ports: what a use case asked for, in order. Core tests only (DESIGN, testing doctrine). */
function fakes(now = new Date("2026-11-22T10:00:00Z")) {
  const calls: string[] = [];
  const presigned: PresignPartInput[] = [];
  let stored: StoredPart[] | undefined = [];
  let completeOutcome: CompleteOutcome = { kind: "completed", etag: "etag-final", checksumSha256: "c-3" };
  const store: MultipartUploadStore = {
    create: async (input) => {
      calls.push(`create ${input.key} ${input.contentType} ${input.filename} ${input.subject}`);
      return { uploadId: "upload-1" };
    },
    presignPart: async (input) => {
      presigned.push(input);
      return `https://s3.test/${input.key}?partNumber=${input.partNumber}`;
    },
    listParts: async () => {
      calls.push("listParts");
      return stored;
    },
    complete: async (input) => {
      calls.push(`complete ${input.parts.map((part) => `${part.partNumber}:${part.etag}`).join(",")}`);
      return completeOutcome;
    },
    abort: async () => {
      calls.push("abort");
    },
  };
  const clock = { current: now, now: () => clock.current };
  const deps: UploadDeps = {
    policy: {
      app: "storefront",
      contentTypes: ["video/mp4"],
      maxObjectBytes: 100 * MIB,
      partBytes: 16 * MIB,
      urlExpirySeconds: 300,
      sessionHours: 2,
    },
    store,
    // A transparent sealer: the HMAC is the runtime's (tested there); here only the binding matters.
    sessions: {
      seal: (session) => JSON.stringify(session),
      open: (token) => {
        try {
          return JSON.parse(token) as UploadSession;
        } catch {
          return undefined;
        }
      },
    },
    ids: { newId: () => "Id0123456789abcdefghij" },
    clock,
  };
  return {
    deps,
    calls,
    presigned,
    clock,
    setStored: (parts: StoredPart[] | undefined) => {
      stored = parts;
    },
    setComplete: (outcome: CompleteOutcome) => {
      completeOutcome = outcome;
    },
  };
}

const caller = { subject: "user-42" };
const checksum = (n: number) => `${String(n).padStart(43, "A")}=`;

async function started(f: ReturnType<typeof fakes>, size = 40 * MIB) {
  const result = await startUpload(f.deps, caller, {
    filename: "My Clip.mp4",
    contentType: "video/mp4",
    size,
  });
  if (!result.ok) throw new Error(result.refusal.message);
  return result.value;
}

describe("startUpload", () => {
  it("plans, chooses the key, creates the upload and seals the session", async () => {
    const f = fakes();
    const upload = await started(f);
    expect(upload).toMatchObject({
      key: "storefront/Id0123456789abcdefghij/My-Clip.mp4",
      uploadId: "upload-1",
      contentType: "video/mp4",
      size: 40 * MIB,
      partSize: 16 * MIB,
      partCount: 3,
      expiresAt: "2026-11-22T12:00:00.000Z",
    });
    expect(JSON.parse(upload.token)).toEqual({
      v: 1,
      app: "storefront",
      key: upload.key,
      uploadId: "upload-1",
      sub: "user-42",
      contentType: "video/mp4",
      size: 40 * MIB,
      partSize: 16 * MIB,
      partCount: 3,
      exp: Date.parse("2026-11-22T12:00:00Z") / 1000,
    });
    expect(f.calls).toEqual([`create ${upload.key} video/mp4 My-Clip.mp4 user-42`]);
  });

  it("creates nothing for a refused request", async () => {
    const f = fakes();
    const result = await startUpload(f.deps, caller, {
      filename: "a.mp4",
      contentType: "video/mp4",
      size: 101 * MIB,
    });
    expect(result.ok).toBe(false);
    expect(f.calls).toEqual([]);
  });
});

describe("signUploadParts", () => {
  it("signs the exact length and checksum of each part, valid for the policy's expiry", async () => {
    const f = fakes();
    const upload = await started(f);
    const result = await signUploadParts(f.deps, caller, {
      token: upload.token,
      parts: [
        { partNumber: 3, checksumSha256: checksum(3) },
        { partNumber: 1, checksumSha256: checksum(1) },
      ],
    });
    expect(result).toEqual({
      ok: true,
      value: {
        expiresAt: "2026-11-22T10:05:00.000Z",
        parts: [
          {
            partNumber: 3,
            method: "PUT",
            size: 8 * MIB,
            url: `https://s3.test/${upload.key}?partNumber=3`,
            headers: { "x-amz-checksum-sha256": checksum(3) },
          },
          {
            partNumber: 1,
            method: "PUT",
            size: 16 * MIB,
            url: `https://s3.test/${upload.key}?partNumber=1`,
            headers: { "x-amz-checksum-sha256": checksum(1) },
          },
        ],
      },
    });
    expect(
      f.presigned.map(({ partNumber, contentLength, expiresInSeconds, signedAt }) => ({
        partNumber,
        contentLength,
        expiresInSeconds,
        signedAt,
      })),
    ).toEqual([
      { partNumber: 3, contentLength: 8 * MIB, expiresInSeconds: 300, signedAt: f.clock.current },
      { partNumber: 1, contentLength: 16 * MIB, expiresInSeconds: 300, signedAt: f.clock.current },
    ]);
  });

  it.each([
    {
      name: "another caller",
      caller: { subject: "user-7" },
      mutate: (s: UploadSession) => s,
      error: "forbidden",
    },
    {
      name: "another app",
      caller,
      mutate: (s: UploadSession) => ({ ...s, app: "billing" }),
      error: "forbidden",
    },
    {
      name: "an expired session",
      caller,
      mutate: (s: UploadSession) => ({ ...s, exp: s.exp - 2 * 3600 }),
      error: "upload_expired",
    },
    {
      name: "a part beyond the plan",
      caller,
      mutate: (s: UploadSession) => ({ ...s, partCount: 2 }),
      error: "invalid_parts",
    },
  ])("refuses $name without signing anything", async ({ caller: who, mutate, error }) => {
    const f = fakes();
    const upload = await started(f);
    const token = JSON.stringify(mutate(JSON.parse(upload.token)));
    const result = await signUploadParts(f.deps, who, {
      token,
      parts: [{ partNumber: 3, checksumSha256: checksum(3) }],
    });
    expect(result.ok ? undefined : result.refusal.error).toBe(error);
    expect(f.presigned).toEqual([]);
  });

  it("refuses a token that does not open", async () => {
    const f = fakes();
    const result = await signUploadParts(f.deps, caller, {
      token: "not-a-sealed-token",
      parts: [{ partNumber: 1, checksumSha256: checksum(1) }],
    });
    expect(result).toEqual({
      ok: false,
      refusal: { error: "forbidden", message: "the upload token is not valid here" },
    });
  });
});

describe("listUploadParts, completeUpload, abortUpload", () => {
  it("reports only parts of their planned size, in order", async () => {
    const f = fakes();
    const upload = await started(f);
    f.setStored([
      { partNumber: 2, size: 16 * MIB, etag: "e2" },
      { partNumber: 1, size: 5 * MIB, etag: "short" },
      { partNumber: 3, size: 8 * MIB, etag: "e3", checksumSha256: checksum(3) },
      { partNumber: 4, size: 8 * MIB, etag: "stray" },
    ]);
    expect(await listUploadParts(f.deps, caller, { token: upload.token })).toEqual({
      ok: true,
      value: {
        parts: [
          { partNumber: 2, size: 16 * MIB, etag: "e2" },
          { partNumber: 3, size: 8 * MIB, etag: "e3", checksumSha256: checksum(3) },
        ],
      },
    });
    f.setStored(undefined);
    const gone = await listUploadParts(f.deps, caller, { token: upload.token });
    expect(gone.ok ? undefined : gone.refusal.error).toBe("upload_not_found");
  });

  it("completes with every part in order and unquoted ETags; refuses gaps before calling S3", async () => {
    const f = fakes();
    const upload = await started(f);
    const gap = await completeUpload(f.deps, caller, {
      token: upload.token,
      parts: [1, 3].map((n) => ({ partNumber: n, etag: `e${n}`, checksumSha256: checksum(n) })),
    });
    expect(gap).toEqual({ ok: false, refusal: { error: "invalid_parts", message: "parts missing: 2" } });
    expect(f.calls.filter((call) => call.startsWith("complete"))).toEqual([]);

    const done = await completeUpload(f.deps, caller, {
      token: upload.token,
      parts: [3, 1, 2].map((n) => ({ partNumber: n, etag: `"e${n}"`, checksumSha256: checksum(n) })),
    });
    expect(done).toEqual({
      ok: true,
      value: {
        key: upload.key,
        size: 40 * MIB,
        contentType: "video/mp4",
        etag: "etag-final",
        checksumSha256: "c-3",
      },
    });
    expect(f.calls.at(-1)).toBe("complete 1:e1,2:e2,3:e3");
  });

  it.each([
    { outcome: { kind: "gone" } as const, error: "upload_not_found" },
    { outcome: { kind: "rejected", reason: "InvalidPart" } as const, error: "invalid_parts" },
  ])("answers S3's $outcome.kind as $error", async ({ outcome, error }) => {
    const f = fakes();
    const upload = await started(f, 10);
    f.setComplete(outcome);
    const result = await completeUpload(f.deps, caller, {
      token: upload.token,
      parts: [{ partNumber: 1, etag: "e1", checksumSha256: checksum(1) }],
    });
    expect(result.ok ? undefined : result.refusal.error).toBe(error);
  });

  it("aborts even after the session expired, but only for its caller", async () => {
    const f = fakes();
    const upload = await started(f);
    f.clock.current = new Date("2026-11-23T10:00:00Z");
    expect(await abortUpload(f.deps, caller, { token: upload.token })).toEqual({
      ok: true,
      value: { aborted: true },
    });
    const other = await abortUpload(f.deps, { subject: "user-7" }, { token: upload.token });
    expect(other.ok).toBe(false);
    expect(f.calls.filter((call) => call === "abort")).toHaveLength(1);
  });
});

describe("onUploadCompleted", () => {
  const object = {
    size: 10,
    contentType: "video/mp4",
    etag: "abc-2",
    checksum: { algorithm: "SHA256" as const, type: "COMPOSITE", value: "xyz=-2" },
    uploadedBy: "user-42",
  };

  function completion(found = true) {
    const published: UploadCompletedDetail[] = [];
    const hooks: string[] = [];
    return {
      published,
      hooks,
      deps: {
        objects: { describe: async () => (found ? object : undefined) },
        publish: async (detail: UploadCompletedDetail) => {
          published.push(detail);
        },
        apps: new Set(["storefront"]),
        webhook: async (app: string) => {
          hooks.push(app);
          return "sent" as const;
        },
      },
    };
  }
  const created = {
    bucket: "uploads",
    key: "storefront/Id0123456789abcdefghij/clip.mp4",
    size: 10,
    eventTime: "2026-11-22T10:00:00.000Z",
    sequencer: "0055AED6DCD90281E5",
  };

  it("publishes what S3 stored, then calls the webhook", async () => {
    const c = completion();
    expect(await onUploadCompleted(c.deps, created)).toEqual({
      status: "announced",
      app: "storefront",
      key: created.key,
      webhook: "sent",
    });
    expect(c.published).toEqual([
      {
        schemaVersion: 1,
        app: "storefront",
        bucket: "uploads",
        key: created.key,
        size: 10,
        contentType: "video/mp4",
        etag: "abc-2",
        checksum: { algorithm: "SHA256", type: "COMPOSITE", value: "xyz=-2" },
        uploadedBy: "user-42",
        completedAt: created.eventTime,
        sequencer: created.sequencer,
      },
    ]);
    expect(c.hooks).toEqual(["storefront"]);
  });

  it.each([
    { name: "another app's prefix", key: "billing/Id0123456789abcdefghij/x.pdf", found: true },
    { name: "a key Gantry did not choose", key: "storefront/x.pdf", found: true },
    { name: "an object deleted meanwhile", key: created.key, found: false },
  ])("ignores $name", async ({ key, found }) => {
    const c = completion(found);
    expect((await onUploadCompleted(c.deps, { ...created, key })).status).toBe("ignored");
    expect(c.published).toEqual([]);
    expect(c.hooks).toEqual([]);
  });
});
