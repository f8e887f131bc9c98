import { createHmac } from "node:crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { UploadCompletedDetail } from "@gantry/core";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import {
  HttpUploadWebhook,
  PutEventsEntryError,
  S3MultipartUploads,
  S3UploadedObjects,
  signUploadWebhook,
  UploadEventsPublisher,
  WebhookDeliveryError,
} from "../src/index.ts";

const BUCKET = "gantry-uploads";
const KEY = "storefront/Id0123456789abcdefghij/clip.mp4";
const s3Client = new S3Client({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" },
  requestChecksumCalculation: "WHEN_REQUIRED",
});
const s3 = mockClient(s3Client);
const uploads = new S3MultipartUploads(s3Client, BUCKET);

const noSuchUpload = () =>
  new NoSuchUpload({ message: "The specified upload does not exist", $metadata: {} });
const s3Error = (name: string) =>
  new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: 400 }, message: name });

beforeEach(() => s3.reset());

describe("S3MultipartUploads", () => {
  it("creates the upload with its type, a safe disposition, SHA-256 checksums and the caller", async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-1" });
    expect(
      await uploads.create({
        key: KEY,
        contentType: "video/mp4",
        filename: "clip.mp4",
        subject: "ana@example.com",
      }),
    ).toEqual({
      uploadId: "u-1",
    });
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: KEY,
      ContentType: "video/mp4",
      ContentDisposition: 'attachment; filename="clip.mp4"',
      ChecksumAlgorithm: "SHA256",
      Metadata: { "gantry-uploaded-by": "ana%40example.com" },
    });
  });

  it("signs a part URL that binds length, checksum and lifetime", async () => {
    const url = new URL(
      await uploads.presignPart({
        key: KEY,
        uploadId: "u-1",
        partNumber: 7,
        contentLength: 16 * 1024 * 1024,
        checksumSha256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        expiresInSeconds: 300,
        signedAt: new Date("2026-11-22T10:00:00Z"),
      }),
    );
    expect(url.pathname).toBe(`/${KEY}`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      partNumber: "7",
      uploadId: "u-1",
      "X-Amz-Date": "20261122T100000Z",
      "X-Amz-Expires": "300",
      "X-Amz-SignedHeaders": "content-length;host;x-amz-checksum-sha256",
    });
    // The checksum travels as a signed header, not in the query string, and no SDK checksum is added.
    expect([...url.searchParams.keys()].filter((key) => /checksum/i.test(key))).toEqual([]);
  });

  it("lists every page of parts, unquoting ETags", async () => {
    s3.on(ListPartsCommand, { PartNumberMarker: undefined })
      .resolves({
        IsTruncated: true,
        NextPartNumberMarker: "2",
        Parts: [
          { PartNumber: 1, Size: 10, ETag: '"a"', ChecksumSHA256: "c1" },
          { PartNumber: 2, Size: 10, ETag: '"b"' },
        ],
      })
      .on(ListPartsCommand, { PartNumberMarker: "2" })
      .resolves({ IsTruncated: false, Parts: [{ PartNumber: 3, Size: 4, ETag: '"c"' }] });
    expect(await uploads.listParts({ key: KEY, uploadId: "u-1" })).toEqual([
      { partNumber: 1, size: 10, etag: "a", checksumSha256: "c1" },
      { partNumber: 2, size: 10, etag: "b" },
      { partNumber: 3, size: 4, etag: "c" },
    ]);
    expect(s3).toHaveReceivedCommandTimes(ListPartsCommand, 2);
    expect(s3).toHaveReceivedNthCommandWith(ListPartsCommand, 2, {
      Bucket: BUCKET,
      Key: KEY,
      UploadId: "u-1",
      PartNumberMarker: "2",
    });
  });

  it("answers undefined for an upload S3 no longer has; other errors propagate", async () => {
    s3.on(ListPartsCommand).rejects(noSuchUpload());
    expect(await uploads.listParts({ key: KEY, uploadId: "gone" })).toBeUndefined();
    s3.on(ListPartsCommand).rejects(s3Error("AccessDenied"));
    await expect(uploads.listParts({ key: KEY, uploadId: "u-1" })).rejects.toMatchObject({
      name: "AccessDenied",
    });
  });

  it("completes with quoted ETags and the part checksums", async () => {
    s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-2"', ChecksumSHA256: "comp=-2" });
    const parts = [
      { partNumber: 1, etag: "a", checksumSha256: "c1" },
      { partNumber: 2, etag: "b", checksumSha256: "c2" },
    ];
    expect(await uploads.complete({ key: KEY, uploadId: "u-1", parts })).toEqual({
      kind: "completed",
      etag: "final-2",
      checksumSha256: "comp=-2",
    });
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: KEY,
      UploadId: "u-1",
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"a"', ChecksumSHA256: "c1" },
          { PartNumber: 2, ETag: '"b"', ChecksumSHA256: "c2" },
        ],
      },
    });
  });

  it.each([
    { error: noSuchUpload(), outcome: { kind: "gone" } },
    { error: s3Error("InvalidPart"), outcome: { kind: "rejected", reason: "InvalidPart" } },
    { error: s3Error("EntityTooSmall"), outcome: { kind: "rejected", reason: "EntityTooSmall" } },
    { error: s3Error("BadDigest"), outcome: { kind: "rejected", reason: "BadDigest" } },
  ])("maps $error.name on complete", async ({ error, outcome }) => {
    s3.on(CompleteMultipartUploadCommand).rejects(error);
    expect(await uploads.complete({ key: KEY, uploadId: "u-1", parts: [] })).toEqual(outcome);
  });

  it("aborts, and treats an upload that is already gone as aborted", async () => {
    s3.on(AbortMultipartUploadCommand)
      .resolvesOnce({})
      .rejectsOnce(noSuchUpload())
      .rejects(s3Error("AccessDenied"));
    await uploads.abort({ key: KEY, uploadId: "u-1" });
    await uploads.abort({ key: KEY, uploadId: "u-1" });
    await expect(uploads.abort({ key: KEY, uploadId: "u-1" })).rejects.toMatchObject({
      name: "AccessDenied",
    });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: KEY,
      UploadId: "u-1",
    });
  });
});

