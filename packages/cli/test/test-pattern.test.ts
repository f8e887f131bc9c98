import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testPatternCommand } from "../src/commands/test-pattern.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gantry-test-pattern-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `content` (a value to serialise, or raw text) to a temp file and returns its path. */
async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content), "utf8");
  return path;
}

async function run(args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await testPatternCommand(args, {
    stdout: (l) => stdout.push(l),
    stderr: (l) => stderr.push(l),
  });
  return { code, stdout, stderr };
}

const pushEvent = {
  version: "0",
  id: "1",
  source: "aws.ecr",
  "detail-type": "ECR Image Action",
  account: "123456789012",
  region: "us-east-1",
  time: "2026-06-01T12:00:00Z",
  resources: [],
  detail: { "action-type": "PUSH", result: "SUCCESS", "image-tag": "v1.2.3" },
};

describe("gantry test-pattern", () => {
  it("prints match and exits 0", async () => {
    const pattern = await file("push.json", {
      source: ["aws.ecr"],
      detail: { "image-tag": [{ prefix: "v1." }] },
    });
    const event = await file("event.json", pushEvent);
    expect(await run([pattern, event])).toEqual({ code: 0, stdout: ["match"], stderr: [] });
  });

  it("prints no match and exits 0", async () => {
    const pattern = await file("scan.json", { source: ["aws.ecr"], "detail-type": ["ECR Image Scan"] });
    const event = await file("event.json", pushEvent);
    expect(await run([pattern, event])).toEqual({ code: 0, stdout: ["no match"], stderr: [] });
  });

  it("reads pattern text like EventBridge: a duplicated key keeps its last value", async () => {
    const pattern = await file(
      "dup.json",
      '{"detail": {"result": ["FAILURE"], "result": [{"anything-but": "FAILURE"}]}}',
    );
    const event = await file("event.json", pushEvent);
    expect((await run([pattern, event])).stdout).toEqual(["match"]);
  });

  it("accepts files that start with a byte-order mark", async () => {
    const pattern = await file("bom.json", `\uFEFF${JSON.stringify({ source: ["aws.ecr"] })}`);
    const event = await file("event.json", pushEvent);
    expect((await run([pattern, event])).stdout).toEqual(["match"]);
  });

  it("reports an invalid pattern with AWS's reason and exits 2", async () => {
    const pattern = await file("bad.json", { detail: { result: "SUCCESS" } });
    const event = await file("event.json", pushEvent);
    expect(await run([pattern, event])).toEqual({
      code: 2,
      stdout: [],
      stderr: ['Event pattern is not valid. Reason: "result" must be an object or an array'],
    });
  });

  it("reports a pattern AWS would find too complex", async () => {
    const pattern = await file("complex.json", { resources: [{ wildcard: "*:*:*:*:*:event-bus/*" }] });
    const event = await file("event.json", pushEvent);
    const result = await run([pattern, event]);
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toMatch(/^Event pattern is not valid\. Reason: Rule is too complex/);
  });

  it("reports a file it cannot read and exits 2", async () => {
    const event = await file("event.json", pushEvent);
    const missing = join(dir, "missing.json");
    const result = await run([missing, event]);
    expect(result).toMatchObject({ code: 2, stdout: [] });
    expect(result.stderr).toHaveLength(1);
    expect(result.stderr[0]).toContain(`cannot read pattern file ${missing}`);
    expect(result.stderr[0]).toContain("ENOENT");
  });

  it("reports a directory given as a file", async () => {
    const pattern = await file("p.json", { source: ["aws.ecr"] });
    const result = await run([pattern, dir]);
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toContain(`cannot read event file ${dir}`);
  });

  it.each([
    ["pattern", "{ source: ['aws.ecr'] }", JSON.stringify(pushEvent)],
    ["event", JSON.stringify({ source: ["aws.ecr"] }), '{"source": "aws.ecr",'],
  ])("reports invalid JSON in the %s file and exits 2", async (role, patternText, eventText) => {
    const pattern = await file("p.json", patternText);
    const event = await file("e.json", eventText);
    const result = await run([pattern, event]);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr[0]).toMatch(
      new RegExp(`^${role} file .*${role === "pattern" ? "p" : "e"}\\.json is not valid JSON: `),
    );
  });

  it("wants the event to be a JSON object", async () => {
    const pattern = await file("p.json", { source: ["aws.ecr"] });
    const event = await file("e.json", [pushEvent]);
    const result = await run([pattern, event]);
    expect(result.code).toBe(2);
    expect(result.stderr[0]).toContain("must contain a JSON object");
  });

  it.each([[[]], [["only-one.json"]], [["a.json", "b.json", "c.json"]]])(
    "prints usage for %j and exits 2",
    async (args) => {
      expect(await run(args)).toEqual({
        code: 2,
        stdout: [],
        stderr: ["usage: gantry test-pattern <pattern.json> <event.json>"],
      });
    },
  );
});
