/**
 * Chaos, operations Gantry did not start (or does not know it started). App Runner runs one
 * operation at a time; when UpdateService is refused because one is running, Gantry waits for it
 * (deploy-slot.ts, "App Runner runs an operation Gantry did not start: wait for that one"). Two
 * ways to get there: a person's StartDeployment, and an UpdateService whose response was lost
 * after App Runner accepted it (a reset or timeout once the request had arrived).
 *
 * The second once deployed the digest twice: the retry took the operation its own UpdateService had
 * started for someone else's and queued the digest behind it. deploy-slot.ts now recognises its own
 * rollout (the service already names the digest) and adopts the operation instead.
 */
import { describe, expect, it } from "vitest";
import {
  deployViolations,
  digestOf,
  ledgerView,
  loseResponses,
  pushEvent,
  scanEvent,
  settleThroughFailures,
  startSandbox,
  successfulDeploys,
} from "./chaos-support.ts";

const HOUR = 60 * 60_000;

describe("chaos: an App Runner operation Gantry did not start", () => {
  it("a person's StartDeployment is running: the approved digest deploys, once, after it ends", async () => {
    const sandbox = await startSandbox();
    try {
      const digest = digestOf("chaos foreign operation");
      const arn = sandbox.createService({ name: "webapp", image: "web:prod" });
      sandbox.putImage({ repository: "web", digest, tags: ["prod"] });
      await sandbox.appRunner.handle("StartDeployment", { ServiceArn: arn });
      // Only the operation's own event arrives (EventBridge is best effort): it alone must start the
      // waiting deploy, not the service status event or the next reconciler run.
      const publish = sandbox.bus.publish.bind(sandbox.bus);
      sandbox.bus.publish = (event) =>
        event["detail-type"] === "AppRunner Service Status Change" ? [] : publish(event);
      sandbox.publish(pushEvent("web", digest, "prod"));
      sandbox.publish(scanEvent("web", digest));
      await settleThroughFailures(sandbox, { horizonMs: HOUR });

      const ledger = await ledgerView(sandbox);
      expect(
        ledger.map((view) => view.state),
        JSON.stringify(await sandbox.ledger.getSlot(arn)),
      ).toEqual(["deployed"]);
      expect(deployViolations(ledger, successfulDeploys(sandbox))).toEqual([]);
      // At once, by the event that says the person's deployment ended.
      const deploys = sandbox.timeline.filter((entry) => entry.effect?.type === "deploy");
      expect(deploys.map((entry) => entry.source)).toEqual(["apprunner-event"]);
    } finally {
      await sandbox.stop();
    }
  });

  it("UpdateService's response is lost after App Runner accepted it: deployed exactly once", async () => {
    const sandbox = await startSandbox();
    try {
      const digest = digestOf("chaos lost response");
      const arn = sandbox.createService({ name: "webapp", image: "web:prod" });
      sandbox.putImage({ repository: "web", digest, tags: ["prod"] });
      const lost = loseResponses(sandbox, "UpdateService", 1);
      sandbox.publish(pushEvent("web", digest, "prod"));
      sandbox.publish(scanEvent("web", digest));
      await settleThroughFailures(sandbox, { horizonMs: HOUR });

      expect(lost()).toBe(1);
      const ledger = await ledgerView(sandbox);
      expect(
        ledger.map((view) => view.state),
        JSON.stringify(await sandbox.ledger.getSlot(arn)),
      ).toEqual(["deployed"]);
      expect(successfulDeploys(sandbox).get(`webapp@${digest}`)).toBe(1);
      expect(deployViolations(ledger, successfulDeploys(sandbox))).toEqual([]);
    } finally {
      await sandbox.stop();
    }
  });
});