describe("S3UploadedObjects", () => {
  const objects = new S3UploadedObjects(s3Client);

  it("reads size, type, ETag, S3's checksum and the uploader", async () => {
    s3.on(HeadObjectCommand).resolves({
      ContentLength: 209715200,
      ContentType: "video/mp4",
      ETag: '"abc-13"',
      ChecksumSHA256: "q1w2e3=-13",
      Metadata: { "gantry-uploaded-by": "ana%40example.com" },
    });
    expect(await objects.describe(BUCKET, KEY)).toEqual({
      size: 209715200,
      contentType: "video/mp4",
      etag: "abc-13",
      checksum: { algorithm: "SHA256", type: "COMPOSITE", value: "q1w2e3=-13" },
      uploadedBy: "ana@example.com",
    });
    expect(s3).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: BUCKET,
      Key: KEY,
      ChecksumMode: "ENABLED",
    });
  });

  it("has no checksum when S3 has none, and nothing for a deleted object", async () => {
    s3.on(HeadObjectCommand).resolvesOnce({ ContentLength: 3, ETag: '"e"' }).rejects(s3Error("NotFound"));
    expect(await objects.describe(BUCKET, KEY)).toEqual({
      size: 3,
      contentType: "application/octet-stream",
      etag: "e",
    });
    expect(await objects.describe(BUCKET, KEY)).toBeUndefined();
  });
});

const detail: UploadCompletedDetail = {
  schemaVersion: 1,
  app: "storefront",
  bucket: BUCKET,
  key: KEY,
  size: 3,
  contentType: "video/mp4",
  etag: "e",
  checksum: null,
  uploadedBy: "user-42",
  completedAt: "2026-11-22T10:00:00.000Z",
  sequencer: "00A1",
};

describe("UploadEventsPublisher", () => {
  const eventBridgeClient = new EventBridgeClient({ region: "us-east-1" });
  const eventBridge = mockClient(eventBridgeClient);
  const publisher = new UploadEventsPublisher(eventBridgeClient);
  beforeEach(() => eventBridge.reset());

  it("puts gantry.upload / Upload Completed on the default bus", async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "1" }] });
    await publisher.publish(detail);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [
        {
          EventBusName: "default",
          Source: "gantry.upload",
          DetailType: "Upload Completed",
          Resources: [`arn:aws:s3:::${BUCKET}/${KEY}`],
          Detail: JSON.stringify(detail),
        },
      ],
    });
  });

  it("throws for an entry EventBridge refused, named for the classifier", async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: "ThrottlingException", ErrorMessage: "slow" }],
    });
    const error = await publisher.publish(detail).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PutEventsEntryError);
    expect(error).toMatchObject({
      name: "ThrottlingException",
      message: "PutEvents refused the entry: ThrottlingException (slow)",
    });
  });
});

describe("HttpUploadWebhook", () => {
  const secret = "whsec-0123456789abcdef0123456789abcdef";
  const clock = { now: () => new Date("2026-11-22T10:00:00Z") };

  it("signs timestamp and raw body like Slack does", async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const webhook = new HttpUploadWebhook(
      { storefront: { url: "https://shop.example.com/hook", secret } },
      clock,
      async (url, init) => {
        sent.push({ url: String(url), init: init! });
        return new Response(null, { status: 204 });
      },
    );
    expect(await webhook.deliver("storefront", detail)).toBe("sent");
    expect(await webhook.deliver("billing", detail)).toBe("not-configured");
    expect(sent).toHaveLength(1);
    const headers = sent[0]!.init.headers as Record<string, string>;
    const body = sent[0]!.init.body as string;
    const timestamp = String(Date.parse("2026-11-22T10:00:00Z") / 1000);
    expect(headers["x-gantry-request-timestamp"]).toBe(timestamp);
    const expected = createHmac("sha256", secret).update(`v1:${timestamp}:${body}`).digest("hex");
    expect(headers["x-gantry-signature"]).toBe(`v1=${expected}`);
    expect(signUploadWebhook(secret, Number(timestamp), body)).toBe(`v1=${expected}`);
    expect(JSON.parse(body)).toEqual({ type: "upload.completed", detail });
  });

  it.each([
    { status: 503, name: "WebhookServerError", fault: "server" },
    { status: 429, name: "WebhookServerError", fault: "server" },
    { status: 404, name: "WebhookClientError", fault: "client" },
    { status: 302, name: "WebhookClientError", fault: "client" },
  ])("throws on HTTP $status ($fault fault)", async ({ status, name, fault }) => {
    const webhook = new HttpUploadWebhook(
      { storefront: { url: "https://shop.example.com/hook", secret } },
      clock,
      async () => new Response(null, { status }),
    );
    const error = await webhook.deliver("storefront", detail).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    expect(error).toMatchObject({ name, $fault: fault, $metadata: { httpStatusCode: status } });
  });
});
