/**
 * What Gantry did, as data: use cases return effects, the runtime publishes them as notifications,
 * and `gantry replay --json` prints them one per line (the sandbox's programmable face).
 */
export type EffectType =
  | "deploy"
  | "block"
  | "wait"
  | "ignore"
  | "drift"
  | "notify"
  | "error"
  | "outcome"
  | "supersede"
  | "candidate"
  | "allow"
  | "approve"
  | "rollback"
  | "quarantine"
  | "retry"
  | "rebuild"
  | "recreate"
  | "resume"
  | "giveup"
  | "stuck"
  | "paused"
  /** A post or edit the Slack side received (sandbox timeline only; never notified). */
  | "slack";

export interface Effect {
  type: EffectType;
  service?: string;
  serviceArn?: string;
  digest?: string;
  reasons?: string[];
  operationId?: string;
  /** Free-form detail for humans (timeline, Slack); never parsed. */
  message?: string;
  level?: "info" | "warning" | "failure";
  [extra: string]: unknown;
}
