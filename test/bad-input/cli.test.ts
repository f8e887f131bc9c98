/**
 * Bad input, CLI: `main()` with random argv (command names, flags, real and missing files, junk)
 * always resolves to an exit code of 0, 1 or 2, never throws, and says why on stderr when it is not
 * 0. It runs in an empty temporary directory without GANTRY_* stage variables, so the ledger
 * commands find no Gantry to talk to and nothing leaves the machine. `sandbox` is left out: it
 * starts the long-running demo by design.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../packages/cli/src/main.ts";
import { samples } from "./bad-input-support.ts";

const COMMANDS = [
  "replay",
  "history",
  "approve",
  "quarantine",
  "rollback",
  "notifications",
  "config",
  "test-pattern",
  "help",
  "--help",
  "-h",
];
const FLAGS = [
  "--json",
  "--reason",
  "--config",
  "--limit",
  "--actor",
  "--to",
  "--file",
  "--dry-run",
  "--once",
  "-x",
  "--",
  "=",
];
const FILES = [
  "pattern.json",
  "bad-pattern.json",
  "event.json",
  "garbage.txt",
  "config.json",
  "bad-config.json",
  "empty.json",
  "a-directory",
  "missing.json",
];
const WORDS = ["check", "replay", "lift", "storefront", `sha256:${"0".repeat(64)}`, "", " ", "\u0000", "-1"];

let cwd: string;
let directory: string;
const savedEnv: Record<string, string | undefined> = {};
const exitCodes = new Map<number, number>();

describe("bad input: the CLI's argv", () => {
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), "gantry-cli-bad-input-"));
    writeFileSync(join(directory, "pattern.json"), JSON.stringify({ source: ["aws.ecr"] }));
    writeFileSync(join(directory, "bad-pattern.json"), JSON.stringify({ source: "aws.ecr" }));
    writeFileSync(join(directory, "event.json"), JSON.stringify(samples.push));
    writeFileSync(join(directory, "garbage.txt"), "not json {");
    writeFileSync(
      join(directory, "config.json"),
      JSON.stringify({ policies: { strict: { maxFindings: { HIGH: 0 } } } }),
    );
    writeFileSync(join(directory, "bad-config.json"), JSON.stringify({ defaultPolicy: "missing" }));
    writeFileSync(join(directory, "empty.json"), "");
    mkdirSync(join(directory, "a-directory"));
    cwd = process.cwd();
    process.chdir(directory);
    // A developer's shell may point the CLI at a real stage: not here.
    for (const name of Object.keys(process.env).filter((key) => key.startsWith("GANTRY_"))) {
      savedEnv[name] = process.env[name];
      delete process.env[name];
    }
  });

  afterAll(() => {
    process.chdir(cwd);
    Object.assign(process.env, savedEnv);
    rmSync(directory, { recursive: true, force: true });
    console.log(
      `[bad-input cli] exit codes: ${[...exitCodes].map(([code, n]) => `${code}×${n}`).join(", ")}`,
    );
  });

  it("random argv: exit code 0, 1 or 2, never a throw, a reason on stderr when not 0", async () => {
    const word = fc.oneof(
      fc.constantFrom(...COMMANDS),
      fc.constantFrom(...FLAGS),
      fc.constantFrom(...FILES),
      fc.constantFrom(...WORDS),
      fc.string({ maxLength: 12 }),
    );
    const argv = fc
      .tuple(fc.oneof(fc.constantFrom(...COMMANDS), word), fc.array(word, { maxLength: 6 }))
      .map(([head, tail]) => [head, ...tail]);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await fc.assert(
        fc.asyncProperty(argv, async (args) => {
          stderr.mockClear();
          const code = await main(args);
          exitCodes.set(code, (exitCodes.get(code) ?? 0) + 1);
          expect([0, 1, 2]).toContain(code);
          if (code !== 0) {
            const said = stderr.mock.calls.map((call) => String(call[0])).join("");
            expect(
              said.trim().length,
              `no reason for exit ${code} of ${JSON.stringify(args)}`,
            ).toBeGreaterThan(0);
          }
        }),
        { numRuns: 150, seed: 6060 },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    // The generator must reach success, runtime failure and usage errors alike.
    expect([...exitCodes.keys()].sort()).toEqual([0, 1, 2]);
  });

  it("known answers: a usage error is 2, a failure 1, a match 0", async () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["no-such-command"])).toBe(2);
      expect(await main(["test-pattern", "pattern.json", "event.json"])).toBe(0);
      expect(await main(["test-pattern", "bad-pattern.json", "event.json"])).toBe(2);
      expect(await main(["history", "storefront"])).toBe(1);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
