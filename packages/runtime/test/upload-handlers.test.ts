import type { UploadDeps } from "@gantry/core";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  createUploadPresignHandler,
  decodeS3EventKey,
  localLambdaContext,
  parseObjectCreatedEvent,
  parseUploadCompletedConfig,
  parseUploadPresignConfig,
  RuntimeConfigError,
} from "../src/index.ts";

function event(
  path: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): LambdaFunctionURLEvent {
  return {
    rawPath: path,
    headers,
    body,
    isBase64Encoded: false,
    requestContext: { requestId: "r-1", http: { method, path } },
  } as unknown as LambdaFunctionURLEvent;
}

const storeFailure = (error: Error) =>
  ({
    policy: {
      app: "storefront",
      contentTypes: ["video/mp4"],
      maxObjectBytes: 1000,
      partBytes: 5 * 1024 * 1024,
      urlExpirySeconds: 60,
      sessionHours: 1,
    },
    store: { create: () => Promise.reject(error) },
    sessions: { seal: () => "t", open: () => undefined },
    ids: { newId: () => "Id0123456789abcdefghij" },
    clock: { now: () => new Date() },
  }) as unknown as UploadDeps;

function handlerWith(uploads: UploadDeps) {
  return createUploadPresignHandler(() => ({
    uploads,
    authorizer: {
      authorize: async (headers) =>
        headers["x-upload-authorization"] === "Bearer good"
          ? { ok: true, value: { subject: "user-42" } }
          : { ok: false, refusal: { error: "unauthorized", message: "no" } },
    },
  }));
}

const create = JSON.stringify({ filename: "a.mp4", contentType: "video/mp4", size: 10 });
const auth = { "X-Upload-Authorization": "Bearer good" };

describe("the presign function's HTTP shell", () => {
  const handler = handlerWith(storeFailure(new Error("unused")));

  it.each([
    { path: "/_uploads/nope", method: "POST", status: 404, error: "not_found" },
    { path: "/other/create", method: "POST", status: 404, error: "not_found" },
    { path: "/_uploads/create", method: "GET", status: 405, error: "method_not_allowed" },
    { path: "/_uploads/create", method: "POST", headers: {}, status: 401, error: "unauthorized" },
    { path: "/_uploads/create", method: "POST", body: "{oops", status: 400, error: "bad_request" },
    {
      path: "/_uploads/create",
      method: "POST",
      body: JSON.stringify({ filename: "a", contentType: "video/mp4" }),
      status: 400,
      error: "bad_request",
    },
    {
      path: "/_uploads/create",
      method: "POST",
      body: JSON.stringify({ filename: "a", contentType: "video/mp4", size: 10, key: "mine" }),
      status: 400,
      error: "bad_request",
    },
  ])("$method $path → $status $error", async ({ path, method, body, headers, status, error }) => {
    const response = await handler(
      event(path, method, body, headers ?? auth),
      localLambdaContext("upload-presign"),
    );
    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject({
      "content-type": "application/json",
      "cache-control": "no-store",
    });
    expect(JSON.parse(response.body as string)).toMatchObject({ error });
  });

  it("names the offending field", async () => {
    const response = await handler(
      event(
        "/_uploads/create",
        "POST",
        JSON.stringify({ filename: "a", contentType: "video/mp4", size: -1 }),
        auth,
      ),
      localLambdaContext("upload-presign"),
    );
    expect(JSON.parse(response.body as string).message).toMatch(/^size: /);
  });

  it("reads base64 bodies", async () => {
    const response = await handlerWith(
      storeFailure(Object.assign(new Error("slow down"), { name: "SlowDown", $fault: "server" })),
    )(
      {
        ...event("/_uploads/create", "POST", Buffer.from(create).toString("base64"), auth),
        isBase64Encoded: true,
      },
      localLambdaContext("upload-presign"),
    );
    expect(response.statusCode).toBe(503);
  });

  it.each([
    {
      error: Object.assign(new Error("slow down"), { name: "SlowDown", $fault: "server" }),
      status: 503,
      body: { error: "unavailable", message: "try again shortly" },
    },
    {
      error: Object.assign(new Error("denied"), { name: "AccessDenied", $fault: "client" }),
      status: 500,
      body: { error: "internal", message: "the upload service failed" },
    },
  ])("answers an S3 failure ($error.name) with $status and no details", async ({ error, status, body }) => {
    const response = await handlerWith(storeFailure(error))(
      event("/_uploads/create", "POST", create, auth),
      localLambdaContext("upload-presign"),
    );
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body as string)).toEqual(body);
  });
});

