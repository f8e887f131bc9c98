import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import {
  type Clock,
  DEPLOYED_CONFIG_KEY,
  type GantryConfig,
  parseDeployedConfig,
  parseGantryConfig,
} from "@gantry/core";
import { type AppContext, buildAppContext, loadRuntimeConfig, type RuntimeConfig } from "@gantry/runtime";

/** Where a running `npm start` sandbox says how to reach it. */
export const SANDBOX_STATE_FILE = ".gantry/sandbox.json";

export interface Target {
  /** A deployed stage (the variables of its `cliEnvironment` output) or the local sandbox. */
  kind: "stage" | "sandbox";
  runtime: RuntimeConfig;
  /** The sandbox runs on its own (faster) time; AWS on the system clock. */
  clock?: Clock;
  /** Set for the sandbox (any credentials do); AWS uses the default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** STS endpoint override (tests); on AWS, the regional endpoint. */
  stsEndpoint?: string;
  label: string;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

/** A flag that does not apply to the target: a usage error (exit 2). */
export class TargetUsageError extends TargetError {
  constructor(message: string) {
    super(message);
    this.name = "TargetUsageError";
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
    const stsEndpoint = env.GANTRY_STS_ENDPOINT?.trim();
    return {
      kind: "stage",
      runtime,
      ...(stsEndpoint ? { stsEndpoint } : {}),
      label: `stage ${runtime.stage} (${runtime.region})`,
    };
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
      kind: "sandbox",
      runtime: state.runtime,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      clock: { now: () => new Date(new Date(sandboxTime).getTime() + (Date.now() - realTime) * speed) },
      label: "the local sandbox",
    };
  }
  throw new TargetError(
    "no Gantry to talk to: start the sandbox with `npm start` (and keep it running), or export the variables " +
      "of your stage's `cliEnvironment` output (`sst deploy`): GANTRY_LEDGER_TABLE, AWS_REGION and the rest",
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

/**
 * Who acts. In the sandbox, `--actor` or the login name. On a stage, the AWS identity making the
 * calls (sts:GetCallerIdentity), which the caller cannot choose: $USER and a free-form name can
 * say anything. https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 */
export async function actorFor(target: Target, given: string | undefined): Promise<string> {
  if (target.kind === "sandbox") return given ?? `${process.env.USER ?? userInfo().username} (cli)`;
  checkStageFlags(target, { actor: given });
  const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const client = new STSClient({
    region: target.runtime.region,
    ...(target.stsEndpoint ? { endpoint: target.stsEndpoint } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
  });
  try {
    const { Arn } = await client.send(new GetCallerIdentityCommand({}));
    if (!Arn) throw new TargetError("sts:GetCallerIdentity returned no ARN: cannot record who acts");
    return Arn;
  } finally {
    client.destroy();
  }
}

/** `--actor` and `--config` are the sandbox's: on a stage they would let a local shell speak for it. */
export function checkStageFlags(
  target: Target,
  flags: { actor?: string | undefined; config?: string | undefined },
) {
  if (target.kind !== "stage") return;
  if (flags.actor !== undefined) {
    throw new TargetUsageError(
      "--actor is for the sandbox: on a stage the actor is your AWS identity (sts:GetCallerIdentity)",
    );
  }
  if (flags.config !== undefined) {
    throw new TargetUsageError(
      "--config is for the sandbox: on a stage Gantry judges with the config the stage runs (published by sst deploy)",
    );
  }
}

/**
 * The policies to judge with. In the sandbox, the local file. On a stage, the config `sst deploy`
 * published in its ledger table (infra/cli.ts), the one its functions run: never a local file, which
 * may have changed since the deploy. A stage without one is refused, not judged by a default.
 */
export async function gantryConfigFor(
  target: Target,
  path: string | undefined,
): Promise<{ config: GantryConfig; source: string }> {
  if (target.kind === "sandbox") {
    return { config: await loadGantryConfigFile(path), source: path ?? "gantry.config.ts" };
  }
  checkStageFlags(target, { config: path });
  const { runtime } = target;
  const client = new DynamoDBClient({
    region: runtime.region,
    ...(runtime.endpoints.dynamodb ? { endpoint: runtime.endpoints.dynamodb } : {}),
    ...(target.credentials ? { credentials: target.credentials } : {}),
  });
  try {
    const { Item } = await DynamoDBDocumentClient.from(client).send(
      new GetCommand({
        TableName: runtime.ledgerTable,
        Key: { ...DEPLOYED_CONFIG_KEY },
        ConsistentRead: true,
      }),
    );
    if (!Item) {
      throw new TargetError(
        `stage ${runtime.stage} has no deployed Gantry config in ${runtime.ledgerTable}: deploy this version of ` +
          `Gantry (npx sst deploy --stage ${runtime.stage}); the CLI never judges a stage with a local file`,
      );
    }
    const deployed = parseDeployedConfig(Item);
    return {
      config: deployed.config,
      source: `the deployed Gantry config ${deployed.version} of stage ${runtime.stage}`,
    };
  } finally {
    client.destroy();
  }
}

/**
 * A deploy the CLI starts on a stage may need a retry later; it is scheduled like the functions'
 * (EventBridge Scheduler → the retry function), which needs the stage's retry function, scheduler
 * role and group. Without them the CLI refuses to start one.
 */
export function requireDurableRetries(target: Target): void {
  if (target.kind !== "stage" || target.runtime.retryScheduler) return;
  throw new TargetError(
    `stage ${target.runtime.stage}: set GANTRY_RETRY_FUNCTION_ARN, GANTRY_RETRY_ROLE_ARN and GANTRY_RETRY_SCHEDULE_GROUP ` +
      "from the stage's cliEnvironment output: a deploy started here must be able to schedule its retry",
  );
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
