import { parseArgs } from "node:util";
import {
  approveRelease,
  type Effect,
  type JournalEntry,
  liftQuarantine,
  type Release,
  rollbackService,
  serviceHistory,
  toNotification,
} from "@gantry/core";
import type { AppContext } from "@gantry/runtime";
import {
  actorFor,
  checkStageFlags,
  contextFor,
  gantryConfigFor,
  requireDurableRetries,
  resolveTarget,
  TargetUsageError,
} from "../target.ts";
import { shortDigest } from "../timeline.ts";
import type { CommandIo } from "./test-pattern.ts";

async function serviceArnByName(context: AppContext, name: string): Promise<string> {
  const services = await context.deps.appRunner.listManagedServices();
  const match = services.find((service) => service.serviceName === name || service.serviceArn === name);
  if (!match) {
    const known = services.map((service) => service.serviceName).join(", ") || "none";
    throw new Error(`no Gantry-managed service named "${name}" (managed services: ${known})`);
  }
  return match.serviceArn;
}

/** `gantry history <service> [--json] [--limit N]`: the service's releases and journal, newest first. */
export async function historyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      limit: { type: "string", default: "50" },
      config: { type: "string" },
    },
  });
  if (positionals.length !== 1) {
    io.stderr("usage: gantry history <service> [--json] [--limit N]");
    return 2;
  }
  const opened = await open(io, values, false);
  if (!opened) return 2;
  const { context } = opened;
  const serviceArn = await serviceArnByName(context, positionals[0] as string);
  // Across the ARNs the service had before Gantry recreated it (the ledger keys both by ARN).
  const serviceName = serviceArn.split("/")[1] ?? (positionals[0] as string);
  const { serviceArns, releases, journal } = await serviceHistory(
    context.deps,
    { serviceName, serviceArn },
    Number(values.limit),
  );
  const previousArns = serviceArns.slice(1);
  if (values.json) {
    io.stdout(JSON.stringify({ serviceArn, previousArns, releases, journal }, null, 2));
    return 0;
  }
  if (previousArns.length > 0)
    io.stdout(`${serviceName} was recreated; earlier ARNs: ${previousArns.join(", ")}`);
  io.stdout(`Releases of ${positionals[0]} (newest first)`);
  io.stdout(table(["pushed", "digest", "tags", "state", "decision", "operation"], releases.map(releaseRow)));
  io.stdout("");
  io.stdout("Journal (newest first)");
  io.stdout(table(["at", "what", "digest", "detail"], journal.map(journalRow)));
  return 0;
}

/** `gantry approve <service> <digest> --reason "…" [--actor name]`: deploy a blocked digest, recorded. */
export async function approveCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { reason: { type: "string" }, actor: { type: "string" }, config: { type: "string" } },
  });
  if (positionals.length !== 2 || !values.reason?.trim()) {
    io.stderr('usage: gantry approve <service> <digest> --reason "why this is safe" [--actor name]');
    return 2;
  }
  const [service, digest] = positionals as [string, string];
  const opened = await open(io, values, true);
  if (!opened) return 2;
  const { context, actor } = opened;
  const serviceArn = await serviceArnByName(context, service);
  await report(
    context,
    io,
    await approveRelease(context.deps, { serviceArn, digest, actor, reason: values.reason }),
  );
  return 0;
}

/** `gantry quarantine lift <service> <digest> --reason "…"`: let a rolled-back digest be judged again. */
export async function quarantineCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parsePersonAct(args);
  if (positionals[0] !== "lift" || positionals.length !== 3 || !values.reason?.trim()) {
    io.stderr(
      'usage: gantry quarantine lift <service> <digest> --reason "why it is safe now" [--actor name]',
    );
    return 2;
  }
  const [, service, digest] = positionals as [string, string, string];
  const opened = await open(io, values, true);
  if (!opened) return 2;
  const { context, actor } = opened;
  const serviceArn = await serviceArnByName(context, service);
  const input = { serviceArn, digest, actor, reason: values.reason };
  await report(context, io, await liftQuarantine(context.deps, input));
  return 0;
}