describe("S3 notifications", () => {
  it("takes ObjectCreated records, decoding keys", () => {
    expect(
      parseObjectCreatedEvent({
        Records: [
          {
            eventName: "ObjectCreated:CompleteMultipartUpload",
            eventTime: "2026-11-22T10:00:00.000Z",
            s3: {
              bucket: { name: "uploads" },
              object: {
                key: "storefront/Id0123456789abcdefghij/my+file%281%29.mp4",
                size: 5,
                sequencer: "00A1",
              },
            },
          },
          {
            eventName: "ObjectRemoved:Delete",
            eventTime: "x",
            s3: { bucket: { name: "uploads" }, object: { key: "k" } },
          },
        ],
      }),
    ).toEqual([
      {
        bucket: "uploads",
        key: "storefront/Id0123456789abcdefghij/my file(1).mp4",
        size: 5,
        eventTime: "2026-11-22T10:00:00.000Z",
        sequencer: "00A1",
      },
    ]);
    expect(decodeS3EventKey("a%2Bb+c")).toBe("a+b c");
  });

  it("ignores S3's test event and drops anything else malformed", () => {
    expect(parseObjectCreatedEvent({ Service: "Amazon S3", Event: "s3:TestEvent" })).toEqual([]);
    expect(() => parseObjectCreatedEvent({ Records: [] })).toThrow(
      expect.objectContaining({ name: "EventContractError" }),
    );
  });
});

describe("upload function configuration", () => {
  const valid = {
    AWS_REGION: "us-east-1",
    GANTRY_UPLOAD_BUCKET: "gantry-uploads",
    GANTRY_UPLOAD_POLICY: JSON.stringify({
      app: "storefront",
      contentTypes: ["video/mp4"],
      maxObjectBytes: 1000,
    }),
    GANTRY_UPLOAD_AUTH: JSON.stringify({ issuer: "i", audience: "a", algorithms: ["HS256"] }),
    GANTRY_UPLOAD_AUTH_KEY: "x".repeat(32),
    GANTRY_UPLOAD_TOKEN_KEY: "y".repeat(32),
  };

  it("parses a valid environment with defaults", () => {
    expect(parseUploadPresignConfig(valid)).toMatchObject({
      bucket: "gantry-uploads",
      policy: { app: "storefront", partBytes: 16 * 1024 * 1024, urlExpirySeconds: 300, sessionHours: 24 },
      auth: { clockToleranceSeconds: 30 },
      s3: { region: "us-east-1", forcePathStyle: false },
    });
  });

  it("names every problem and never a secret's value", () => {
    const secret = "super-secret-token-key-value";
    let thrown: RuntimeConfigError | undefined;
    try {
      parseUploadPresignConfig({
        ...valid,
        GANTRY_UPLOAD_BUCKET: "",
        GANTRY_UPLOAD_AUTH: "{",
        GANTRY_UPLOAD_TOKEN_KEY: secret,
      });
    } catch (error) {
      thrown = error as RuntimeConfigError;
    }
    expect(thrown).toBeInstanceOf(RuntimeConfigError);
    expect(thrown?.problems).toEqual([
      "GANTRY_UPLOAD_BUCKET is required",
      "GANTRY_UPLOAD_AUTH must be JSON",
      "GANTRY_UPLOAD_TOKEN_KEY must be at least 32 bytes",
    ]);
    expect(thrown?.message).not.toContain(secret);
  });

  it("reports an invalid policy by its variable", () => {
    expect(() =>
      parseUploadPresignConfig({ ...valid, GANTRY_UPLOAD_POLICY: JSON.stringify({ app: "storefront" }) }),
    ).toThrow(/GANTRY_UPLOAD_POLICY is invalid: contentTypes: /);
  });

  it("needs a webhook secret for every app with a webhook", () => {
    expect(() =>
      parseUploadCompletedConfig({
        AWS_REGION: "us-east-1",
        GANTRY_UPLOAD_APPS: JSON.stringify({
          storefront: { webhookUrl: "https://shop.example.com/hook" },
          billing: {},
        }),
      }),
    ).toThrow("GANTRY_UPLOAD_WEBHOOK_SECRETS (storefront) is required: storefront has a webhook");
  });
});
