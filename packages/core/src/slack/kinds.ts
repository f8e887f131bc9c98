import type { EffectType } from "../effects.ts";
import type { ReleaseState } from "../release.ts";

export interface Presentation {
  emoji: string;
  title: string;
}

/**
 * How each notification kind reads in Slack. A `Record` over every effect type, so a new kind does
 * not compile until someone decides how it looks.
 */
export const KIND_PRESENTATION: Record<EffectType, Presentation> = {
  candidate: { emoji: "📦", title: "Release candidate" },
  allow: { emoji: "✅", title: "Scan passed" },
  block: { emoji: "🚫", title: "Blocked" },
  approve: { emoji: "🙋", title: "Approved by a person" },
  wait: { emoji: "⏳", title: "Waiting for the running operation" },
  deploy: { emoji: "🚀", title: "Deploying" },
  outcome: { emoji: "🏁", title: "Deployment finished" },
  supersede: { emoji: "⏭️", title: "Superseded" },
  drift: { emoji: "🧭", title: "Configuration drift" },
  notify: { emoji: "📣", title: "Notice" },
  error: { emoji: "💥", title: "Error" },
  ignore: { emoji: "🙈", title: "Ignored" },
  rollback: { emoji: "↩️", title: "Rolled back" },
  quarantine: { emoji: "🔒", title: "Quarantine" },
  retry: { emoji: "🔁", title: "Retrying" },
  rebuild: { emoji: "🛠️", title: "Rebuilding the service" },
  recreate: { emoji: "🏗️", title: "Recreating the service" },
  resume: { emoji: "▶️", title: "Resumed" },
  giveup: { emoji: "🛑", title: "Gave up" },
  stuck: { emoji: "🐢", title: "Operation stuck" },
  paused: { emoji: "⏸️", title: "Paused" },
  slack: { emoji: "💬", title: "Slack" },
};

/** A kind from a newer producer: shown by name rather than dropped. */
export function presentKind(kind: string): Presentation {
  return Object.hasOwn(KIND_PRESENTATION, kind)
    ? KIND_PRESENTATION[kind as EffectType]
    : { emoji: "•", title: kind };
}

/** The headline's words for where a release stands. */
export const STATE_PRESENTATION: Record<ReleaseState | "unknown", Presentation> = {
  "awaiting-scan": { emoji: "⏳", title: "awaiting scan" },
  blocked: { emoji: "🚫", title: "blocked" },
  waiting: { emoji: "⏸️", title: "approved, waiting to deploy" },
  deploying: { emoji: "🚀", title: "deploying" },
  deployed: { emoji: "✅", title: "live" },
  failed: { emoji: "❌", title: "deployment failed" },
  "rolled-back": { emoji: "↩️", title: "rolled back" },
  "rollback-failed": { emoji: "🔥", title: "rollback failed" },
  retrying: { emoji: "🔁", title: "retrying" },
  superseded: { emoji: "⏭️", title: "superseded" },
  unknown: { emoji: "•", title: "update" },
};
