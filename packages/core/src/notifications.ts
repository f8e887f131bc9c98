import type { Effect } from "./effects.ts";
import type { Notification } from "./ports.ts";

const NOTIFIED: ReadonlySet<Effect["type"]> = new Set([
  "deploy",
  "block",
  "wait",
  "drift",
  "notify",
  "error",
  "outcome",
  "supersede",
  "allow",
  "approve",
  // Self-healing (issue 4): what Slack threads tell about a release after its deploy started.
  "rollback",
  "quarantine",
  "retry",
  "giveup",
  "rebuild",
  "recreate",
  "resume",
  "paused",
  "stuck",
]);

const DEFAULT_LEVEL: Record<string, Notification["level"]> = {
  block: "warning",
  drift: "warning",
  error: "failure",
};

/** Which effects become SNS notifications (ignores and bare candidates are ledger-only). */
export function toNotification(effect: Effect, at: Date): Notification | undefined {
  if (!NOTIFIED.has(effect.type)) return undefined;
  return {
    schemaVersion: 1,
    kind: effect.type,
    level: effect.level ?? DEFAULT_LEVEL[effect.type] ?? "info",
    ...(effect.service ? { service: effect.service } : {}),
    ...(effect.serviceArn ? { serviceArn: effect.serviceArn } : {}),
    ...(effect.digest ? { digest: effect.digest } : {}),
    ...(effect.service && effect.digest ? { releaseId: `${effect.service}@${effect.digest}` } : {}),
    ...(effect.operationId ? { operationId: effect.operationId } : {}),
    reasons: effect.reasons ?? [],
    message: effect.message ?? effect.type,
    at: at.toISOString(),
  };
}
