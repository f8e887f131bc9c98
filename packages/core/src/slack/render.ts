import { encodeActionValue, SLACK_ACTION_IDS } from "./actions.ts";
import {
  type ButtonElement,
  escapeMrkdwn,
  fitMrkdwn,
  mrkdwn,
  oneLine,
  plain,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  truncate,
} from "./block-kit.ts";
import { type Headline, type HeadlineAction, headlineActions } from "./headline.ts";
import { presentKind, STATE_PRESENTATION } from "./kinds.ts";
import type { NotificationLevel, SlackNotification } from "./notification.ts";

/** Enough to read in a thread; the rest is one `gantry history` away. */
const MAX_REASONS_SHOWN = 10;
const MAX_REASON = 400;
const MAX_MESSAGE = 1000;
const MAX_VALUE = 200;
/** Room kept in the reasons section for the pointer to the CLI. */
const POINTER_RESERVE = 300;

const LEVEL_EMOJI: Record<NotificationLevel, string> = { info: "ℹ️", warning: "⚠️", failure: "🔴" };

/** The root of a release's thread: where it stands now, and the decisions it waits for. */
export function renderHeadline(headline: Headline): SlackMessage {
  const state = STATE_PRESENTATION[headline.state];
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: plain(`${state.emoji} ${oneLine(headline.service)}: ${state.title}`, SLACK_LIMITS.headerText),
    },
    { type: "section", text: mrkdwn(facts(headline)) },
  ];
  const reasons = reasonsText(headline.reasons, headline.service);
  if (reasons) blocks.push({ type: "section", text: mrkdwn(reasons) });
  blocks.push(context([`Updated ${when(headline.updatedAt)}`, historyPointer(headline.service)]));
  const actions = actionsBlock(headline);
  if (actions) blocks.push(actions);
  return {
    text: fitMrkdwn(
      oneLine(
        `${headline.service}: ${state.title}${headline.digest ? ` (${shortDigest(headline.digest)})` : ""}`,
      ),
      SLACK_LIMITS.messageText,
    ),
    blocks,
  };
}

/** One event in a release's thread. */
export function renderReply(notification: SlackNotification): SlackMessage {
  const kind = presentKind(notification.kind);
  const blocks: SlackBlock[] = [
    {
      type: "section",
      text: mrkdwn(
        `*${kind.emoji} ${fitMrkdwn(oneLine(kind.title), MAX_VALUE)}* — ${fitMrkdwn(oneLine(notification.message), MAX_MESSAGE)}`,
      ),
    },
  ];
  const reasons = reasonsText(notification.reasons, notification.service);
  if (reasons) blocks.push({ type: "section", text: mrkdwn(reasons) });
  blocks.push(context(notificationContext(notification)));
  return { text: fallbackText(notification), blocks };
}

/**
 * A message that stands alone: the incoming-webhook transport (no threads, no edits) and
 * notifications about no particular release. With a headline it carries the release's buttons.
 */
export function renderStandalone(notification: SlackNotification, headline?: Headline): SlackMessage {
  const kind = presentKind(notification.kind);
  const service = notification.service ?? headline?.service ?? "Gantry";
  const state =
    headline && headline.state !== "unknown" ? ` · ${STATE_PRESENTATION[headline.state].title}` : "";
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: plain(
        `${kind.emoji} ${oneLine(service)}: ${oneLine(kind.title)}${state}`,
        SLACK_LIMITS.headerText,
      ),
    },
    { type: "section", text: mrkdwn(fitMrkdwn(oneLine(notification.message), MAX_MESSAGE) || "-") },
  ];
  if (headline?.digest) blocks.push({ type: "section", text: mrkdwn(facts(headline)) });
  const reasons = reasonsText(notification.reasons, notification.service);
  if (reasons) blocks.push({ type: "section", text: mrkdwn(reasons) });
  blocks.push(context(notificationContext(notification)));
  const actions = headline ? actionsBlock(headline) : undefined;
  if (actions) blocks.push(actions);
  return { text: fallbackText(notification), blocks };
}

/** A short answer to the person who pressed a button (sent as an ephemeral response). */
export function renderNotice(text: string): SlackMessage {
  const fitted = fitMrkdwn(oneLine(text), SLACK_LIMITS.sectionText);
  return {
    text: fitMrkdwn(oneLine(text), SLACK_LIMITS.messageText),
    blocks: [{ type: "section", text: mrkdwn(fitted || "-") }],
  };
}

function facts(headline: Headline): string {
  const lines: string[] = [];
  if (headline.digest) {
    const image = headline.image ? ` (${fitMrkdwn(oneLine(headline.image), MAX_VALUE)})` : "";
    lines.push(`*Release* ${code(shortDigest(headline.digest))}${image}`);
  }
  const extra: string[] = [];
  if (headline.policy) extra.push(`*Policy* ${fitMrkdwn(oneLine(headline.policy), MAX_VALUE)}`);
  if (headline.operationId) extra.push(`*Operation* ${code(headline.operationId.slice(0, 8))}`);
  if (extra.length) lines.push(extra.join(" · "));
  if (headline.approvedBy) {
    lines.push(
      `*Approved by* ${fitMrkdwn(oneLine(headline.approvedBy.actor), MAX_VALUE)}: ${fitMrkdwn(oneLine(headline.approvedBy.reason), MAX_REASON)}`,
    );
  }
  if (headline.keptBlockedBy) {
    lines.push(
      `*Kept blocked by* ${fitMrkdwn(oneLine(headline.keptBlockedBy.actor), MAX_VALUE)} (${when(headline.keptBlockedBy.at)})`,
    );
  }
  if (headline.quarantined) lines.push("*Quarantined*: Gantry will not deploy this digest again on its own");
  return lines.join("\n") || "-";
}

