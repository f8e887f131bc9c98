import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Effect } from "@gantry/core";
import type { EventBridgeEvent } from "@gantry/events";
import * as z from "zod";
import { Sandbox } from "./sandbox.ts";

/**
 * The replay contract: a scenario names the fleet (`services`), what is in ECR (`images`) and the
 * EventBridge events that arrive, in order. Running it through the sandbox yields Gantry's effects.
 */
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a digest is sha256:<64 hex>");

const fault = z.object({
  op: z.string().min(1),
  outcome: z.enum([
    "fail-rollback",
    "fail",
    "create-failed",
    "throttle",
    "error-5xx",
    "no-event",
    "latency",
    "refuse",
  ]),
  times: z.number().int().min(1).default(1),
  delayMs: z.number().int().min(0).optional(),
  /** What the failing operation writes to the service's log (default: a realistic line per outcome). */
  logs: z.array(z.string()).optional(),
});

const service = z.object({
  name: z.string(),
  /** `<repository>:<tag>` or `<repository>@sha256:…` in the sandbox account's ECR registry. */
  image: z.string().min(1),
  tags: z.record(z.string(), z.string()).default({}),
  autoDeploy: z.boolean().default(false),
  faults: z.array(fault).default([]),
  /** Create the service through CreateService (so a `create-failed` fault applies), not already RUNNING. */
  create: z.boolean().default(false),
});

const image = z.object({
  repository: z.string().min(1),
  digest,
  tags: z.array(z.string()).default([]),
  findings: z
    .array(
      z.object({
        id: z.string(),
        severity: z.enum(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"]),
      }),
    )
    .default([]),
  scanStatus: z.enum(["COMPLETE", "FAILED", "UNSUPPORTED_IMAGE"]).optional(),
});

const step = z.union([
  z
    .object({ file: z.string().min(1) })
    .strict()
    .transform(({ file }) => ({ kind: "file" as const, file })),
  z
    .object({ advanceSeconds: z.number().positive() })
    .strict()
    .transform(({ advanceSeconds }) => ({ kind: "advance" as const, seconds: advanceSeconds })),
  z
    .object({ pause: z.object({ service: z.string(), by: z.enum(["person", "automation"]) }).strict() })
    .strict()
    .transform(({ pause }) => ({ kind: "pause" as const, ...pause })),
  z
    .looseObject({ source: z.string(), "detail-type": z.string(), detail: z.record(z.string(), z.unknown()) })
    .transform((event) => ({ kind: "event" as const, event: event as Partial<EventBridgeEvent> })),
]);

export const scenarioSchema = z
  .object({
    description: z.string().optional(),
    services: z.array(service).default([]),
    images: z.array(image).default([]),
    events: z.array(step).default([]),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScenarioError";
  }
}

/** Reads a scenario file; `{ "file": … }` events are resolved relative to it. */
export async function loadScenario(path: string): Promise<{ scenario: Scenario; baseDir: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(error as Error).message}`);
  }
  return { scenario: parseScenario(raw), baseDir: dirname(resolve(path)) };
}

export function parseScenario(raw: unknown): Scenario {
  const result = scenarioSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`,
  );
  throw new ScenarioError(`invalid scenario:\n  - ${problems.join("\n  - ")}`);
}

export interface ReplayResult {
  effects: (Effect & { at: string })[];
  sandbox: Sandbox;
}

/**
 * Runs the scenario: services and images are set up, each event is published and delivered at the
 * current sandbox time (operations keep running in the background), and at the end the clock
 * runs until the system is quiescent. The caller stops the returned sandbox.
 */
export async function replayScenario(
  scenario: Scenario,
  options: { baseDir?: string; config?: unknown; dynamodbEndpoint?: string; seed?: number } = {},
): Promise<ReplayResult> {
  const sandbox = await Sandbox.start({
    ...(options.config !== undefined ? { config: options.config } : {}),
    ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  try {
    for (const entry of scenario.services) {
      // Faults first: a create-failed fault must be in place before CreateService runs.
      for (const spec of entry.faults) sandbox.injectFault(entry.name, spec);
      const service = {
        name: entry.name,
        image: entry.image,
        tags: entry.tags,
        autoDeploy: entry.autoDeploy,
      };
      if (entry.create) await sandbox.createServiceViaApi(service);
      else sandbox.createService(service);
    }
    for (const entry of scenario.images) sandbox.putImage(entry);
    for (const entry of scenario.events) {
      if (entry.kind === "advance") {
        await sandbox.clock.advance(entry.seconds * 1000);
        continue;
      }
      if (entry.kind === "pause") {
        await sandbox.pauseService(entry.service, entry.by);
        await sandbox.clock.advance(0);
        continue;
      }
      const event =
        entry.kind === "file" ? await readEvent(resolve(options.baseDir ?? ".", entry.file)) : entry.event;
      sandbox.publish(withEnvelope(event, sandbox));
      await sandbox.clock.advance(0); // deliver it now; operations take minutes of sandbox time
    }
    await sandbox.settle();
    return {
      effects: sandbox.timeline.flatMap((entry) =>
        entry.effect ? [{ ...entry.effect, at: entry.at.toISOString() }] : [],
      ),
      sandbox,
    };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

async function readEvent(path: string): Promise<Partial<EventBridgeEvent>> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as Partial<EventBridgeEvent>;
  } catch (error) {
    throw new ScenarioError(`cannot read event ${path}: ${(error as Error).message}`);
  }
}

/** Events written by hand may leave out envelope fields EventBridge always sets. */
function withEnvelope(event: Partial<EventBridgeEvent>, sandbox: Sandbox): EventBridgeEvent {
  return {
    "detail-type": "",
    source: "",
    detail: {},
    version: "0",
    id: crypto.randomUUID(),
    account: sandbox.accountId,
    region: sandbox.region,
    time: sandbox.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z"),
    resources: [],
    ...event,
  };
}
