import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type EffectType,
  type Headline,
  headlineActions,
  KIND_PRESENTATION,
  type Release,
  renderHeadline,
  renderReply,
  renderStandalone,
  type SlackBlock,
  type SlackMessage,
  type SlackNotification,
  STATE_PRESENTATION,
} from "../src/index.ts";
import { escapeMrkdwn, fitMrkdwn, truncate } from "../src/slack/block-kit.ts";
import { headlineFromRelease } from "../src/slack/headline.ts";

/**
 * Slack's limits, written out here rather than imported from the renderer (FACTS §5): 50 blocks,
 * 3,000 characters per section text, 150 per header, 75 per button label, 2,000 per button value,
 * 10 context elements, and the ~13.2k total block text past which Slack says msg_blocks_too_long.
 */
function limitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (message.blocks.length > 50) problems.push(`blocks: ${message.blocks.length}`);
  if (message.text.length > 3000) problems.push(`text: ${message.text.length}`);
  let total = 0;
  for (const block of message.blocks) {
    for (const text of textsOf(block)) total += text.length;
    if (block.type === "header" && block.text.text.length > 150)
      problems.push(`header: ${block.text.text.length}`);
    if (block.type === "section" && (block.text.text.length > 3000 || block.text.text.length === 0)) {
      problems.push(`section: ${block.text.text.length}`);
    }
    if (
      block.type === "context" &&
      (block.elements.length > 10 || block.elements.some((e) => e.text.length > 3000))
    ) {
      problems.push("context");
    }
    if (block.type === "actions") {
      for (const button of block.elements) {
        if (button.text.text.length > 75) problems.push(`button text: ${button.text.text.length}`);
        if (button.value.length > 2000) problems.push(`button value: ${button.value.length}`);
        if (button.action_id.length > 255) problems.push("action_id");
      }
    }
  }
  if (total > 13_000) problems.push(`total: ${total}`);
  return problems;
}

function textsOf(block: SlackBlock): string[] {
  switch (block.type) {
    case "header":
    case "section":
      return [block.text.text];
    case "context":
      return block.elements.map((element) => element.text);
    case "actions":
      return block.elements.flatMap((button) => [button.text.text, button.value]);
    case "divider":
      return [];
  }
}

/** mrkdwn texts must never carry a live `<…>` (a mention like <!channel>, a link) from the input. */
function mrkdwnTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) =>
    block.type === "section"
      ? [block.text.text]
      : block.type === "context"
        ? block.elements.map((e) => e.text)
        : [],
  );
}

const KINDS = Object.keys(KIND_PRESENTATION) as EffectType[];
const STATES = Object.keys(STATE_PRESENTATION) as Headline["state"][];
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: "grapheme", maxLength: max }),
    fc.constantFrom("<!channel> ping", "a & b < c > d", "`code` *bold* _it_", "x".repeat(10_000)),
    fc
      .array(fc.constantFrom("&", "<", ">", "😀", "é", "\n", "`"), { maxLength: max })
      .map((chars) => chars.join("")),
  );

/** Few reasons of any shape, or very many long ones (a scan with hundreds of findings). */
const reasons = fc.oneof(
  fc.array(text(6000), { maxLength: 20 }),
  fc.array(fc.string({ minLength: 300, maxLength: 800 }), { minLength: 40, maxLength: 150, size: "max" }),
);

const notification = fc.record({
  schemaVersion: fc.constant(1 as const),
  kind: fc.oneof(fc.constantFrom(...KINDS), text(300)),
  level: fc.constantFrom("info" as const, "warning" as const, "failure" as const),
  service: fc.option(text(2000), { nil: undefined }),
  serviceArn: fc.option(text(3000), { nil: undefined }),
  digest: fc.option(text(500), { nil: undefined }),
  releaseId: fc.option(text(500), { nil: undefined }),
  operationId: fc.option(text(500), { nil: undefined }),
  reasons,
  message: text(20_000),
  at: fc.oneof(fc.constant("2026-11-02T09:00:00.000Z"), text(100)),
});

