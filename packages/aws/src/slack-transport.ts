/**
 * Slack over HTTP with Node's fetch: the Web API with a bot token (`chat.postMessage`,
 * `chat.update`: threads and edits) or an incoming webhook (one channel, posts only). Rate limits
 * and outages are handled here: a 429 waits for `Retry-After`, a 5xx is retried with exponential
 * backoff and jitter, both within a budget; past it the error goes up, the classifier calls it
 * retriable and Lambda tries again later. Tokens and webhook URLs never appear in an error message.
 */
import type { SlackMessage, SlackPort, SlackPostResult, SlackResponse } from "@gantry/core";

export interface SlackHttpOptions {
  fetch?: typeof fetch;
  /** Waits between attempts; tests pass a fake, so nothing really waits. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter of the 5xx backoff. */
  random?: () => number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  /** Most a single call may spend waiting before handing the retry to the platform. */
  maxWaitMs?: number;
  /** Per request. */
  timeoutMs?: number;
  /** Origins `respond` may post to: Slack's `response_url`s live on hooks.slack.com. */
  responseOrigins?: readonly string[];
}

const DEFAULTS = {
  maxAttempts: 4,
  maxWaitMs: 20_000,
  timeoutMs: 10_000,
  backoffBaseMs: 500,
  backoffCapMs: 8_000,
};
const SLACK_API_URL = "https://slack.com/api";
const SLACK_RESPONSE_ORIGIN = "https://hooks.slack.com";

/** Slack's `ok: false` errors that are its own trouble, not the request's: worth another try. */
const TRANSIENT_API_ERRORS = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
]);

/** Slack refused the request itself (bad token, unknown channel, invalid blocks): retrying cannot help. */
export class SlackApiError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(`Slack ${operation} failed: ${code} (HTTP ${status})`);
    this.name = "SlackApiError";
  }
}

/** Still rate limited once the wait budget is spent. */
export class SlackRateLimitedError extends Error {
  readonly status = 429;
  constructor(
    readonly operation: string,
    readonly retryAfterMs: number,
  ) {
    super(`Slack ${operation} is rate limited (Retry-After ${Math.round(retryAfterMs / 1000)} s)`);
    this.name = "SlackRateLimitedError";
  }
}

/** Slack kept failing on its side (5xx or a transient `ok: false`) through every attempt. */
export class SlackServerError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(`Slack ${operation} failed on Slack's side: ${code ?? `HTTP ${status}`}`);
    this.name = "SlackServerError";
  }
}

type Json = Record<string, unknown>;

/** One POST with Slack's retry rules; answers the final response's status and body text. */
class SlackHttp {
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #options: typeof DEFAULTS;
  readonly #responseOrigins: readonly string[];

  constructor(options: SlackHttpOptions) {
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#options = {
      ...DEFAULTS,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    };
    this.#responseOrigins = options.responseOrigins ?? [SLACK_RESPONSE_ORIGIN];
  }

  async post(
    operation: string,
    url: string,
    body: Json,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      const response = await this.#fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      const text = await response.text();
      const transient = response.status >= 500 || TRANSIENT_API_ERRORS.has(apiError(text) ?? "");
      if (response.status !== 429 && !transient) return { status: response.status, text };

      const last = attempt >= this.#options.maxAttempts;
      if (response.status === 429) {
        const wait = retryAfterMs(response.headers.get("retry-after"));
        if (last || waited + wait > this.#options.maxWaitMs) throw new SlackRateLimitedError(operation, wait);
        await this.#sleep(wait);
        waited += wait;
        continue;
      }
      const wait = this.#backoff(attempt);
      if (last || waited + wait > this.#options.maxWaitMs) {
        throw new SlackServerError(operation, response.status, apiError(text));
      }
      await this.#sleep(wait);
      waited += wait;
    }
  }

  /** Exponential, capped, with "equal jitter": at least half the step, so waits still grow. */
  #backoff(attempt: number): number {
    const step = Math.min(this.#options.backoffCapMs, this.#options.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + this.#random() * (step / 2));
  }

  async respond(responseUrl: string, response: SlackResponse): Promise<void> {
    let origin: string;
    try {
      origin = new URL(responseUrl).origin;
    } catch {
      throw new SlackApiError("response_url", "invalid_url", 0);
    }
    if (!this.#responseOrigins.includes(origin)) throw new SlackApiError("response_url", "foreign_origin", 0);
    const { status, text } = await this.post("response_url", responseUrl, {
      text: response.text,
      blocks: response.blocks,
      replace_original: response.replaceOriginal ?? false,
      ...(response.ephemeral ? { response_type: "ephemeral" } : {}),
    });
    if (status >= 300 || (apiError(text) && !isOk(text))) {
      throw new SlackApiError(
        "response_url",
        apiError(text) ?? (text.trim().slice(0, 40) || "error"),
        status,
      );
    }
  }
}

