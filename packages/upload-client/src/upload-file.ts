import { DEFAULT_RETRY, type RetryPolicy, withRetries } from "./backoff.ts";
import { compositeSha256, sha256, toBase64 } from "./digest.ts";
import { isAbortError, UploadError } from "./errors.ts";
import { type CompletedUpload, PresignApi, type PresignApiOptions, type StoredPart } from "./presign-api.ts";
import { type ResumeRecord, type ResumeStore, readResumeRecord } from "./resume-store.ts";
import { toRangeReader, type UploadSource } from "./sources.ts";

export interface UploadProgress {
  /** Bytes S3 has confirmed (whole parts). */
  uploadedBytes: number;
  totalBytes: number;
  /** 0…1; 1 once every part is stored. */
  fraction: number;
  partsDone: number;
  partCount: number;
}

export interface UploadFileOptions extends Omit<PresignApiOptions, "signal"> {
  file: UploadSource;
  /** Defaults to the file's name; the server sanitises it into the key. */
  filename?: string;
  /** Defaults to the file's type; the server checks it against the app's allowlist. */
  contentType?: string;
  /** Parts uploaded at the same time (1–16, default 4); memory used is about this × part size. */
  concurrency?: number;
  /** Retries per part and per API call, with exponential backoff and jitter. */
  retry?: Partial<RetryPolicy>;
  onProgress?: (progress: UploadProgress) => void;
  /**
   * Remember the upload so that a reload can resume it: same file, same store, same key → the
   * parts S3 already holds (ListParts through the API) are verified and skipped.
   */
  resume?: { store: ResumeStore; key?: string };
  signal?: AbortSignal;
}

export interface UploadedFile extends CompletedUpload {
  partCount: number;
  /** Parts found already uploaded (resume) rather than sent now. */
  partsResumed: number;
}

const MAX_CONCURRENCY = 16;
/** A session closer to its end than this is not resumed: it could expire mid-way. */
const RESUME_MARGIN_MS = 5 * 60 * 1000;

function partLength(
  session: Pick<ResumeRecord, "size" | "partSize" | "partCount">,
  partNumber: number,
): number {
  return partNumber < session.partCount
    ? session.partSize
    : session.size - session.partSize * (session.partCount - 1);
}

const retryable = (error: unknown) => error instanceof UploadError && error.retryable;

/**
 * Uploads a file through the presign API straight to S3: split into the server's parts, each part
 * hashed (SHA-256, which S3 verifies) and PUT in parallel, failed parts retried with backoff on a
 * freshly signed URL, progress reported, the upload resumable after a reload, then completed.
 */
