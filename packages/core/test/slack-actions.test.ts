/**
 * "Roll back to last good" from Slack: the button names the digest it goes back to (computed when
 * the headline was rendered) and the digest it goes back from; a press deploys exactly that target,
 * and only while the service has not moved on since. A second press, a press on a stale message
 * and two presses at once (two Lambda invocations) change nothing more than one press does.
 */
import { describe, expect, it } from "vitest";
import {
  applySlackAction,
  currentHeadline,
  encodeActionValue,
  type Headline,
  headlineActions,
  onImagePushed,
  onImageScanned,
  parseActionValue,
  renderHeadline,
  SLACK_ACTION_IDS,
  type SlackNotification,
} from "../src/index.ts";
import {
  type CoreHarness,
  coreHarness,
  digestOf,
  interleave,
  operationEnded,
  pushed,
  REGISTRY,
  scanned,
} from "./support/core-harness.ts";

const MINUTE = 60_000;
const ACTOR = "avery (Slack U0APPROVER)";
const [G1, G2, BAD, NEXT] = [digestOf("g1"), digestOf("g2"), digestOf("bad"), digestOf("next")];

/** Push, scan, deploy, and end the operation with `status`. */
async function release(
  h: CoreHarness,
  serviceArn: string,
  digest: string,
  status: "SUCCEEDED" | "ROLLBACK_SUCCEEDED" | "ROLLBACK_FAILED" = "SUCCEEDED",
) {
  const time = h.clock.advance(MINUTE);
  await onImagePushed(h.deps, pushed({ repository: "web", digest, tag: "prod", time }));
  await onImageScanned(h.deps, scanned({ repository: "web", digest, time }));
  h.clock.advance(3 * MINUTE);
  h.appRunner.finish(serviceArn, status);
  await operationEnded(h, serviceArn);
}

/**
 * g1 and g2 went live; `bad` failed and App Runner could not roll back: the service is left on the
 * bad image (the in-memory App Runner restores the previous image on any failure, so put it back).
 */
async function stuckOnBadRelease() {
  const h = coreHarness();
  const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
  await release(h, serviceArn, G1);
  await release(h, serviceArn, G2);
  await release(h, serviceArn, BAD, "ROLLBACK_FAILED");
  const service = h.appRunner.services.get(serviceArn);
  if (service) service.imageIdentifier = `${REGISTRY}/web@${BAD}`;
  expect((await h.ledger.getRelease(serviceArn, BAD))?.state).toBe("rollback-failed");
  return { h, serviceArn };
}

function notificationAbout(serviceArn: string, digest: string): SlackNotification {
  return {
    schemaVersion: 1,
    kind: "outcome",
    level: "failure",
    service: "web",
    serviceArn,
    digest,
    reasons: [],
    message: "",
    at: "2026-06-01T13:00:00.000Z",
  };
}

async function headlineOf(h: CoreHarness, serviceArn: string, digest: string): Promise<Headline> {
  return currentHeadline({ ledger: h.ledger }, notificationAbout(serviceArn, digest));
}

/** The value of the rendered headline's "Roll back to last good" button, as Slack sends it back. */
function rollbackButtonValue(headline: Headline): string | undefined {
  for (const block of renderHeadline(headline).blocks) {
    if (block.type !== "actions") continue;
    const button = block.elements.find((element) => element.action_id === SLACK_ACTION_IDS.rollback);
    if (button) return button.value;
  }
  return undefined;
}

function press(h: CoreHarness, value: string) {
  const target = parseActionValue(value);
  if (!target) throw new Error(`not a button value: ${value}`);
  return applySlackAction(h.deps, { action: "rollback", ...target, actor: ACTOR });
}

const rollbackEntries = async (h: CoreHarness, serviceArn: string) =>
  (await h.ledger.history(serviceArn)).filter((entry) => entry.key.startsWith("rollback#"));

