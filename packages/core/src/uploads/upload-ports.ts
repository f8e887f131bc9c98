import type { UploadResult } from "./upload-policy.ts";

/** Who is uploading, as the app's own authorisation hook established it. */
export interface Caller {
  /** A stable id of the caller (the JWT `sub`); uploads are bound to it. */
  subject: string;
}

/**
 * The per-caller authorisation hook: decides from the request headers whether this caller may
 * upload at all. The default checks a JWT with a configured key; an app can bring its own.
 */
export interface UploadAuthorizer {
  authorize(headers: Readonly<Record<string, string | undefined>>): Promise<UploadResult<Caller>>;
}

/**
 * Everything the server decided when the upload started, sealed into the token the client sends
 * back. The API keeps no state: the seal (HMAC) is what stops a caller from signing parts beyond
 * the planned size, into another caller's upload, or into another app's prefix.
 */
export interface UploadSession {
  v: 1;
  app: string;
  key: string;
  uploadId: string;
  /** `Caller.subject` of whoever started it. */
  sub: string;
  contentType: string;
  size: number;
  partSize: number;
  partCount: number;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface UploadSessionSealer {
  seal(session: UploadSession): string;
  /** The session, or undefined when the token is malformed or its seal does not verify. */
  open(token: string): UploadSession | undefined;
}

export interface UploadIdGenerator {
  /** Unguessable, URL- and key-safe (the middle segment of the object key). */
  newId(): string;
}

export interface PresignPartInput {
  key: string;
  uploadId: string;
  partNumber: number;
  /** Signed: S3 refuses a body of any other length. */
  contentLength: number;
  /** Signed: S3 refuses a body with another SHA-256. */
  checksumSha256: string;
  expiresInSeconds: number;
  /** From the Clock port, so that the URL's validity window is the one the policy says. */
  signedAt: Date;
}

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
  checksumSha256?: string;
}

export interface CompletePart {
  partNumber: number;
  etag: string;
  checksumSha256: string;
}

export type CompleteOutcome =
  | { kind: "completed"; etag: string; checksumSha256?: string }
  /** S3 refused the part list (a part missing, too small, or not matching its checksum). */
  | { kind: "rejected"; reason: string }
  /** The multipart upload no longer exists (aborted, expired, or already completed). */
  | { kind: "gone" };

/** S3 multipart uploads, as the presign use cases need them. */
export interface MultipartUploadStore {
  create(input: { key: string; contentType: string; filename: string; subject: string }): Promise<{
    uploadId: string;
  }>;
  presignPart(input: PresignPartInput): Promise<string>;
  /** Undefined when the upload does not exist (any more). */
  listParts(input: { key: string; uploadId: string }): Promise<StoredPart[] | undefined>;
  complete(input: { key: string; uploadId: string; parts: CompletePart[] }): Promise<CompleteOutcome>;
  /** Idempotent: aborting an upload that is gone is not an error. */
  abort(input: { key: string; uploadId: string }): Promise<void>;
}

/** What the completion handler reads back from the stored object. */
export interface UploadedObject {
  size: number;
  contentType: string;
  etag: string;
  checksum?: { algorithm: "SHA256" | "CRC32" | "CRC32C" | "CRC64NVME" | "SHA1"; type: string; value: string };
  /** The subject recorded when the upload started. */
  uploadedBy?: string;
}

export interface UploadedObjectsPort {
  /** Undefined when the object is gone (deleted before the event was handled). */
  describe(bucket: string, key: string): Promise<UploadedObject | undefined>;
}
