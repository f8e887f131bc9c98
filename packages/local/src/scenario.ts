import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Effect } from "@gantry/core";
import type { EventBridgeEvent } from "@gantry/events";
import * as z from "zod";
import { FaultQueue, operationTypeOf } from "./apprunner-faults.ts";
import { loadAppRunnerModel } from "./aws-model.ts";
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

/**
 * A service's image: `<repository>:<tag>` / `<repository>@sha256:…` in the sandbox's registry, or
 * a full private ECR identifier `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`
 * (how App Runner names it: https://docs.aws.amazon.com/apprunner/latest/api/API_ImageRepository.html),
 * which puts the sandbox in that account and region.
 */
const ECR_REGISTRY = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com$/;
/** ECR repository names (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html), then a tag or a digest. */
const REPOSITORY_REFERENCE =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[\w][\w.-]{0,127}|@sha256:[A-Za-z0-9]+)?$/;
const IMAGE_FORMS =
  "expected <repository>:<tag>, <repository>@sha256:<digest> or <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>";

export interface ScenarioRegistry {
  accountId: string;
  region: string;
}

type ParsedImage =
  | { ok: true; registry?: ScenarioRegistry; reference: string }
  | { ok: false; reason: string };

function parseServiceImage(image: string): ParsedImage {
  const slash = image.indexOf("/");
  const first = slash < 0 ? "" : image.slice(0, slash);
  // Docker's rule: a first path component with a dot or a port (or `localhost`) is a registry host.
  const hasRegistry = /[.:]/.test(first) || first === "localhost";
  const reference = hasRegistry ? image.slice(slash + 1) : image;
  let registry: ScenarioRegistry | undefined;
  if (hasRegistry) {
    const match = ECR_REGISTRY.exec(first);
    if (!match) return { ok: false, reason: `"${first}" is not a private ECR registry; ${IMAGE_FORMS}` };
    registry = { accountId: match[1] as string, region: match[2] as string };
  }
  if (!REPOSITORY_REFERENCE.test(reference))
    return { ok: false, reason: `"${image}" is not an image reference; ${IMAGE_FORMS}` };
  return { ok: true, reference, ...(registry ? { registry } : {}) };
}

const isCreateServiceFault = (entry: { op: string }) => operationTypeOf(entry.op) === "CREATE_SERVICE";

const service = z
  .object({
    name: z.string(),
    image: z.string().min(1),
    /** Taken as given, as on AWS: without `gantry:managed=true` the service is not Gantry's. */
    tags: z.record(z.string(), z.string()).default({}),
    autoDeploy: z.boolean().default(false),
    faults: z.array(fault).default([]),
    /**
     * Create the service through CreateService (it starts, or fails, like a new one) instead of
     * seeding it RUNNING. Implied by any fault on CreateService: otherwise it could never fire.
     */
    create: z.boolean().optional(),
  })
  .superRefine((entry, context) => {
    const image = parseServiceImage(entry.image);
    if (!image.ok) context.addIssue({ code: "custom", path: ["image"], message: image.reason });
    entry.faults.forEach((spec, index) => {
      const problem = faultProblem(spec);
      if (problem)
        context.addIssue({
          code: "custom",
          path: ["faults", index, ...problem.path],
          message: problem.message,
        });
    });
    if (entry.create === false && entry.faults.some(isCreateServiceFault)) {
      context.addIssue({
        code: "custom",
        path: ["create"],
        message:
          "false, but a fault on CreateService needs the service created through CreateService (leave `create` out)",
      });
    }
  })
  .transform(({ create, ...entry }) => ({
    ...entry,
    create: create ?? entry.faults.some(isCreateServiceFault),
  }));