function reasonsText(reasons: readonly string[], service: string | undefined): string | undefined {
  if (reasons.length === 0) return undefined;
  const budget = SLACK_LIMITS.sectionText - POINTER_RESERVE;
  const lines: string[] = [];
  let used = 0;
  let shortened = false;
  for (const reason of reasons) {
    if (lines.length >= MAX_REASONS_SHOWN) break;
    const raw = oneLine(reason);
    const line = `• ${fitMrkdwn(raw, MAX_REASON) || "-"}`;
    if (used + line.length + 1 > budget) break;
    if (escapeMrkdwn(raw).length > MAX_REASON) shortened = true;
    lines.push(line);
    used += line.length + 1;
  }
  const hidden = reasons.length - lines.length;
  if (hidden > 0) lines.push(`_…and ${hidden} more. The full list: ${historyCommand(service)}_`);
  else if (shortened) lines.push(`_Shortened. The full text: ${historyCommand(service)}_`);
  return lines.join("\n");
}

function historyPointer(service: string): string {
  return `Full history: ${historyCommand(service)}`;
}

function historyCommand(service: string | undefined): string {
  return code(`gantry history ${service ? oneLine(service) : "<service>"}`);
}

function notificationContext(notification: SlackNotification): string[] {
  const parts = [`${LEVEL_EMOJI[notification.level] ?? ""} ${notification.level}`, when(notification.at)];
  if (notification.operationId) parts.push(`operation ${code(notification.operationId.slice(0, 8))}`);
  if (notification.digest) parts.push(code(shortDigest(notification.digest)));
  return [parts.join(" · ")];
}

function fallbackText(notification: SlackNotification): string {
  const kind = presentKind(notification.kind);
  const service = notification.service ? `${notification.service}: ` : "";
  return fitMrkdwn(oneLine(`${service}${kind.title}: ${notification.message}`), SLACK_LIMITS.messageText);
}

function context(parts: string[]): SlackBlock {
  return {
    type: "context",
    elements: parts
      .slice(0, SLACK_LIMITS.contextElements)
      .map((part) => mrkdwn(truncate(part, SLACK_LIMITS.textObject))),
  };
}

const BUTTONS: Record<HeadlineAction, Omit<ButtonElement, "type" | "action_id" | "value">> = {
  "approve-once": {
    text: plain("Approve once"),
    style: "primary",
    confirm: {
      title: plain("Approve this release?"),
      text: plain(
        "Gantry deploys this digest despite the gate, once. Your Slack user is recorded as the approver.",
      ),
      confirm: plain("Approve once"),
      deny: plain("Cancel"),
    },
  },
  "keep-blocked": { text: plain("Keep blocked") },
  // Its confirmation names the target digest (rollbackConfirm).
  rollback: { text: plain("Roll back to last good"), style: "danger" },
  "lift-quarantine": { text: plain("Lift quarantine") },
};

function actionsBlock(headline: Headline): SlackBlock | undefined {
  const actions = headlineActions(headline);
  if (actions.length === 0 || !headline.serviceArn || !headline.digest) return undefined;
  const value = encodeActionValue({
    serviceArn: headline.serviceArn,
    digest: headline.digest,
    ...(headline.rollbackTo ? { rollbackTo: headline.rollbackTo } : {}),
  });
  // A value Slack would refuse means no buttons, never a message Slack rejects.
  if (value.length > SLACK_LIMITS.buttonValue) return undefined;
  return {
    type: "actions",
    block_id: "gantry.decision",
    elements: actions.map((action) => ({
      type: "button",
      action_id: SLACK_ACTION_IDS[action],
      value,
      ...BUTTONS[action],
      ...(action === "rollback" && headline.rollbackTo
        ? { confirm: rollbackConfirm(headline.rollbackTo) }
        : {}),
    })),
  };
}

/** The confirmation names the digest the press deploys: the button acts on exactly that one. */
function rollbackConfirm(rollbackTo: string): ButtonElement["confirm"] {
  return {
    title: plain("Roll back?"),
    text: plain(
      `Gantry deploys ${shortDigest(rollbackTo)} (the last release that went live), unless the service has moved on since this message. Your Slack user is recorded.`,
    ),
    confirm: plain("Roll back"),
    deny: plain("Cancel"),
  };
}

/** A code span of at most ~130 characters; a backtick inside would end it early. */
function code(text: string): string {
  return `\`${fitMrkdwn(text.replace(/`/g, "'"), 128)}\``;
}

function shortDigest(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

function when(at: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(at)
    ? `${at.slice(0, 10)} ${at.slice(11, 19)} UTC`
    : fitMrkdwn(oneLine(at), 40);
}
