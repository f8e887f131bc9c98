import type { LedgerPort } from "../ports.ts";
import { type Release, releaseId } from "../release.ts";
import type { SlackMessage } from "./block-kit.ts";
import {
  fingerprint,
  type Headline,
  headlineFromNotification,
  headlineFromRelease,
  offersRollback,
} from "./headline.ts";
import { levelRank, type SlackNotification } from "./notification.ts";
import {
  type SlackPort,
  type SlackThread,
  SlackThreadBusyError,
  type SlackThreadStorePort,
} from "./ports.ts";
import { renderHeadline, renderReply, renderStandalone } from "./render.ts";
import { routeNotification, type SlackRouting } from "./routing.ts";

/** The channel name threads of the incoming-webhook transport are kept under. */
export const WEBHOOK_CHANNEL = "webhook";

/**
 * How long a delivery waits for a thread another delivery is writing (e.g. "approve" and "deploy"
 * published back to back for one release) before giving up to a platform retry.
 */
const LEASE_WAITS_MS = [100, 200, 400, 800, 1600, 2000, 2000];

export interface SlackDeliveryDeps {
  slack: SlackPort;
  threads: SlackThreadStorePort;
  ledger: Pick<LedgerPort, "getRelease" | "history" | "releasesByService">;
  routing: SlackRouting;
  /** The service's `gantry:channel` tag, when it has one. */
  channelTagOf(serviceArn: string): Promise<string | undefined>;
  /** A fresh lease owner per delivery. */
  newOwner(): string;
  sleep(ms: number): Promise<void>;
}

/** One thing a delivery did (or found already done), for logs, metrics and the sandbox. */
export interface SlackDelivery {
  channel: string;
  threadKey: string;
  action: "post" | "reply" | "update" | "duplicate";
  ts?: string;
}

/**
 * Posts one notification to every channel it is routed to. Per channel, under the thread's lease:
 * skip it if this notification `key` was posted already; otherwise start the release's thread with
 * its headline if there is none, reply with the notification, and edit the headline when the
 * release moved on. Each step is saved before the next, so a retry resumes rather than repeats.
 */
export async function deliverToSlack(
  deps: SlackDeliveryDeps,
  input: { notification: SlackNotification; key: string },
): Promise<SlackDelivery[]> {
  const { notification, key } = input;
  const channels = await channelsFor(deps, notification);
  if (channels.length === 0) return [];
  const threadKey = notification.releaseId ?? `MSG#${key}`;
  const headline = await currentHeadline(deps, notification);
  const done: SlackDelivery[] = [];
  for (const channel of channels) {
    const owner = deps.newOwner();
    const thread = await acquire(deps, threadKey, channel, owner);
    try {
      done.push(...(await deliverInThread(deps, thread, owner, notification, key, headline)));
      await deps.threads.release(thread, owner);
    } catch (error) {
      await deps.threads.abandon(thread, owner).catch(() => undefined);
      throw error;
    }
  }
  return done;
}

async function deliverInThread(
  deps: SlackDeliveryDeps,
  thread: SlackThread,
  owner: string,
  notification: SlackNotification,
  key: string,
  headline: Headline,
): Promise<SlackDelivery[]> {
  const at = { channel: thread.channel, threadKey: thread.threadKey };
  const standalone = deps.slack.mode === "webhook" || !notification.releaseId;
  if (thread.posted[key] !== undefined) {
    // Posted by an earlier delivery; that one may have died before editing the headline.
    const refreshed = standalone ? [] : await refreshInThread(deps, thread, headline);
    return [{ ...at, action: "duplicate", ts: thread.posted[key] || undefined }, ...refreshed];
  }
  if (standalone) {
    const message = renderStandalone(notification, notification.releaseId ? headline : undefined);
    const posted = await deps.slack.post({ channel: thread.channel, message });
    thread.channelId = posted.channelId;
    thread.rootTs ??= posted.ts;
    thread.posted[key] = posted.ts ?? "";
    return [{ ...at, action: "post", ...(posted.ts ? { ts: posted.ts } : {}) }];
  }
  const done: SlackDelivery[] = [];
  if (!thread.rootTs) {
    const message = renderHeadline(headline);
    const root = await deps.slack.post({ channel: thread.channel, message });
    thread.channelId = root.channelId;
    thread.rootTs = root.ts;
    thread.headlineFingerprint = fingerprintOf(message);
    await deps.threads.checkpoint(thread, owner);
    done.push({ ...at, action: "post", ...(root.ts ? { ts: root.ts } : {}) });
  }
  const reply = await deps.slack.post({
    channel: thread.channelId ?? thread.channel,
    message: renderReply(notification),
    ...(thread.rootTs ? { threadTs: thread.rootTs } : {}),
  });
  thread.posted[key] = reply.ts ?? "";
  await deps.threads.checkpoint(thread, owner);
  done.push({ ...at, action: "reply", ...(reply.ts ? { ts: reply.ts } : {}) });
  done.push(...(await refreshInThread(deps, thread, headline)));
  return done;
}