describe("the Roll back to last good button", () => {
  it("carries the last good digest computed when the headline was rendered, and the digest it goes back from", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    const headline = await headlineOf(h, serviceArn, BAD);
    expect(headlineActions(headline)).toContain("rollback");
    const value = rollbackButtonValue(headline);
    expect(value).toBeDefined();
    expect(value!.length).toBeLessThanOrEqual(2000);
    expect(parseActionValue(value!)).toEqual({ serviceArn, digest: BAD, rollbackTo: G2 });
    // The confirmation names the digest the press will deploy.
    expect(JSON.stringify(renderHeadline(headline))).toContain(G2.slice(0, 19));
  });

  it("a press deploys exactly the digest in its value, not whatever the ledger calls last good at press time", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    // A message rendered when g1 was the last good: it still means g1 (g2 is newer and also live-able).
    const value = encodeActionValue({ serviceArn, digest: BAD, rollbackTo: G1 });
    const effects = await press(h, value);
    expect(effects[0]).toMatchObject({ type: "rollback", manual: true, digest: G1, actor: ACTOR });
    expect(h.appRunner.deploysOf(serviceArn).at(-1)).toBe(`${REGISTRY}/web@${G1}`);
    expect(await h.ledger.getRelease(serviceArn, G1)).toMatchObject({
      state: "deploying",
      override: { actor: ACTOR },
    });
  });

  it("a second press changes nothing and says why", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    const value = rollbackButtonValue(await headlineOf(h, serviceArn, BAD))!;
    await press(h, value);
    const deploys = h.appRunner.deploysOf(serviceArn);
    const g2 = await h.ledger.getRelease(serviceArn, G2);

    await expect(press(h, value)).rejects.toThrow(
      /web has moved on since .*: sha256:\S+ was rolled back to by avery \(Slack U0APPROVER\).*nothing was changed/,
    );
    expect(h.appRunner.deploysOf(serviceArn)).toEqual(deploys);
    expect(await h.ledger.getRelease(serviceArn, G2)).toEqual(g2);
    expect(await rollbackEntries(h, serviceArn)).toHaveLength(1);

    // Still refused once the rollback has finished and g2 is live again.
    h.clock.advance(3 * MINUTE);
    h.appRunner.finish(serviceArn, "SUCCEEDED");
    await operationEnded(h, serviceArn);
    await expect(press(h, value)).rejects.toThrow(/has moved on/);
    expect(h.appRunner.deploysOf(serviceArn)).toEqual(deploys);
  });

  it("a press on a stale message (the service moved on to a newer release) changes nothing", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    const value = rollbackButtonValue(await headlineOf(h, serviceArn, BAD))!;
    await release(h, serviceArn, NEXT);
    const deploys = h.appRunner.deploysOf(serviceArn);

    await expect(press(h, value)).rejects.toThrow(/web has moved on since .*: sha256:\S+ was deployed/);
    expect(h.appRunner.deploysOf(serviceArn)).toEqual(deploys);
    expect((await h.ledger.getRelease(serviceArn, G2))?.state).toBe("deployed");
    expect(await rollbackEntries(h, serviceArn)).toEqual([]);
    // The headline rendered now no longer offers it.
    expect(headlineActions(await headlineOf(h, serviceArn, BAD))).not.toContain("rollback");
  });

  it("after the press the headline stops offering it (the service moved on)", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    await press(h, rollbackButtonValue(await headlineOf(h, serviceArn, BAD))!);
    const after = await headlineOf(h, serviceArn, BAD);
    expect(headlineActions(after)).not.toContain("rollback");
    expect(rollbackButtonValue(after)).toBeUndefined();
  });

  it("two presses at once (two invocations) roll back once: the other is refused", async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const { h, serviceArn } = await stuckOnBadRelease();
      const value = rollbackButtonValue(await headlineOf(h, serviceArn, BAD))!;
      const before = h.appRunner.deploysOf(serviceArn).length;
      interleave(h, seed);
      const results = await Promise.allSettled([press(h, value), press(h, value)]);
      const fulfilled = results.filter((result) => result.status === "fulfilled");
      const rejected = results.filter((result) => result.status === "rejected");
      expect(fulfilled, `seed ${seed}`).toHaveLength(1);
      expect(rejected, `seed ${seed}`).toHaveLength(1);
      expect(String((rejected[0] as PromiseRejectedResult).reason), `seed ${seed}`).toMatch(/moved on/);
      expect(h.appRunner.deploysOf(serviceArn).slice(before), `seed ${seed}`).toEqual([
        `${REGISTRY}/web@${G2}`,
      ]);
      expect(await rollbackEntries(h, serviceArn), `seed ${seed}`).toHaveLength(1);
      expect((await h.ledger.getRelease(serviceArn, G1))?.override, `seed ${seed}`).toBeUndefined();
    }
  });

  it("a button from a message posted before buttons carried their target is refused, pointing to the CLI", async () => {
    const { h, serviceArn } = await stuckOnBadRelease();
    const old = JSON.stringify({ a: serviceArn, d: BAD });
    expect(parseActionValue(old)).toEqual({ serviceArn, digest: BAD });
    const deploys = h.appRunner.deploysOf(serviceArn);
    await expect(press(h, old)).rejects.toThrow(
      /does not say which digest to roll back to.*gantry rollback web --to <digest>.*nothing was changed/,
    );
    expect(h.appRunner.deploysOf(serviceArn)).toEqual(deploys);
    expect(await rollbackEntries(h, serviceArn)).toEqual([]);
  });

  it("when App Runner already runs the target, nothing is deployed and the presser is told", async () => {
    const h = coreHarness();
    const { serviceArn } = h.appRunner.addService({ name: "web", image: `${REGISTRY}/web:prod` });
    await release(h, serviceArn, G1);
    await release(h, serviceArn, BAD, "ROLLBACK_SUCCEEDED");
    const value = rollbackButtonValue(await headlineOf(h, serviceArn, BAD))!;
    expect(parseActionValue(value)?.rollbackTo).toBe(G1);
    const deploys = h.appRunner.deploysOf(serviceArn);
    await expect(press(h, value)).rejects.toThrow(/is already running on web/);
    expect(h.appRunner.deploysOf(serviceArn)).toEqual(deploys);
  });
});