/** What the emulator would refuse when the fault is injected, found while parsing instead. */
function faultProblem(spec: z.output<typeof fault>): { path: string[]; message: string } | undefined {
  const appRunner = loadAppRunnerModel();
  if (!operationTypeOf(spec.op) && !appRunner.hasOperation(spec.op)) {
    return {
      path: ["op"],
      message: `unknown App Runner operation "${spec.op}": use an API name (UpdateService) or an operation type (UPDATE_SERVICE)`,
    };
  }
  try {
    new FaultQueue((name) => appRunner.hasOperation(name)).add(spec);
    return undefined;
  } catch (error) {
    return { path: [], message: (error as Error).message.replace(/^injectFault: /, "") };
  }
}

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
  .strict()
  .superRefine((scenario, context) => {
    // One sandbox is one account's default bus in one region: every full identifier must agree.
    let first: { index: number; registry: string } | undefined;
    scenario.services.forEach((entry, index) => {
      const image = parseServiceImage(entry.image);
      if (!image.ok || !image.registry) return;
      const registry = `${image.registry.accountId}.dkr.ecr.${image.registry.region}.amazonaws.com`;
      if (!first) first = { index, registry };
      else if (registry !== first.registry) {
        context.addIssue({
          code: "custom",
          path: ["services", index, "image"],
          message: `${registry} differs from services.${first.index}'s ${first.registry}: a sandbox runs in one account and region (EventBridge's default bus gets only its own account's and region's events)`,
        });
      }
    });
  });

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

/** The account and region the scenario's full ECR identifiers name (undefined: the sandbox's default). */
export function scenarioRegistry(scenario: Scenario): ScenarioRegistry | undefined {
  for (const entry of scenario.services) {
    const image = parseServiceImage(entry.image);
    if (image.ok && image.registry) return image.registry;
  }
  return undefined;
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
 * Runs the scenario: services and images are set up, each event is published and delivered in
 * order, and at the end the clock runs until the system is quiescent. The caller stops the
 * returned sandbox.
 *
 * Time: pasted events keep their own `account`, `region` and `time`. The sandbox clock starts at
 * the first event's `time` and moves forward to each later event's `time` (operations, retries and
 * timeouts due on the way run first). It never moves back: an event older than the clock is
 * delivered at the current sandbox time, as a late delivery, with its `time` unchanged. Events
 * without a `time` arrive "now" and get the sandbox's account and region.
 */
export async function replayScenario(
  scenario: Scenario,
  options: { baseDir?: string; config?: unknown; dynamodbEndpoint?: string; seed?: number } = {},
): Promise<ReplayResult> {
  // Read every event first: a missing file fails before a sandbox starts, and the first time is known.
  const steps = await Promise.all(
    scenario.events.map(async (entry) =>
      entry.kind === "file"
        ? { kind: "event" as const, event: await readEvent(resolve(options.baseDir ?? ".", entry.file)) }
        : entry,
    ),
  );
  const start = steps
    .map((entry) => (entry.kind === "event" ? timeOf(entry.event) : undefined))
    .find(Boolean);
  const registry = scenarioRegistry(scenario);
  const sandbox = await Sandbox.start({
    ...(options.config !== undefined ? { config: options.config } : {}),
    ...(options.dynamodbEndpoint ? { dynamodbEndpoint: options.dynamodbEndpoint } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(registry ? { accountId: registry.accountId, region: registry.region } : {}),
    ...(start ? { start } : {}),
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
        addManagedTag: false, // tags as given, as on AWS
      };
      if (entry.create) await sandbox.createServiceViaApi(service);
      else sandbox.createService(service);
    }
    for (const entry of scenario.images) sandbox.putImage(entry);
    for (const entry of steps) {
      if (entry.kind === "advance") {
        await sandbox.clock.advance(entry.seconds * 1000);
        continue;
      }
      if (entry.kind === "pause") {
        await sandbox.pauseService(entry.service, entry.by);
        await sandbox.clock.advance(0);
        continue;
      }
      const time = timeOf(entry.event);
      if (time) await sandbox.clock.advanceTo(time);
      sandbox.publish(withEnvelope(entry.event, sandbox));
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

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An event's own `time`, if it has a valid one (a malformed one is left for the handler to reject). */
function timeOf(event: Partial<EventBridgeEvent>): Date | undefined {
  // EventBridge writes RFC 3339 (`2019-11-16T01:54:34Z`); Date's looser formats would move the clock oddly.
  if (typeof event.time !== "string" || !RFC3339.test(event.time)) return undefined;
  const time = new Date(event.time);
  return Number.isNaN(time.getTime()) ? undefined : time;
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
