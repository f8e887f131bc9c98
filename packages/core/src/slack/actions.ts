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

/**
 * What a button acts on. Slack returns the value untouched with a signed request, so it is the
 * message's own word on what was offered: `rollbackTo` is the digest "Roll back to last good"
 * deploys, computed when the headline was rendered (`digest` is the release it rolls back from).
 */
export interface ActionTarget {
  serviceArn: string;
  digest: string;
  rollbackTo?: string;
}

/**
 * `{"a":<service ARN>,"d":<digest>,"t":<rollback target>}`: about 300 characters, well within
 * Slack's 2,000 for a button value. Messages posted before `t` existed still parse, without it.
 */
export function encodeActionValue(target: ActionTarget): string {
  return JSON.stringify({
    a: target.serviceArn,
    d: target.digest,
    ...(target.rollbackTo ? { t: target.rollbackTo } : {}),
  });
}

export function parseActionValue(value: string): ActionTarget | undefined {
  try {
    const parsed = JSON.parse(value) as { a?: unknown; d?: unknown; t?: unknown };
    if (typeof parsed.a === "string" && typeof parsed.d === "string" && parsed.a && parsed.d) {
      if (parsed.t !== undefined && (typeof parsed.t !== "string" || !parsed.t)) return undefined;
      return {
        serviceArn: parsed.a,
        digest: parsed.d,
        ...(typeof parsed.t === "string" ? { rollbackTo: parsed.t } : {}),
      };
    }
  } catch {
    // not one of ours
  }
  return undefined;
}
