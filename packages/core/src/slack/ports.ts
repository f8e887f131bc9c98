import type { SlackMessage } from "./block-kit.ts";

export interface SlackPostResult {
  /** The channel id Slack answered with (chat.update needs the id, not the name). */
  channelId: string;
  /** The message's timestamp, its id in Slack; absent for incoming webhooks, which return none. */
  ts?: string;
}

export interface SlackResponse extends SlackMessage {
  /** Replace the message the button was on (else a new message is added). */
  replaceOriginal?: boolean;
  /** Only the person who pressed the button sees it. */
  ephemeral?: boolean;
}

/**
 * Slack, as Gantry uses it. `bot` (a bot token: chat.postMessage / chat.update) keeps one thread
 * per release and edits its headline; `webhook` (an incoming webhook) can only post standalone
 * messages to the one channel it was created for.
 */
export interface SlackPort {
  readonly mode: "bot" | "webhook";
  post(input: { channel: string; message: SlackMessage; threadTs?: string }): Promise<SlackPostResult>;
  update(input: { channelId: string; ts: string; message: SlackMessage }): Promise<void>;
  /** Answers an interaction through the `response_url` Slack sent with it. */
  respond(responseUrl: string, response: SlackResponse): Promise<void>;
}

/** What Gantry remembers of one release's thread in one channel (kept in the ledger table). */
export interface SlackThread {
  /** The release id (`service@sha256:…`), or `MSG#<key>` for a message about no release. */
  threadKey: string;
  /** The routed channel name (or `webhook`). */
  channel: string;
  channelId?: string;
  /** The headline's timestamp: the thread's root. */
  rootTs?: string;
  /** Fingerprint of the headline as last posted, so an unchanged headline is not edited. */
  headlineFingerprint?: string;
  /** Notification key → the reply's timestamp ("" where Slack returns none): what was posted. */
  posted: Record<string, string>;
}

/**
 * Threads and their de-duplication, under a lease: one delivery at a time per thread, so a
 * notification delivered twice (SNS and Lambda are at-least-once) is posted once.
 */
export interface SlackThreadStorePort {
  /** Takes the thread's lease, creating the record on first use; undefined while another holds it. */
  acquire(threadKey: string, channel: string, owner: string): Promise<SlackThread | undefined>;
  /** Saves progress and keeps the lease: what was posted survives a crash in the next step. */
  checkpoint(thread: SlackThread, owner: string): Promise<void>;
  /** Saves and gives the lease back. */
  release(thread: SlackThread, owner: string): Promise<void>;
  /** Gives the lease back without saving (after a failure). */
  abandon(thread: SlackThread, owner: string): Promise<void>;
  /** Every channel's thread of one release, read without a lease. */
  threadsOf(threadKey: string): Promise<SlackThread[]>;
  /** Replay protection for interactivity requests: true the first time a nonce is seen. */
  claimNonce(nonce: string, expiresAt: Date): Promise<boolean>;
}

/** Another delivery holds the thread's lease: try again shortly (the classifier retries it). */
export class SlackThreadBusyError extends Error {
  constructor(threadKey: string, channel: string) {
    super(`Slack thread ${threadKey} in ${channel} is being written by another delivery`);
    this.name = "SlackThreadBusyError";
  }
}