const headline = fc.record({
  service: text(2000),
  serviceArn: fc.option(text(2500), { nil: undefined }),
  digest: fc.option(text(500), { nil: undefined }),
  state: fc.constantFrom(...STATES),
  image: fc.option(text(2000), { nil: undefined }),
  policy: fc.option(text(2000), { nil: undefined }),
  operationId: fc.option(text(200), { nil: undefined }),
  reasons,
  approvedBy: fc.option(fc.record({ actor: text(3000), reason: text(5000) }), { nil: undefined }),
  keptBlockedBy: fc.option(fc.record({ actor: text(3000), at: text(50) }), { nil: undefined }),
  quarantined: fc.option(fc.boolean(), { nil: undefined }),
  rollbackTo: fc.option(text(500), { nil: undefined }),
  updatedAt: text(60),
});

describe("Block Kit rendering stays within Slack's limits", () => {
  it("every notification kind, as a reply and standalone, with long and hostile inputs", () => {
    fc.assert(
      fc.property(notification, headline, (input: SlackNotification, head: Headline) => {
        for (const message of [renderReply(input), renderStandalone(input), renderStandalone(input, head)]) {
          expect(limitViolations(message)).toEqual([]);
          for (const mrkdwn of mrkdwnTexts(message)) expect(mrkdwn).not.toMatch(/<[^>]*>/);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("every release state as a headline, buttons included", () => {
    fc.assert(
      fc.property(headline, (head: Headline) => {
        const message = renderHeadline(head);
        expect(limitViolations(message)).toEqual([]);
        for (const mrkdwn of mrkdwnTexts(message)) expect(mrkdwn).not.toMatch(/<[^>]*>/);
      }),
      { numRuns: 150 },
    );
  });

  it("renders each known kind, each in its own words", () => {
    for (const kind of KINDS) {
      const reply = renderReply({ ...base, kind });
      expect(reply.text).toContain(KIND_PRESENTATION[kind].title);
      expect(limitViolations(reply)).toEqual([]);
    }
  });
});

const base: SlackNotification = {
  schemaVersion: 1,
  kind: "block",
  level: "warning",
  service: "payments",
  serviceArn: "arn:aws:apprunner:us-east-1:111122223333:service/payments/0123",
  digest: `sha256:${"a".repeat(64)}`,
  releaseId: `payments@sha256:${"a".repeat(64)}`,
  reasons: ["1 CRITICAL finding (allowed: 0)"],
  message: "blocked by policy strict",
  at: "2026-11-02T09:00:00.000Z",
};

describe("long reasons", () => {
  it("are cut with a pointer to `gantry history <service>`, never silently", () => {
    const reasons = Array.from({ length: 40 }, (_, index) => `CVE-2026-${index} (HIGH) ${"x".repeat(500)}`);
    const reply = renderReply({ ...base, reasons });
    const section = reply.blocks.find(
      (block) => block.type === "section" && block.text.text.startsWith("• "),
    );
    expect(section?.type).toBe("section");
    const body = section?.type === "section" ? section.text.text : "";
    expect(body.length).toBeLessThanOrEqual(3000);
    const shown = body.split("\n").filter((line) => line.startsWith("• ")).length;
    expect(body).toContain(`…and ${40 - shown} more. The full list: \`gantry history payments\``);
  });

  it("a single overlong reason is shortened and says where the full text is", () => {
    const reply = renderReply({ ...base, reasons: ["y".repeat(5000)] });
    const texts = reply.blocks.flatMap((block) => (block.type === "section" ? [block.text.text] : []));
    expect(texts.join("\n")).toContain("_Shortened. The full text: `gantry history payments`_");
  });

  it("short reasons are shown whole, without a pointer", () => {
    const reply = renderReply(base);
    expect(JSON.stringify(reply.blocks)).toContain("• 1 CRITICAL finding (allowed: 0)");
    expect(JSON.stringify(reply.blocks)).not.toContain("gantry history payments`_");
  });
});

describe("text fitting", () => {
  it("never splits a surrogate pair or an escape, and fits exactly", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.integer({ min: 1, max: 120 }),
        (raw, max) => {
          const fitted = fitMrkdwn(raw, max);
          expect(fitted.length).toBeLessThanOrEqual(max);
          expect(fitted).not.toMatch(/&(?!amp;|lt;|gt;)/);
          expect(fitted).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
          if (escapeMrkdwn(raw).length <= max) expect(fitted).toBe(escapeMrkdwn(raw));
          else expect(fitted.endsWith("…")).toBe(true);
        },
      ),
    );
    expect(truncate("😀😀😀", 4)).toBe("😀…");
    expect(fitMrkdwn("&&&&", 7)).toBe("&amp;…");
  });
});

describe("headline", () => {
  const release: Release = {
    serviceArn: base.serviceArn as string,
    serviceName: "payments",
    digest: base.digest as string,
    registry: "111122223333.dkr.ecr.us-east-1.amazonaws.com",
    repository: "api",
    tags: ["prod"],
    policyName: "strict",
    policyVersion: "abcd",
    state: "blocked",
    pushedAt: "2026-11-02T09:00:00.000Z",
    decision: {
      verdict: "block",
      mode: "enforce",
      violations: ["1 HIGH finding (allowed: 0)"],
      notes: [],
      decidedAt: "2026-11-02T09:01:00.000Z",
    },
    version: 3,
  } as Release;

  it("offers Approve once / Keep blocked on a blocked release, until someone kept it blocked", () => {
    const blocked = headlineFromRelease(release, []);
    expect(headlineActions(blocked)).toEqual(["approve-once", "keep-blocked"]);
    const buttons = renderHeadline(blocked).blocks.find((block) => block.type === "actions");
    expect(buttons?.type === "actions" && buttons.elements.map((button) => button.text.text)).toEqual([
      "Approve once",
      "Keep blocked",
    ]);
    const kept = headlineFromRelease(release, [
      {
        serviceArn: release.serviceArn,
        serviceName: "payments",
        at: "2026-11-02T09:03:00.000Z",
        type: "block",
        digest: release.digest,
        actor: "avery (Slack U0APPROVER)",
        key: `keep-blocked#${release.digest}#2026-11-02T09:03:00.000Z`,
      },
    ]);
    expect(headlineActions(kept)).toEqual([]);
    expect(JSON.stringify(renderHeadline(kept))).toContain("Kept blocked by* avery (Slack U0APPROVER)");
  });

  it("offers Roll back / Lift quarantine on a rolled-back, quarantined release; only Roll back once lifted", () => {
    const rolledBack = {
      ...release,
      state: "rolled-back" as const,
      deployStartedAt: "2026-11-02T09:02:00.000Z",
      quarantine: { since: "t", reason: "health check" },
    };
    const good = {
      ...release,
      digest: `sha256:${"b".repeat(64)}`,
      state: "deployed" as const,
      pushedAt: "2026-11-01T09:00:00.000Z",
      deployStartedAt: "2026-11-01T09:02:00.000Z",
      deployEndedAt: "2026-11-01T09:05:00.000Z",
    };
    const headline = headlineFromRelease(rolledBack, [], [rolledBack, good]);
    expect(headline.rollbackTo).toBe(good.digest);
    expect(headlineActions(headline)).toEqual(["rollback", "lift-quarantine"]);
    const lifted = {
      ...rolledBack,
      quarantine: { ...rolledBack.quarantine, liftedBy: { actor: "a", reason: "r", at: "t" } },
    };
    expect(headlineActions(headlineFromRelease(lifted, [], [lifted, good]))).toEqual(["rollback"]);
    expect(headlineActions(headlineFromRelease({ ...release, state: "deployed" }, []))).toEqual([]);
    // No release went live before it: there is nothing to name, so no button.
    expect(headlineActions(headlineFromRelease(rolledBack, [], [rolledBack]))).toEqual(["lift-quarantine"]);
  });

  it("does not change while the release stays put, so it is not edited for nothing", () => {
    expect(JSON.stringify(renderHeadline(headlineFromRelease(release, [])))).toBe(
      JSON.stringify(renderHeadline(headlineFromRelease({ ...release, version: 9 }, []))),
    );
  });
});
