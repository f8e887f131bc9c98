import { sha256, toHex } from "./digest.ts";
import { isAbortError, isNetworkError, UploadError } from "./errors.ts";

/** The presign API's answers (see the README, "Large uploads"). */
export interface StartedUpload {
  key: string;
  uploadId: string;
  token: string;
  contentType: string;
  size: number;
  partSize: number;
  partCount: number;
  expiresAt: string;
}

export interface SignedPart {
  partNumber: number;
  url: string;
  method: "PUT";
  headers: Record<string, string>;
  size: number;
}

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
  checksumSha256?: string;
}

export interface CompletedUpload {
  key: string;
  size: number;
  contentType: string;
  etag: string;
  checksumSha256?: string;
}

export interface PresignApiOptions {
  /** Where CloudFront serves the API, e.g. `/_uploads` or `https://shop.example.com/_uploads`. */
  endpoint: string;
  /** The app's own token for this user (a JWT), sent as `X-Upload-Authorization: Bearer …`. */
  getToken: () => string | Promise<string>;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Calls the presign API. Each body's SHA-256 goes in `x-amz-content-sha256`: CloudFront signs its
 * requests to the function URL (origin access control), and Lambda accepts no unsigned payloads.
 */
export class PresignApi {
  private readonly fetchImpl: typeof fetch;
  private readonly endpoint: string;

  constructor(private readonly options: PresignApiOptions) {
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.endpoint = options.endpoint.replace(/\/+$/, "");
  }

  start(request: { filename: string; contentType: string; size: number }): Promise<StartedUpload> {
    return this.call("create", request);
  }

  sign(
    token: string,
    parts: { partNumber: number; checksumSha256: string }[],
  ): Promise<{ parts: SignedPart[] }> {
    return this.call("sign", { token, parts });
  }

  listParts(token: string): Promise<{ parts: StoredPart[] }> {
    return this.call("parts", { token });
  }

  complete(
    token: string,
    parts: { partNumber: number; etag: string; checksumSha256: string }[],
  ): Promise<CompletedUpload> {
    return this.call("complete", { token, parts });
  }

  abort(token: string): Promise<{ aborted: true }> {
    return this.call("abort", { token });
  }

  private async call<T>(route: string, body: unknown): Promise<T> {
    const text = JSON.stringify(body);
    const payloadHash = toHex(await sha256(new TextEncoder().encode(text)));
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.endpoint}/${route}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-amz-content-sha256": payloadHash,
          "x-upload-authorization": `Bearer ${await this.options.getToken()}`,
        },
        body: text,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
    } catch (error) {
      if (isAbortError(error)) throw error;
      throw new UploadError("network", `the upload API could not be reached (${route})`, {
        retryable: isNetworkError(error),
        cause: error,
      });
    }
    const answer = (await response.json().catch(() => undefined)) as
      | (T & { error?: string; message?: string })
      | undefined;
    if (!response.ok) {
      throw new UploadError(
        answer?.error ?? `http_${response.status}`,
        answer?.message ?? `the upload API answered HTTP ${response.status}`,
        { status: response.status, retryable: response.status >= 500 || response.status === 429 },
      );
    }
    if (answer === undefined)
      throw new UploadError("bad_response", `the upload API's ${route} answer is not JSON`);
    return answer;
  }
}
