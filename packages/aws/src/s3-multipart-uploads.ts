import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type {
  CompleteOutcome,
  CompletePart,
  MultipartUploadStore,
  PresignPartInput,
  StoredPart,
  UploadedObject,
  UploadedObjectsPort,
} from "@gantry/core";

/** Object metadata (`x-amz-meta-…`) naming the caller that started the upload. */
export const UPLOADED_BY_METADATA = "gantry-uploaded-by";

/** S3 errors that mean "the part list is wrong", a caller's mistake rather than ours. */
const REJECTED_PARTS = new Set([
  "InvalidPart",
  "InvalidPartOrder",
  "EntityTooSmall",
  "BadDigest",
  "InvalidDigest",
]);

const errorName = (error: unknown) => (error as { name?: unknown } | null)?.name;
const unquote = (etag: string | undefined) => (etag ?? "").replaceAll('"', "");

/**
 * The presign API's S3 side. Part URLs sign `Content-Length` and `x-amz-checksum-sha256`, so each
 * URL accepts exactly one body: the planned size with the checksum the client announced. The
 * client has to send that header (it is not hoisted into the query string).
 */
export class S3MultipartUploads implements MultipartUploadStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async create(input: { key: string; contentType: string; filename: string; subject: string }) {
    const output = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: input.key,
        ContentType: input.contentType,
        // The filename is sanitised to [A-Za-z0-9._-]: nothing to escape inside the quotes.
        ContentDisposition: `attachment; filename="${input.filename}"`,
        ChecksumAlgorithm: "SHA256",
        // S3 metadata is ASCII only; the subject is percent-encoded to fit whatever the JWT carried.
        Metadata: { [UPLOADED_BY_METADATA]: encodeURIComponent(input.subject).slice(0, 1024) },
      }),
    );
    if (!output.UploadId) throw new Error("CreateMultipartUpload returned no UploadId");
    return { uploadId: output.UploadId };
  }

  presignPart(input: PresignPartInput): Promise<string> {
    return getSignedUrl(
      this.client,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: input.key,
        UploadId: input.uploadId,
        PartNumber: input.partNumber,
        ContentLength: input.contentLength,
        ChecksumSHA256: input.checksumSha256,
      }),
      {
        expiresIn: input.expiresInSeconds,
        signingDate: input.signedAt,
        signableHeaders: new Set(["content-length", "x-amz-checksum-sha256"]),
        unhoistableHeaders: new Set(["x-amz-checksum-sha256"]),
      },
    );
  }

  async listParts(input: { key: string; uploadId: string }): Promise<StoredPart[] | undefined> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: input.key,
            UploadId: input.uploadId,
            ...(marker ? { PartNumberMarker: marker } : {}),
          }),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined || part.Size === undefined) continue;
          parts.push({
            partNumber: part.PartNumber,
            size: part.Size,
            etag: unquote(part.ETag),
            ...(part.ChecksumSHA256 ? { checksumSha256: part.ChecksumSHA256 } : {}),
          });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      if (errorName(error) === "NoSuchUpload") return undefined;
      throw error;
    }
    return parts;
  }

  async complete(input: { key: string; uploadId: string; parts: CompletePart[] }): Promise<CompleteOutcome> {
    try {
      const output = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: input.key,
          UploadId: input.uploadId,
          MultipartUpload: {
            Parts: input.parts.map((part) => ({
              PartNumber: part.partNumber,
              ETag: `"${part.etag}"`,
              ChecksumSHA256: part.checksumSha256,
            })),
          },
        }),
      );
      return {
        kind: "completed",
        etag: unquote(output.ETag),
        ...(output.ChecksumSHA256 ? { checksumSha256: output.ChecksumSHA256 } : {}),
      };
    } catch (error) {
      const name = errorName(error);
      if (name === "NoSuchUpload") return { kind: "gone" };
      if (typeof name === "string" && REJECTED_PARTS.has(name)) return { kind: "rejected", reason: name };
      throw error;
    }
  }

  async abort(input: { key: string; uploadId: string }): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: input.key, UploadId: input.uploadId }),
      );
    } catch (error) {
      if (errorName(error) !== "NoSuchUpload") throw error;
    }
  }
}

const CHECKSUM_FIELDS = [
  ["ChecksumSHA256", "SHA256"],
  ["ChecksumCRC64NVME", "CRC64NVME"],
  ["ChecksumCRC32C", "CRC32C"],
  ["ChecksumCRC32", "CRC32"],
  ["ChecksumSHA1", "SHA1"],
] as const;

/** Reads back what S3 stored, for the completion event. */
export class S3UploadedObjects implements UploadedObjectsPort {
  constructor(private readonly client: S3Client) {}

  async describe(bucket: string, key: string): Promise<UploadedObject | undefined> {
    let head: HeadObjectCommandOutput;
    try {
      head = await this.client.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }),
      );
    } catch (error) {
      // HEAD has no body, so a missing object is a bare 404 (`NotFound`), not `NoSuchKey`.
      if (errorName(error) === "NotFound" || errorName(error) === "NoSuchKey") return undefined;
      throw error;
    }
    const checksum = CHECKSUM_FIELDS.map(([field, algorithm]) => ({ algorithm, value: head[field] })).find(
      (candidate): candidate is { algorithm: (typeof CHECKSUM_FIELDS)[number][1]; value: string } =>
        typeof candidate.value === "string",
    );
    const uploadedBy = head.Metadata?.[UPLOADED_BY_METADATA];
    return {
      size: head.ContentLength ?? 0,
      contentType: head.ContentType ?? "application/octet-stream",
      etag: unquote(head.ETag),
      ...(checksum
        ? {
            checksum: {
              ...checksum,
              // A multipart SHA-256 is composite (`<base64>-<parts>`); older SDK answers omit the type.
              type: head.ChecksumType ?? (/-\d+$/.test(checksum.value) ? "COMPOSITE" : "FULL_OBJECT"),
            },
          }
        : {}),
      ...(uploadedBy ? { uploadedBy: safeDecode(uploadedBy) } : {}),
    };
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
