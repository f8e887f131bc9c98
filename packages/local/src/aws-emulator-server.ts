import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsApiError } from "./aws-model.ts";

/** One AWS JSON-protocol service behind the server, addressed by its `X-Amz-Target` prefix. */
export interface AwsJsonHandler {
  /** `AppRunner`, `AmazonEC2ContainerRegistry_V20150921`: the model's `targetPrefix`. */
  readonly targetPrefix: string;
  /** `1.0` (awsJson1_0) or `1.1` (awsJson1_1): the model's `jsonVersion`. */
  readonly jsonVersion: string;
  /** Answers one call with the JSON output, or throws an `AwsApiError`. */
  handle(operation: string, input: unknown): Promise<unknown>;
}

/** A request and what the emulator answered, kept so tests can check both against the model. */
export interface EmulatorCall {
  op: string;
  input: unknown;
  output?: unknown;
  error?: { code: string; message: string; statusCode: number };
  /** When the call arrived, on the emulator's clock. */
  at: Date;
}

/**
 * Runs `answer` and appends the call to `calls`, so every request and response (or error) can be
 * validated afterwards. Anything other than an `AwsApiError` is an emulator bug: it is recorded as
 * `InternalFailure` (which no model declares, so the model check of the calls fails loudly).
 */
export async function recordCall(
  calls: EmulatorCall[],
  call: Pick<EmulatorCall, "op" | "input" | "at">,
  answer: () => Promise<unknown>,
): Promise<unknown> {
  const entry: EmulatorCall = { ...call, input: structuredClone(call.input) };
  calls.push(entry);
  try {
    const output = await answer();
    entry.output = structuredClone(output);
    return output;
  } catch (error) {
    const apiError = asApiError(error);
    entry.error = { code: apiError.code, message: apiError.message, statusCode: apiError.statusCode };
    throw apiError;
  }
}

export interface AwsEmulatorServerOptions {
  apprunner?: AwsJsonHandler;
  ecr?: AwsJsonHandler;
  /** Further services, e.g. a future Inspector emulator. */
  others?: AwsJsonHandler[];
  /**
   * restJson1 services (Inspector2) route by method and path instead of X-Amz-Target:
   * `"POST /findings/list": (input) => output`.
   */
  restRoutes?: Record<string, (input: unknown) => unknown | Promise<unknown>>;
  host?: string;
  /** 0 (the default) lets the OS pick a free port. */
  port?: number;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The HTTP face of the emulators: one `node:http` server on 127.0.0.1 that speaks the AWS JSON
 * protocols (POST /, `X-Amz-Target: <prefix>.<Operation>`, JSON body), so the real AWS SDK clients
 * talk to it by `endpoint`. Signatures are not checked: any credentials are accepted.
 */
export class AwsEmulatorServer {
  readonly #handlers = new Map<string, AwsJsonHandler>();
  readonly #restRoutes: Record<string, (input: unknown) => unknown | Promise<unknown>>;
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;
  #endpoint: string | undefined;

  constructor(options: AwsEmulatorServerOptions) {
    const handlers = [options.apprunner, options.ecr, ...(options.others ?? [])];
    for (const handler of handlers) if (handler) this.#handlers.set(handler.targetPrefix, handler);
    this.#restRoutes = options.restRoutes ?? {};
    this.#host = options.host ?? "127.0.0.1";
    this.#port = options.port ?? 0;
  }

  /** `http://127.0.0.1:<port>` once started. */
  get endpoint(): string {
    if (!this.#endpoint) throw new Error("AwsEmulatorServer is not started");
    return this.#endpoint;
  }

  async start(): Promise<{ endpoint: string; port: number }> {
    if (this.#server) throw new Error("AwsEmulatorServer is already started");
    const server = createServer((request, response) => {
      void this.#serve(request, response);
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.#host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    this.#endpoint = `http://${this.#host}:${port}`;
    return { endpoint: this.#endpoint, port };
  }

  /** Closes the listener and every open (keep-alive) socket, so no handle outlives the server. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    this.#endpoint = undefined;
    const closed = new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
    });
    server.closeAllConnections();
    await closed;
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = String(request.headers["x-amz-target"] ?? "");
    const route = this.#restRoutes[`${request.method} ${request.url?.split("?")[0]}`];
    if (!target && route) return this.#serveRest(request, response, route);
    const dot = target.lastIndexOf(".");
    const handler = this.#handlers.get(target.slice(0, dot));
    const contentType = `application/x-amz-json-${handler?.jsonVersion ?? "1.0"}`;
    try {
      const body = await readBody(request);
      if (!handler || dot < 0 || request.method !== "POST") {
        throw new AwsApiError(
          "UnknownOperationException",
          `Unknown operation: ${target || "(no X-Amz-Target)"}`,
        );
      }
      const output = await handler.handle(target.slice(dot + 1), parseJson(body));
      send(response, 200, contentType, output ?? {});
    } catch (error) {
      const apiError = asApiError(error);
      response.setHeader("x-amzn-ErrorType", apiError.code);
      send(response, apiError.statusCode, contentType, { __type: apiError.code, message: apiError.message });
    }
  }

  async #serveRest(
    request: IncomingMessage,
    response: ServerResponse,
    route: (input: unknown) => unknown | Promise<unknown>,
  ): Promise<void> {
    try {
      send(response, 200, "application/json", (await route(parseJson(await readBody(request)))) ?? {});
    } catch (error) {
      sendRestError(response, error);
    }
  }
}

function sendRestError(response: ServerResponse, error: unknown): void {
  const apiError = asApiError(error);
  response.setHeader("x-amzn-ErrorType", apiError.code);
  send(response, apiError.statusCode, "application/json", { message: apiError.message });
}

function send(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  if (response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-RequestId": randomUUID(),
  });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new AwsApiError("SerializationException", "Request body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** An empty body means `{}`; anything that is not JSON is the protocol's SerializationException. */
function parseJson(body: string): unknown {
  if (body.trim() === "") return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new AwsApiError("SerializationException", "The request body is not valid JSON");
  }
}

function asApiError(error: unknown): AwsApiError {
  if (error instanceof AwsApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AwsApiError("InternalFailure", `Emulator failure: ${message}`, 500);
}
