import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/main.ts";

/** What main() wrote to stderr, line by line. */
function captureStderr() {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    lines.push(String(chunk).trimEnd());
    return true;
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe("gantry: usage errors exit 2 with the command's usage", () => {
  afterEach(() => vi.restoreAllMocks());

  it("an unknown flag", async () => {
    const stderr = captureStderr();
    const code = await main(["history", "web", "--colour"]);
    stderr.restore();
    expect(code).toBe(2);
    expect(stderr.lines[0]).toMatch(/^gantry history: Unknown option '--colour'/);
    expect(stderr.lines[1]).toMatch(/^usage: gantry history <service>/);
  });

  it("a flag without its value", async () => {
    const stderr = captureStderr();
    const code = await main(["replay", "scenario.json", "--config"]);
    stderr.restore();
    expect(code).toBe(2);
    expect(stderr.lines[0]).toMatch(/^gantry replay: Option '--config <value>' argument missing/);
  });

  it("an unknown command", async () => {
    const stderr = captureStderr();
    expect(await main(["deploy"])).toBe(2);
    stderr.restore();
    expect(stderr.lines[0]).toBe('gantry: unknown command "deploy"');
  });
});