/** Edits the thread's headline when it no longer says what the ledger says. */
async function refreshInThread(
  deps: Pick<SlackDeliveryDeps, "slack">,
  thread: SlackThread,
  headline: Headline,
): Promise<SlackDelivery[]> {
  if (!thread.rootTs || !thread.channelId) return [];
  const message = renderHeadline(headline);
  const print = fingerprintOf(message);
  if (print === thread.headlineFingerprint) return [];
  await deps.slack.update({ channelId: thread.channelId, ts: thread.rootTs, message });
  thread.headlineFingerprint = print;
  return [{ channel: thread.channel, threadKey: thread.threadKey, action: "update", ts: thread.rootTs }];
}

/**
 * After a decision taken in Slack: edit every channel's headline of the release at once (the
 * notifications the decision published follow through SNS). Under the thread's lease when it is
 * free, so the next delivery knows the edit was made; without it when a delivery holds the lease,
 * since the edit only shows what the ledger says and that delivery re-checks the headline anyway.
 */
export async function refreshHeadlines(
  deps: Pick<SlackDeliveryDeps, "slack" | "threads" | "ledger" | "newOwner">,
  target: { serviceArn: string; digest: string },
): Promise<SlackDelivery[]> {
  if (deps.slack.mode !== "bot") return [];
  const release = await deps.ledger.getRelease(target.serviceArn, target.digest);
  if (!release) return [];
  const headline = await headlineOf(deps, release);
  const done: SlackDelivery[] = [];
  for (const known of await deps.threads.threadsOf(releaseId(release))) {
    const owner = deps.newOwner();
    const leased = await deps.threads.acquire(known.threadKey, known.channel, owner);
    const thread = leased ?? known;
    try {
      done.push(...(await refreshInThread(deps, thread, headline)));
      if (leased) await deps.threads.release(leased, owner);
    } catch (error) {
      if (leased) await deps.threads.abandon(leased, owner).catch(() => undefined);
      throw error;
    }
  }
  return done;
}

/** The release as the ledger has it now, else what the notification says. */
export async function currentHeadline(
  deps: Pick<SlackDeliveryDeps, "ledger">,
  notification: SlackNotification,
): Promise<Headline> {
  if (notification.serviceArn && notification.digest) {
    const release = await deps.ledger.getRelease(notification.serviceArn, notification.digest);
    if (release) return headlineOf(deps, release);
  }
  return headlineFromNotification(notification);
}

async function headlineOf(deps: Pick<SlackDeliveryDeps, "ledger">, release: Release): Promise<Headline> {
  const [journal, releases] = await Promise.all([
    deps.ledger.history(release.serviceArn),
    // A failed release's rollback button names the last good digest of the service.
    offersRollback(release.state) ? deps.ledger.releasesByService(release.serviceArn) : [],
  ]);
  return headlineFromRelease(release, journal, releases);
}

async function channelsFor(deps: SlackDeliveryDeps, notification: SlackNotification): Promise<string[]> {
  if (deps.slack.mode === "webhook") {
    // A webhook posts to the channel it was made for: the home threshold applies, tags cannot move it.
    return levelRank(notification.level) >= levelRank(deps.routing.home.minLevel) ? [WEBHOOK_CHANNEL] : [];
  }
  const tag = notification.serviceArn ? await deps.channelTagOf(notification.serviceArn) : undefined;
  return routeNotification(deps.routing, notification, tag);
}

async function acquire(deps: SlackDeliveryDeps, threadKey: string, channel: string, owner: string) {
  for (let attempt = 0; ; attempt++) {
    const thread = await deps.threads.acquire(threadKey, channel, owner);
    if (thread) return thread;
    const wait = LEASE_WAITS_MS[attempt];
    if (wait === undefined) throw new SlackThreadBusyError(threadKey, channel);
    await deps.sleep(wait);
  }
}

function fingerprintOf(message: SlackMessage): string {
  return fingerprint(JSON.stringify(message));
}
