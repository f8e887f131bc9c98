/**
 * @gantry/upload-client: upload large files from a browser or Node 20 straight to S3 through
 * Gantry's presign API (README, "Large uploads"). No dependencies: fetch and Web Crypto only.
 */
export { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from "./backoff.ts";
export { compositeSha256 } from "./digest.ts";
export { UploadError } from "./errors.ts";
export {
  type CompletedUpload,
  PresignApi,
  type PresignApiOptions,
  type SignedPart,
  type StartedUpload,
  type StoredPart,
} from "./presign-api.ts";
export { memoryResumeStore, type ResumeRecord, type ResumeStore } from "./resume-store.ts";
export type { BlobLike, RangeReader, UploadSource } from "./sources.ts";
export {
  abortUpload,
  type UploadedFile,
  type UploadFileOptions,
  type UploadProgress,
  uploadFile,
} from "./upload-file.ts";
export { verifyUploadWebhook } from "./webhook.ts";
