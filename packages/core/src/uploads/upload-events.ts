import type { UploadedObject } from "./upload-ports.ts";

/** The event every completed upload puts on the default bus (and, if configured, POSTs to the app). */
export const UPLOAD_EVENT_SOURCE = "gantry.upload";
export const UPLOAD_COMPLETED_DETAIL_TYPE = "Upload Completed";

export interface UploadCompletedDetail {
  schemaVersion: 1;
  app: string;
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  /** S3's ETag (for a multipart object: MD5 of the part MD5s, `-<parts>`), without quotes. */
  etag: string;
  /**
   * The object's checksum as S3 stored it: uploads through the presign API carry a SHA-256 per
   * part, so this is S3's COMPOSITE SHA-256 (`<base64>-<parts>`). Null when S3 has none.
   */
  checksum: { algorithm: string; type: string; value: string } | null;
  /** The caller (JWT `sub`) that started the upload, when recorded. */
  uploadedBy: string | null;
  /** When S3 created the object (the S3 event's time). */
  completedAt: string;
  /** S3's per-key write order; `key` + `sequencer` identify this write, for de-duplication. */
  sequencer: string;
}

export function uploadCompletedDetail(input: {
  app: string;
  bucket: string;
  key: string;
  object: UploadedObject;
  completedAt: string;
  sequencer: string;
}): UploadCompletedDetail {
  const { object } = input;
  return {
    schemaVersion: 1,
    app: input.app,
    bucket: input.bucket,
    key: input.key,
    size: object.size,
    contentType: object.contentType,
    etag: object.etag,
    checksum: object.checksum ?? null,
    uploadedBy: object.uploadedBy ?? null,
    completedAt: input.completedAt,
    sequencer: input.sequencer,
  };
}

/** An EventBridge pattern for one app's completed uploads (or every app's). */
export function uploadCompletedPattern(app?: string) {
  return {
    source: [UPLOAD_EVENT_SOURCE],
    "detail-type": [UPLOAD_COMPLETED_DETAIL_TYPE],
    ...(app ? { detail: { app: [app] } } : {}),
  };
}
