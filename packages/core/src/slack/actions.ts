import type { HeadlineAction } from "./headline.ts";

/** `action_id`s of the headline's buttons, as they come back in Slack's interaction payloads. */
export const SLACK_ACTION_IDS: Record<HeadlineAction, string> = {
  "approve-once": "gantry.approve-once",
  "keep-blocked": "gantry.keep-blocked",
  rollback: "gantry.rollback-to-last-good",
  "lift-quarantine": "gantry.lift-quarantine",
};

export function actionFromId(actionId: string): HeadlineAction | undefined {
  const found = Object.entries(SLACK_ACTION_IDS).find(([, id]) => id === actionId);
  return found?.[0] as HeadlineAction | undefined;
}

/** What a button acts on. Slack returns the value untouched with a signed request. */
export interface ActionTarget {
  serviceArn: string;
  digest: string;
}

export function encodeActionValue(target: ActionTarget): string {
  return JSON.stringify({ a: target.serviceArn, d: target.digest });
}

export function parseActionValue(value: string): ActionTarget | undefined {
  try {
    const parsed = JSON.parse(value) as { a?: unknown; d?: unknown };
    if (typeof parsed.a === "string" && typeof parsed.d === "string" && parsed.a && parsed.d) {
      return { serviceArn: parsed.a, digest: parsed.d };
    }
  } catch {
    // not one of ours
  }
  return undefined;
}