/** `gantry rollback <service> [--to <digest>] --reason "…"`: deploy the last known good (or a named) digest. */
export async function rollbackCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parsePersonAct(args);
  if (positionals.length !== 1 || !values.reason?.trim()) {
    io.stderr('usage: gantry rollback <service> [--to <digest>] --reason "why" [--actor name]');
    return 2;
  }
  const opened = await open(io, values, true);
  if (!opened) return 2;
  const { context, actor } = opened;
  const serviceArn = await serviceArnByName(context, positionals[0] as string);
  const toDigest = typeof values.to === "string" ? values.to : undefined;
  const input = {
    serviceArn,
    actor,
    reason: values.reason,
    ...(toDigest ? { toDigest } : {}),
  };
  await report(context, io, await rollbackService(context.deps, input));
  return 0;
}

/** The options every act of a person takes (rollback adds `--to`). */
function parsePersonAct(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      reason: { type: "string" },
      actor: { type: "string" },
      config: { type: "string" },
      to: { type: "string" },
    },
  });
}

interface Flags {
  config?: string | undefined;
  actor?: string | undefined;
}

/**
 * The target (a stage or the sandbox) and the config to judge by, which a stage names on stderr.
 * For an act of a person (`act`), also who acts and, on a stage, the means to retry what it
 * deploys. A flag that does not apply to the target is a usage error: undefined, after saying why.
 */
async function open(
  io: CommandIo,
  flags: Flags,
  act: true,
): Promise<{ context: AppContext; actor: string } | undefined>;
async function open(io: CommandIo, flags: Flags, act: false): Promise<{ context: AppContext } | undefined>;
async function open(io: CommandIo, flags: Flags, act: boolean) {
  const target = await resolveTarget();
  try {
    checkStageFlags(target, flags);
  } catch (error) {
    if (!(error instanceof TargetUsageError)) throw error;
    io.stderr(error.message);
    return undefined;
  }
  if (act) requireDurableRetries(target);
  const actor = act ? await actorFor(target, flags.actor) : undefined;
  const { config, source } = await gantryConfigFor(target, flags.config);
  if (target.kind === "stage") {
    io.stderr(`${target.label}: ${actor ? `${actor} acts, ` : ""}judging with ${source}`);
  }
  return { context: contextFor(target, config), ...(actor ? { actor } : {}) };
}

/** Publish what the act did (as the handlers do) and print it. */
async function report(context: AppContext, io: CommandIo, effects: Effect[]): Promise<void> {
  for (const effect of effects) {
    const notification = toNotification(effect, context.deps.clock.now());
    if (notification) await context.notifier.publish(notification);
    io.stdout(
      `${effect.type} ${effect.service ?? ""} ${effect.digest ? shortDigest(effect.digest) : ""} ${effect.message ?? ""}`.trim(),
    );
  }
}

function releaseRow(release: Release): string[] {
  return [
    release.pushedAt.slice(0, 19).replace("T", " "),
    shortDigest(release.digest),
    release.tags.join(",") || "-",
    release.state,
    release.override
      ? `approved by ${release.override.actor}`
      : ((release.decision?.violations.join("; ") || release.decision?.verdict) ?? "-"),
    release.operationId?.slice(0, 8) ?? "-",
  ];
}

function journalRow(entry: JournalEntry): string[] {
  const detail = [
    entry.message,
    ...(entry.reasons ?? []).filter((reason) => reason !== entry.message),
  ].filter(Boolean);
  return [
    entry.at.slice(0, 19).replace("T", " "),
    entry.type,
    entry.digest ? shortDigest(entry.digest) : "-",
    detail.join(" — "),
  ];
}

function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return "  (none)";
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ")}`.trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}
