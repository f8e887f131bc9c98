import type { Notification } from "../ports.ts";

/**
 * A domain notification as the Slack side reads it off SNS: schema version 1, with `kind` widened
 * to any string so a message from a newer producer (a kind this build does not know yet) still
 * renders instead of being dropped.
 */
export interface SlackNotification extends Omit<Notification, "kind"> {
  kind: string;
  /** Set by producers that know it: how a deployment ended, who acted. */
  outcome?: string;
  actor?: string;
}

export type NotificationLevel = Notification["level"];

/** Lowest first: a channel's threshold lets its level and everything above through. */
export const NOTIFICATION_LEVELS: readonly NotificationLevel[] = ["info", "warning", "failure"];

export function levelRank(level: NotificationLevel): number {
  return NOTIFICATION_LEVELS.indexOf(level);
}
