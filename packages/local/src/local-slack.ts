/**
 * A Slack stand-in on loopback for the sandbox and tests: the Web API methods Gantry calls
 * (`chat.postMessage`, `chat.update`, bearer token checked), an incoming webhook, and the
 * `response_url`s of interactions. It keeps channels and threads, refuses what Slack would refuse
 * (unknown token, unknown thread or message, blocks over Slack's limits: `invalid_blocks`), can
 * answer 429 with Retry-After or 5xx on demand, renders the conversation as text, and builds signed
 * button presses the way Slack sends them to an interactivity URL.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Clock, type SlackBlock, type SlackMessage, slackMessageProblems } from "@gantry/core";
import { slackSignature } from "@gantry/runtime";

export interface LocalSlackMessage {
  channel: string;
  channelId: string;
  ts: string;
  /** Set on replies: the root's ts. */
  threadTs?: string;
  text: string;
  blocks: SlackBlock[];
  via: "web-api" | "webhook" | "response-url";
  /** Earlier versions, oldest first: what chat.update replaced. */
  edits: { text: string; blocks: SlackBlock[] }[];
  /** Seen only by this user (an ephemeral interaction response). */
  ephemeralTo?: string;
}

/** One post or edit, as the sandbox's timeline records it. */
export interface LocalSlackActivity {
  channel: string;
  /** The thread's root ts (a root's own ts). */
  thread: string;
  action: "post" | "reply" | "update";
  text: string;
  ts: string;
  ephemeral?: boolean;
}

export interface LocalSlackFault {
  /** `chat.postMessage`, `chat.update`, `webhook`, `response_url`; all of them when unset. */
  method?: string;
  status: 429 | 500 | 502 | 503;
  retryAfterSeconds?: number;
  times?: number;
}

export interface LocalSlackOptions {
  clock: Clock;
  botToken?: string;
  signingSecret?: string;
  /** The channel the incoming webhook was "created for". */
  webhookChannel?: string;
  teamId?: string;
  onActivity?: (activity: LocalSlackActivity) => void;
}

interface Answer {
  status: number;
  body: Record<string, unknown> | string;
}

interface PendingResponse {
  messageTs: string;
  channelId: string;
  user: string;
}

export class LocalSlack {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly teamId: string;
  readonly messages: LocalSlackMessage[] = [];
  /** Every request with the status it got: what retry tests count. */
  readonly requests: { method: string; status: number }[] = [];
  readonly #channels = new Map<string, string>(); // name → id
  readonly #faults: (LocalSlackFault & { left: number })[] = [];
  readonly #responseUrls = new Map<string, PendingResponse>();
  readonly #sockets = new Set<Socket>();
  readonly #options: LocalSlackOptions;
  #held?: { gate: Promise<void>; arrive: (method: string) => void };
  #sequence = 0;
  #server?: Server;
  #baseUrl = "";

  constructor(options: LocalSlackOptions) {
    this.#options = options;
    this.botToken = options.botToken ?? "xoxb-sandbox-0000000000-local";
    this.signingSecret = options.signingSecret ?? "sandbox-signing-secret";
    this.teamId = options.teamId ?? "T0SANDBOX";
  }

  async start(): Promise<{ apiUrl: string; webhookUrl: string }> {
    const server = createServer((request, response) => {
      void this.#handle(request, response).catch((error: Error) => {
        response.writeHead(500, { "content-type": "text/plain" });
        response.end(`stand-in error: ${error.message}`);
      });
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    this.#baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { apiUrl: `${this.#baseUrl}/api`, webhookUrl: this.webhookUrl };
  }

