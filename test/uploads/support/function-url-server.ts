import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { localLambdaContext } from "@gantry/runtime";
import type {
  Context,
  LambdaFunctionURLEvent,
  APIGatewayProxyStructuredResultV2 as LambdaFunctionURLResult,
} from "aws-lambda";

type FunctionUrlHandler = (
  event: LambdaFunctionURLEvent,
  context: Context,
) => Promise<LambdaFunctionURLResult>;

export interface StaticFile {
  contentType: string;
  body: string | Uint8Array;
}

/**
 * Stands in for CloudFront on 127.0.0.1: `/_uploads/*` becomes a Lambda function URL event for the
 * real presign handler, anything else is served from `files` (the app's pages). Like Lambda behind
 * origin access control, a POST whose `x-amz-content-sha256` is not its body's SHA-256 is refused.
 */
export async function startFunctionUrlServer(options: {
  handler: FunctionUrlHandler;
  files?: Record<string, StaticFile>;
}): Promise<{ url: string; requests: { path: string; status: number }[]; stop(): Promise<void> }> {
  const requests: { path: string; status: number }[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const body = await readBody(request);
    let status = 500;
    try {
      if (url.pathname.startsWith("/_uploads/")) {
        const hash = createHash("sha256").update(body).digest("hex");
        if (request.method === "POST" && request.headers["x-amz-content-sha256"] !== hash) {
          status = 403;
          response.writeHead(status, { "content-type": "application/json" });
          response.end(JSON.stringify({ Message: "x-amz-content-sha256 does not match the body" }));
          return;
        }
        const result = await options.handler(
          toEvent(request, url, body),
          localLambdaContext("upload-presign"),
        );
        status = result.statusCode ?? 200;
        response.writeHead(status, result.headers as Record<string, string>);
        response.end(result.body ?? "");
        return;
      }
      const file = options.files?.[url.pathname];
      status = file ? 200 : 404;
      response.writeHead(status, { "content-type": file?.contentType ?? "text/plain" });
      response.end(file?.body ?? "not found");
    } finally {
      requests.push({ path: url.pathname, status });
    }
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function toEvent(request: IncomingMessage, url: URL, body: Buffer): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    isBase64Encoded: false,
    body: body.toString("utf8"),
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: url.host,
      domainPrefix: "local",
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  } as LambdaFunctionURLEvent;
}
