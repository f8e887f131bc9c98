/** Why an upload failed. `code` is the API's `error` (e.g. `too_large`) or one of the client's own. */
export class UploadError extends Error {
  readonly code: string;
  /** The HTTP status, when an HTTP answer caused it. */
  readonly status: number | undefined;
  /** Whether trying again later may help (5xx, 429, network). */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UploadError";
    this.code = code;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "AbortError";
}

/** fetch rejects with a TypeError when the network fails (connection refused, reset, DNS, CORS). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}