  get webhookUrl(): string {
    return `${this.#baseUrl}/services/${this.teamId}/B0SANDBOX/sandboxwebhooksecret`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  injectFault(fault: LocalSlackFault): void {
    this.#faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Slack is back. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  /**
   * A slow Slack under the test's control: every request from now on waits, unanswered, until
   * `release()`. `arrived` resolves with the method of the first request that came in meanwhile.
   */
  hold(): { arrived: Promise<string>; release: () => void } {
    let arrive: (method: string) => void = () => undefined;
    let release: () => void = () => undefined;
    const arrived = new Promise<string>((resolve) => {
      arrive = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#held = { gate, arrive };
    return {
      arrived,
      release: () => {
        this.#held = undefined;
        release();
      },
    };
  }

  /** Root messages (thread starters and standalone posts) of a channel, oldest first. */
  roots(channel: string): LocalSlackMessage[] {
    return this.messages.filter(
      (message) => message.channel === channel.replace(/^#/, "") && !message.threadTs,
    );
  }

  replies(root: LocalSlackMessage): LocalSlackMessage[] {
    return this.messages.filter(
      (message) => message.channelId === root.channelId && message.threadTs === root.ts,
    );
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  /**
   * A button press on `message`, as Slack POSTs it to the interactivity URL: a form-encoded
   * `payload`, signed with the signing secret at `timestamp` (now by default).
   */
  buttonPress(input: {
    message: LocalSlackMessage;
    actionId: string;
    user: { id: string; name: string };
    timestamp?: number;
    signingSecret?: string;
    teamId?: string;
  }): { headers: Record<string, string>; body: string } {
    const button = input.message.blocks
      .flatMap((block) => (block.type === "actions" ? block.elements : []))
      .find((element) => element.action_id === input.actionId);
    if (!button) throw new Error(`no button ${input.actionId} on message ${input.message.ts}`);
    const responseId = randomUUID();
    this.#responseUrls.set(responseId, {
      messageTs: input.message.ts,
      channelId: input.message.channelId,
      user: input.user.id,
    });
    const timestamp = String(input.timestamp ?? Math.floor(this.#options.clock.now().getTime() / 1000));
    const payload = {
      type: "block_actions",
      user: {
        id: input.user.id,
        username: input.user.name,
        name: input.user.name,
        team_id: input.teamId ?? this.teamId,
      },
      api_app_id: "A0SANDBOX",
      team: { id: input.teamId ?? this.teamId, domain: "sandbox" },
      container: { type: "message", message_ts: input.message.ts, channel_id: input.message.channelId },
      channel: { id: input.message.channelId, name: input.message.channel },
      message: {
        type: "message",
        ts: input.message.ts,
        ...(input.message.threadTs ? { thread_ts: input.message.threadTs } : {}),
        text: input.message.text,
        blocks: input.message.blocks,
      },
      response_url: `${this.#baseUrl}/actions/${responseId}`,
      trigger_id: `${timestamp}.sandbox.${responseId.slice(0, 8)}`,
      actions: [
        {
          type: "button",
          action_id: button.action_id,
          block_id: "gantry.decision",
          value: button.value,
          text: button.text,
          action_ts: `${timestamp}.000001`,
        },
      ],
    };
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    return {
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": slackSignature(input.signingSecret ?? this.signingSecret, timestamp, body),
      },
      body,
    };
  }

  /** The conversation as a person would read it: channels, headlines (edits counted), replies. */
  render(): string {
    const lines: string[] = [];
    for (const channel of this.channels()) {
      lines.push(`#${channel}`);
      for (const root of this.roots(channel)) {
        if (root.ephemeralTo) continue;
        const edited = root.edits.length ? `   (edited ${root.edits.length}×)` : "";
        lines.push(...indent(messageLines(root), "  ", `[${timeOf(root.ts)}] `, edited));
        for (const reply of this.replies(root)) {
          lines.push(...indent(messageLines(reply), "      ", `↳ [${timeOf(reply.ts)}] `, ""));
        }
      }
    }
    return lines.join("\n");
  }

  // -------------------------------------------------------------------------------------------

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const path = new URL(request.url ?? "/", "http://local").pathname;
    const method = path.startsWith("/api/")
      ? path.slice(5)
      : path.startsWith("/services/")
        ? "webhook"
        : path.startsWith("/actions/")
          ? "response_url"
          : path;
    if (this.#held) {
      const held = this.#held;
      held.arrive(method);
      await held.gate;
    }
    const fault = this.#faults.find(
      (candidate) => candidate.left > 0 && (!candidate.method || candidate.method === method),
    );
    if (fault) {
      fault.left--;
      return this.#send(
        response,
        method,
        fault.status,
        fault.status === 429 ? { ok: false, error: "ratelimited" } : "upstream trouble",
        fault.status === 429 ? { "retry-after": String(fault.retryAfterSeconds ?? 1) } : {},
      );
    }
    if (request.method !== "POST") return this.#send(response, method, 405, "method not allowed");
    const body = parseBody(raw, request.headers["content-type"]);
    switch (method) {
      case "chat.postMessage":
      case "chat.update":
        if (request.headers.authorization !== `Bearer ${this.botToken}`) {
          return this.#send(response, method, 200, { ok: false, error: "invalid_auth" });
        }
        return this.#send(
          response,
          method,
          200,
          method === "chat.update" ? this.#update(body) : this.#post(body),
        );
      case "webhook":
        if (!path.endsWith("/sandboxwebhooksecret")) return this.#send(response, method, 404, "no_service");
        return this.#answer(response, method, this.#webhook(body));
      case "response_url":
        return this.#answer(response, method, this.#respond(path.slice("/actions/".length), body));
      default:
        return this.#send(response, method, 404, { ok: false, error: "unknown_method" });
    }
  }

  #post(body: Record<string, unknown>): Record<string, unknown> {
    const channel = typeof body.channel === "string" ? this.#resolveChannel(body.channel) : undefined;
    if (!channel) return { ok: false, error: "channel_not_found" };
    const message = messageOf(body);
    if ("error" in message) return { ok: false, ...message };
    const threadTs = typeof body.thread_ts === "string" ? body.thread_ts : undefined;
    if (
      threadTs &&
      !this.messages.some((candidate) => candidate.channelId === channel.id && candidate.ts === threadTs)
    ) {
      return { ok: false, error: "thread_not_found" };
    }
    const posted = this.#record({
      ...message,
      channel: channel.name,
      channelId: channel.id,
      via: "web-api",
      ...(threadTs ? { threadTs } : {}),
    });
    return { ok: true, channel: channel.id, ts: posted.ts, message: { text: posted.text, ts: posted.ts } };
  }

  #update(body: Record<string, unknown>): Record<string, unknown> {
    const target = this.messages.find(
      (candidate) => candidate.channelId === body.channel && candidate.ts === body.ts,
    );
    if (!target)
      return {
        ok: false,
        error:
          body.channel && this.#idKnown(String(body.channel)) ? "message_not_found" : "channel_not_found",
      };
    const message = messageOf(body);
    if ("error" in message) return { ok: false, ...message };
    this.#edit(target, message);
    return { ok: true, channel: target.channelId, ts: target.ts, text: target.text };
  }

  #webhook(body: Record<string, unknown>): Answer {
    const message = messageOf(body);
    if ("error" in message) {
      return { status: 400, body: message.error === "invalid_blocks" ? "invalid_blocks" : "invalid_payload" };
    }
    const channel = this.#resolveChannel(this.#options.webhookChannel ?? "deploys") as {
      id: string;
      name: string;
    };
    this.#record({ ...message, channel: channel.name, channelId: channel.id, via: "webhook" });
    return { status: 200, body: "ok" };
  }

  #respond(id: string, body: Record<string, unknown>): Answer {
    const pending = this.#responseUrls.get(id);
    if (!pending) return { status: 404, body: { ok: false, error: "expired_url" } };
    const message = messageOf(body);
    if ("error" in message) return { status: 200, body: { ok: false, ...message } };
    const original = this.messages.find(
      (candidate) => candidate.channelId === pending.channelId && candidate.ts === pending.messageTs,
    );
    if (!original) return { status: 200, body: { ok: false, error: "message_not_found" } };
    if (body.replace_original === true && body.response_type !== "ephemeral") this.#edit(original, message);
    else {
      this.#record({
        ...message,
        channel: original.channel,
        channelId: original.channelId,
        via: "response-url",
        ...(original.threadTs ? { threadTs: original.threadTs } : {}),
        ...(body.response_type === "ephemeral" ? { ephemeralTo: pending.user } : {}),
      });
    }
    return { status: 200, body: { ok: true } };
  }

  #record(input: Omit<LocalSlackMessage, "ts" | "edits">): LocalSlackMessage {
    const message: LocalSlackMessage = { ...input, ts: this.#nextTs(), edits: [] };
    this.messages.push(message);
    this.#options.onActivity?.({
      channel: message.channel,
      thread: message.threadTs ?? message.ts,
      action: message.threadTs ? "reply" : "post",
      text: message.text,
      ts: message.ts,
      ...(message.ephemeralTo ? { ephemeral: true } : {}),
    });
    return message;
  }

  #edit(target: LocalSlackMessage, message: SlackMessage): void {
    target.edits.push({ text: target.text, blocks: target.blocks });
    target.text = message.text;
    target.blocks = message.blocks;
    this.#options.onActivity?.({
      channel: target.channel,
      thread: target.threadTs ?? target.ts,
      action: "update",
      text: target.text,
      ts: target.ts,
    });
  }

  /** A name (`deploys`, `#deploys`) is created on first use, as if the bot had been invited; an id must exist. */
  #resolveChannel(nameOrId: string): { id: string; name: string } | undefined {
    for (const [name, id] of this.#channels) if (id === nameOrId) return { id, name };
    const name = nameOrId.replace(/^#/, "");
    if (!/^[a-z0-9][a-z0-9._-]{0,79}$/.test(name)) return undefined;
    let id = this.#channels.get(name);
    if (!id) {
      id = `C${String(this.#channels.size + 1).padStart(8, "0")}`;
      this.#channels.set(name, id);
    }
    return { id, name };
  }

  #idKnown(id: string): boolean {
    return [...this.#channels.values()].includes(id);
  }

  /** Slack timestamps: seconds of (sandbox) time, then a sequence: unique and ordered. */
  #nextTs(): string {
    this.#sequence++;
    return `${Math.floor(this.#options.clock.now().getTime() / 1000)}.${String(this.#sequence).padStart(6, "0")}`;
  }

  #answer(response: ServerResponse, method: string, answer: Answer): void {
    this.#send(response, method, answer.status, answer.body);
  }

  #send(
    response: ServerResponse,
    method: string,
    status: number,
    body: Record<string, unknown> | string,
    headers: Record<string, string> = {},
  ): void {
    this.requests.push({ method, status });
    const json = typeof body !== "string";
    response.writeHead(status, { "content-type": json ? "application/json" : "text/plain", ...headers });
    response.end(json ? JSON.stringify(body) : body);
  }
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  try {
    if (contentType?.includes("application/x-www-form-urlencoded")) {
      const form = Object.fromEntries(new URLSearchParams(raw));
      if (typeof form.blocks === "string") return { ...form, blocks: JSON.parse(form.blocks) };
      return form;
    }
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Text and blocks of a post, checked the way Slack checks them. */
function messageOf(body: Record<string, unknown>): SlackMessage | { error: string; errors?: string[] } {
  const text = typeof body.text === "string" ? body.text : "";
  const blocks = Array.isArray(body.blocks) ? (body.blocks as SlackBlock[]) : [];
  if (!text && blocks.length === 0) return { error: "no_text" };
  const problems = slackMessageProblems({ text, blocks });
  if (problems.length > 0) return { error: "invalid_blocks", errors: problems };
  return { text, blocks };
}

/** Blocks as plain lines: mrkdwn entities decoded, buttons in brackets. */
function messageLines(message: LocalSlackMessage): string[] {
  if (message.blocks.length === 0) return [decode(message.text)];
  const lines: string[] = [];
  for (const block of message.blocks) {
    switch (block.type) {
      case "header":
        lines.push(block.text.text);
        break;
      case "section":
        lines.push(...decode(block.text.text).split("\n"));
        break;
      case "context":
        lines.push(block.elements.map((element) => decode(element.text)).join("  "));
        break;
      case "actions":
        lines.push(block.elements.map((button) => `[${button.text.text}]`).join(" "));
        break;
      case "divider":
        lines.push("────");
        break;
    }
  }
  return lines;
}

function indent(lines: string[], pad: string, first: string, suffix: string): string[] {
  return lines.map((line, index) =>
    index === 0 ? `${pad}${first}${line}${suffix}` : `${pad}${" ".repeat(first.length)}${line}`,
  );
}

/** mrkdwn to plain reading: markers (`*bold*`, `_italic_`, code spans) dropped, entities decoded. */
function decode(text: string): string {
  return text
    .replace(/\*([^*\n]+)\*/g, "$1")
    .replace(/(^|\s)_([^_\n]+)_(?=\s|$)/g, "$1$2")
    .replace(/`([^`\n]*)`/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function timeOf(ts: string): string {
  return new Date(Number(ts.split(".")[0]) * 1000).toISOString().slice(11, 19);
}
