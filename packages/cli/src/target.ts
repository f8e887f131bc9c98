import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Clock, type GantryConfig, parseGantryConfig } from "@gantry/core";
import { type AppContext, buildAppContext, loadRuntimeConfig, type RuntimeConfig } from "@gantry/runtime";

/** Where a running `npm start` sandbox says how to reach it. */
export const SANDBOX_STATE_FILE = ".gantry/sandbox.json";

export interface Target {
  runtime: RuntimeConfig;
  /** The sandbox runs on its own (faster) time; AWS on the system clock. */
  clock?: Clock;
  /** Set for the sandbox (any credentials do); AWS uses the default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  label: string;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/**
 * Ledger commands act on a deployed stage when GANTRY_LEDGER_TABLE & co. are set (values from the
 * `sst deploy` outputs), otherwise on the sandbox that `npm start` is running.
 */
export async function resolveTarget(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Promise<Target> {
  if (env.GANTRY_LEDGER_TABLE) {
    const runtime = loadRuntimeConfig(env);
    return { runtime, label: `stage ${runtime.stage} (${runtime.region})` };
  }
  const stateFile = resolve(cwd, SANDBOX_STATE_FILE);
  if (existsSync(stateFile)) {
    const state = JSON.parse(await readFile(stateFile, "utf8")) as SandboxState;
    if (!isAlive(state.pid))
      throw new TargetError(
        `the sandbox recorded in ${SANDBOX_STATE_FILE} is no longer running: start it with npm start`,
      );
    const { sandboxTime, realTime, speed } = state.clock;
    return {
      runtime: state.runtime,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      clock: { now: () => new Date(new Date(sandboxTime).getTime() + (Date.now() - realTime) * speed) },
      label: "the local sandbox",
    };
  }
  throw new TargetError(
    "no Gantry to talk to: start the sandbox with `npm start` (and keep it running), or set GANTRY_LEDGER_TABLE, " +
      "GANTRY_IDEMPOTENCY_TABLE, GANTRY_TOPIC_ARN and AWS_REGION from your stage's `sst deploy` outputs",
  );
}

interface SandboxState {
  pid: number;
  runtime: RuntimeConfig;
  clock: { sandboxTime: string; realTime: number; speed: number };
}

export function contextFor(target: Target, config: GantryConfig): AppContext {
  return buildAppContext(target.runtime, config, {
    ...(target.credentials ? { credentials: target.credentials } : {}),
    ...(target.clock ? { clock: target.clock } : {}),
  });
}

/** `gantry.config.ts` (or .js/.mjs) through tsx, or a JSON file with the same shape. */
export async function loadGantryConfigFile(path = "gantry.config.ts"): Promise<GantryConfig> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new TargetError(`config file not found: ${path}`);
  if (extname(absolute) === ".json") return parseGantryConfig(JSON.parse(await readFile(absolute, "utf8")));
  const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  return parseGantryConfig(module.default);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