export async function uploadFile(options: UploadFileOptions): Promise<UploadedFile> {
  const source = toRangeReader(options.file);
  const filename = options.filename ?? source.name ?? "file";
  const contentType = options.contentType || source.type || "application/octet-stream";
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  // Stops every part in flight when one fails for good, or when the caller aborts.
  const controller = new AbortController();
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) throw options.signal.reason;
  options.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const signal = controller.signal;
  const api = new PresignApi({ ...options, fetch: fetchImpl, signal });
  const apiCall = <T>(call: () => Promise<T>) => withRetries(policy, call, retryable, { signal });

  const store = options.resume?.store;
  const resumeKey =
    options.resume?.key ??
    `gantry-upload:${options.endpoint}:${filename}:${contentType}:${source.size}:${source.lastModified ?? "-"}`;

  try {
    // 1. Resume what a previous page started, or start anew.
    let session: ResumeRecord | undefined;
    let stored: StoredPart[] = [];
    if (store) {
      const record = await readResumeRecord(store, resumeKey);
      if (
        record &&
        record.size === source.size &&
        Date.parse(record.expiresAt) - Date.now() > RESUME_MARGIN_MS
      ) {
        try {
          stored = (await apiCall(() => api.listParts(record.token))).parts;
          session = record;
        } catch (error) {
          // Gone, expired or not ours any more: start over. Anything transient is the caller's to retry.
          if (!(error instanceof UploadError) || error.retryable) throw error;
        }
      }
      if (record && !session) await store.removeItem(resumeKey);
    }
    if (!session) {
      const started = await apiCall(() => api.start({ filename, contentType, size: source.size }));
      session = { v: 1, ...started };
      await store?.setItem(resumeKey, JSON.stringify(session));
    }
    const current = session;

    // 2. Every part: read, hash, skip if S3 already holds exactly it, else sign and PUT.
    const storedByNumber = new Map(stored.map((part) => [part.partNumber, part]));
    const done = new Map<number, { etag: string; checksumSha256: string }>();
    let uploadedBytes = 0;
    let partsResumed = 0;
    const report = () =>
      options.onProgress?.({
        uploadedBytes,
        totalBytes: current.size,
        fraction: current.size === 0 ? 1 : uploadedBytes / current.size,
        partsDone: done.size,
        partCount: current.partCount,
      });
    report();

    const putPart = (partNumber: number, bytes: Uint8Array, checksumSha256: string) =>
      withRetries(
        policy,
        async () => {
          const [signed] = (await api.sign(current.token, [{ partNumber, checksumSha256 }])).parts;
          if (!signed) throw new UploadError("bad_response", `no URL was signed for part ${partNumber}`);
          let response: Response;
          try {
            response = await fetchImpl(signed.url, {
              method: signed.method,
              headers: signed.headers,
              body: bytes as Uint8Array<ArrayBuffer>,
              signal,
            });
          } catch (error) {
            if (isAbortError(error)) throw error;
            throw new UploadError("network", `part ${partNumber} could not be sent`, {
              retryable: true,
              cause: error,
            });
          }
          await response.arrayBuffer().catch(() => undefined);
          // Any refusal is retried on a new URL: an expired signature (403) is the common one.
          if (!response.ok) {
            throw new UploadError("part_failed", `S3 refused part ${partNumber} (HTTP ${response.status})`, {
              status: response.status,
              retryable: true,
            });
          }
          const etag = response.headers.get("etag");
          if (!etag) {
            throw new UploadError(
              "etag_unreadable",
              "S3's ETag is not readable: the bucket's CORS rule must expose ETag",
            );
          }
          return etag.replaceAll('"', "");
        },
        retryable,
        { signal },
      );

    let next = 1;
    const worker = async () => {
      while (next <= current.partCount && !signal.aborted) {
        const partNumber = next++;
        const start = current.partSize * (partNumber - 1);
        const length = partLength(current, partNumber);
        const bytes = await source.read(start, start + length);
        if (bytes.byteLength !== length) {
          throw new UploadError(
            "source_changed",
            `read ${bytes.byteLength} bytes of part ${partNumber}, expected ${length}`,
          );
        }
        const checksumSha256 = toBase64(await sha256(bytes));
        const previous = storedByNumber.get(partNumber);
        // S3 reports each part's checksum when it has one; then only an identical part is skipped.
        if (
          previous &&
          previous.size === length &&
          (!previous.checksumSha256 || previous.checksumSha256 === checksumSha256)
        ) {
          done.set(partNumber, { etag: previous.etag, checksumSha256 });
          partsResumed++;
        } else {
          done.set(partNumber, { etag: await putPart(partNumber, bytes, checksumSha256), checksumSha256 });
        }
        uploadedBytes += length;
        report();
      }
    };
    const workers = Array.from(
      { length: Math.max(1, Math.min(options.concurrency ?? 4, MAX_CONCURRENCY, current.partCount)) },
      () =>
        worker().catch((error: unknown) => {
          controller.abort(error);
          throw error;
        }),
    );
    const results = await Promise.allSettled(workers);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (options.signal?.aborted) throw options.signal.reason;
    if (failure) throw failure.reason;
    // Workers stop quietly when aborted between parts: never complete a partial upload.
    if (signal.aborted || done.size !== current.partCount) {
      throw new UploadError("incomplete", `${done.size} of ${current.partCount} parts were uploaded`);
    }

    // 3. Complete, and check S3's composite checksum against the parts' digests.
    const parts = [...done.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, part]) => ({ partNumber, ...part }));
    const completed = await apiCall(() => api.complete(current.token, parts));
    await store?.removeItem(resumeKey);
    if (completed.checksumSha256) {
      const expected = await compositeSha256(parts.map((part) => part.checksumSha256));
      if (completed.checksumSha256 !== expected) {
        throw new UploadError(
          "checksum_mismatch",
          `S3 stored checksum ${completed.checksumSha256}, expected ${expected}`,
        );
      }
    }
    return { ...completed, partCount: current.partCount, partsResumed };
  } finally {
    options.signal?.removeEventListener("abort", onCallerAbort);
  }
}

/** Abandons an upload (S3 discards its parts) and forgets it in the resume store. */
export async function abortUpload(
  options: Omit<PresignApiOptions, "signal"> & { resume: { store: ResumeStore; key: string } },
): Promise<boolean> {
  const record = await readResumeRecord(options.resume.store, options.resume.key);
  if (!record) return false;
  await new PresignApi(options).abort(record.token);
  await options.resume.store.removeItem(options.resume.key);
  return true;
}
