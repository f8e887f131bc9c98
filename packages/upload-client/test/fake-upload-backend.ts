import { createHash, createHmac } from "node:crypto";

/**
 * A stand-in for the presign API and S3, as a `fetch`: enough of both to test the client's
 * resume, retry and concurrency logic (s3rver has no ListParts). It checks what the real ones
 * check: the body hash header, the bearer token, each part's signed length and SHA-256.
 */
interface FakePart {
  size: number;
  etag: string;
  checksumSha256: string;
}

interface FakeUpload {
  token: string;
  key: string;
  size: number;
  partSize: number;
  partCount: number;
  contentType: string;
  parts: Map<number, FakePart>;
  completed: boolean;
}

export interface FakeBackendOptions {
  partSize: number;
  /** Whether ListParts reports checksums (real S3 does for uploads created with one). */
  listChecksums?: boolean;
  /** Return this instead of the true composite checksum on complete. */
  completeChecksum?: string;
  /** Fail a request: return a Response (or throw) to make it fail, undefined to let it through. */
  intercept?: (call: { route: string; partNumber?: number; attempt: number }) => Response | undefined;
}

export function fakeUploadBackend(options: FakeBackendOptions) {
  const uploads = new Map<string, FakeUpload>();
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let ids = 0;

  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const byToken = (token: string) => [...uploads.values()].find((upload) => upload.token === token);

  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    if (url.host === "s3.fake") return putPart(url, init);
    const route = url.pathname.split("/").pop() ?? "";
    calls.push(route);
    const attempt = (attempts.get(route) ?? 0) + 1;
    attempts.set(route, attempt);
    const intercepted = options.intercept?.({ route, attempt });
    if (intercepted) return intercepted;
    const headers = init?.headers as Record<string, string>;
    const text = String(init?.body ?? "");
    if (
      method !== "POST" ||
      headers["x-amz-content-sha256"] !== createHash("sha256").update(text).digest("hex")
    ) {
      return json(403, { message: "unsigned payload" });
    }
    if (headers["x-upload-authorization"] !== "Bearer user-token")
      return json(401, { error: "unauthorized", message: "no" });
    const body = JSON.parse(text);
    switch (route) {
      case "create": {
        const id = `up-${++ids}`;
        const partCount = Math.max(1, Math.ceil(body.size / options.partSize));
        const upload: FakeUpload = {
          token: `token-${id}`,
          key: `storefront/${id}/${body.filename}`,
          size: body.size,
          partSize: options.partSize,
          partCount,
          contentType: body.contentType,
          parts: new Map(),
          completed: false,
        };
        uploads.set(id, upload);
        const { parts: _parts, completed: _completed, ...plan } = upload;
        return json(201, {
          ...plan,
          uploadId: id,
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        });
      }
      case "sign": {
        const upload = byToken(body.token);
        if (!upload || upload.completed) return json(404, { error: "upload_not_found", message: "gone" });
        const parts = body.parts.map((part: { partNumber: number; checksumSha256: string }) => {
          const size =
            part.partNumber < upload.partCount
              ? upload.partSize
              : upload.size - upload.partSize * (upload.partCount - 1);
          const signed = new URL("https://s3.fake/put");
          signed.search = new URLSearchParams({
            token: upload.token,
            part: String(part.partNumber),
            size: String(size),
          }).toString();
          return {
            partNumber: part.partNumber,
            url: signed.toString(),
            method: "PUT",
            size,
            headers: { "x-amz-checksum-sha256": part.checksumSha256 },
          };
        });
        return json(200, { parts, expiresAt: new Date(Date.now() + 300_000).toISOString() });
      }
      case "parts": {
        const upload = byToken(body.token);
        if (!upload || upload.completed) return json(404, { error: "upload_not_found", message: "gone" });
        const parts = [...upload.parts.entries()].map(([partNumber, part]) => ({
          partNumber,
          size: part.size,
          etag: part.etag,
          ...(options.listChecksums ? { checksumSha256: part.checksumSha256 } : {}),
        }));
        return json(200, { parts });
      }
      case "complete": {
        const upload = byToken(body.token);
        if (!upload || upload.completed) return json(404, { error: "upload_not_found", message: "gone" });
        const given = body.parts as { partNumber: number; etag: string; checksumSha256: string }[];
        const ordered =
          given.every((part, index) => part.partNumber === index + 1) && given.length === upload.partCount;
        const matching = given.every((part) => {
          const stored = upload.parts.get(part.partNumber);
          return stored?.etag === part.etag && stored.checksumSha256 === part.checksumSha256;
        });
        if (!ordered || !matching)
          return json(422, { error: "invalid_parts", message: "S3 refused the parts: InvalidPart" });
        upload.completed = true;
        const digests = Buffer.concat(given.map((part) => Buffer.from(part.checksumSha256, "base64")));
        const composite = `${createHash("sha256").update(digests).digest("base64")}-${given.length}`;
        return json(200, {
          key: upload.key,
          size: upload.size,
          contentType: upload.contentType,
          etag: `etag-${upload.key}`,
          checksumSha256: options.completeChecksum ?? composite,
        });
      }
      case "abort": {
        const upload = byToken(body.token);
        if (upload) upload.completed = true;
        return json(200, { aborted: true });
      }
      default:
        return json(404, { error: "not_found", message: "no such upload route" });
    }
  };

  async function putPart(url: URL, init?: RequestInit): Promise<Response> {
    const partNumber = Number(url.searchParams.get("part"));
    calls.push(`PUT ${partNumber}`);
    const key = `PUT ${partNumber}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      // Let other parts start, as a slow network would.
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (init?.signal?.aborted) throw init.signal.reason;
      const intercepted = options.intercept?.({ route: "put", partNumber, attempt });
      if (intercepted) return intercepted;
      const upload = byToken(url.searchParams.get("token") ?? "");
      if (!upload) return new Response("<Error><Code>NoSuchUpload</Code></Error>", { status: 404 });
      const body = Buffer.from(init?.body as Uint8Array);
      const checksum = (init?.headers as Record<string, string> | undefined)?.["x-amz-checksum-sha256"];
      if (body.length !== Number(url.searchParams.get("size"))) return new Response("", { status: 403 });
      if (createHash("sha256").update(body).digest("base64") !== checksum)
        return new Response("", { status: 400 });
      const etag = createHash("md5").update(body).digest("hex");
      upload.parts.set(partNumber, { size: body.length, etag, checksumSha256: checksum });
      return new Response(null, { status: 200, headers: { etag: `"${etag}"` } });
    } finally {
      inFlight--;
    }
  }

  return {
    fetch: fetchImpl,
    calls,
    uploads,
    get maxInFlight() {
      return maxInFlight;
    },
    puts: () => calls.filter((call) => call.startsWith("PUT ")),
  };
}

export function hmacHex(secret: string, data: string): string {
  return createHmac("sha256", secret).update(data).digest("hex");
}
