/**
 * `gantry test-pattern <pattern.json> <event.json>`: the local `aws events test-event-pattern`. Prints
 * `match` or `no match` and exits 0; any problem with the input (arguments, files, JSON, a pattern
 * EventBridge would reject) is a usage error: a message on stderr and exit code 2.
 */
import { readFile } from "node:fs/promises";
import { compileEventPattern, InvalidEventPatternError } from "@gantry/events";

export interface CommandIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const USAGE = "usage: gantry test-pattern <pattern.json> <event.json>";
const EXIT_MATCH_DECIDED = 0;
const EXIT_USAGE = 2;

/** Bad input from the caller, reported as it is. */
class UsageError extends Error {}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readJsonFile(role: "pattern" | "event", path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${role} file ${path}: ${reasonOf(error)}`);
  }
  try {
    // Editors on Windows like to start JSON files with a byte-order mark; JSON.parse does not.
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new UsageError(`${role} file ${path} is not valid JSON: ${reasonOf(error)}`);
  }
}

async function decide(patternPath: string, eventPath: string): Promise<boolean> {
  const pattern = await readJsonFile("pattern", patternPath);
  const event = await readJsonFile("event", eventPath);
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new UsageError(`event file ${eventPath} must contain a JSON object (an EventBridge event)`);
  }
  // JSON.parse kept the last of any duplicated key, which is what EventBridge does with pattern text.
  return compileEventPattern(pattern).matches(event);
}

export async function testPatternCommand(args: string[], io: CommandIo): Promise<number> {
  const [patternPath, eventPath] = args;
  if (args.length !== 2 || patternPath === undefined || eventPath === undefined) {
    io.stderr(USAGE);
    return EXIT_USAGE;
  }
  try {
    io.stdout((await decide(patternPath, eventPath)) ? "match" : "no match");
    return EXIT_MATCH_DECIDED;
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof InvalidEventPatternError)) throw error;
    io.stderr(error.message);
    return EXIT_USAGE;
  }
}