/** The Web API with a bot token (scope `chat:write`): threads, and headlines edited in place. */
export class SlackWebApiTransport implements SlackPort {
  readonly mode = "bot" as const;
  readonly #http: SlackHttp;
  readonly #token: string;
  readonly #apiUrl: string;

  constructor(token: string, options: SlackHttpOptions & { apiUrl?: string } = {}) {
    this.#token = token;
    this.#apiUrl = (options.apiUrl ?? SLACK_API_URL).replace(/\/$/, "");
    this.#http = new SlackHttp(options);
  }

  async post(input: { channel: string; message: SlackMessage; threadTs?: string }): Promise<SlackPostResult> {
    const answer = await this.#call("chat.postMessage", {
      channel: input.channel,
      text: input.message.text,
      blocks: input.message.blocks,
      unfurl_links: false,
      unfurl_media: false,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    });
    return { channelId: String(answer.channel ?? input.channel), ts: String(answer.ts) };
  }

  async update(input: { channelId: string; ts: string; message: SlackMessage }): Promise<void> {
    await this.#call("chat.update", {
      channel: input.channelId,
      ts: input.ts,
      text: input.message.text,
      blocks: input.message.blocks,
    });
  }

  respond(responseUrl: string, response: SlackResponse): Promise<void> {
    return this.#http.respond(responseUrl, response);
  }

  async #call(method: string, body: Json): Promise<Json> {
    const { status, text } = await this.#http.post(method, `${this.#apiUrl}/${method}`, body, {
      authorization: `Bearer ${this.#token}`,
    });
    let answer: Json;
    try {
      answer = JSON.parse(text) as Json;
    } catch {
      throw new SlackApiError(method, "invalid_response", status);
    }
    if (answer.ok !== true) throw new SlackApiError(method, String(answer.error ?? "unknown_error"), status);
    return answer;
  }
}

/** An incoming webhook: posts to the channel it was created for; no threads, no edits. */
export class SlackWebhookTransport implements SlackPort {
  readonly mode = "webhook" as const;
  readonly #http: SlackHttp;
  readonly #url: string;

  constructor(webhookUrl: string, options: SlackHttpOptions = {}) {
    this.#url = webhookUrl;
    this.#http = new SlackHttp(options);
  }

  async post(input: { channel: string; message: SlackMessage }): Promise<SlackPostResult> {
    const { status, text } = await this.#http.post("incoming webhook", this.#url, {
      text: input.message.text,
      blocks: input.message.blocks,
      unfurl_links: false,
    });
    // Webhooks answer `ok` in plain text, or an error code such as `invalid_payload`, `no_service`.
    if (status !== 200 || text.trim() !== "ok") {
      throw new SlackApiError("incoming webhook", text.trim().slice(0, 60) || "error", status);
    }
    return { channelId: input.channel };
  }

  async update(): Promise<void> {
    throw new Error("an incoming webhook cannot edit messages; use a bot token for threads and headlines");
  }

  respond(responseUrl: string, response: SlackResponse): Promise<void> {
    return this.#http.respond(responseUrl, response);
  }
}

function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : 1000;
}

function apiError(text: string): string | undefined {
  try {
    const answer = JSON.parse(text) as { ok?: unknown; error?: unknown };
    return answer.ok === false && typeof answer.error === "string" ? answer.error : undefined;
  } catch {
    return undefined;
  }
}

function isOk(text: string): boolean {
  try {
    return (JSON.parse(text) as { ok?: unknown }).ok === true;
  } catch {
    return text.trim() === "ok";
  }
}
