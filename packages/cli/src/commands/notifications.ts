/**
 * `gantry notifications replay --file <dead-letters.json> [--dry-run]`: deliver Slack
 * notifications again, e.g. the ones the Slack subscriber gave up on. Delivery goes through the same
 * code and the same thread store as the subscriber, so a notification that did reach Slack is
 * skipped, not posted twice.
 *
 * The file may hold (as one JSON value, or one per line): the output of
 * `aws sqs receive-message` on the Slack dead-letter queue, Lambda invocation records (what the
 * queue holds), Lambda SNS events, or bare notifications as published to the topic.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseNotificationMessage } from "@gantry/events";
import {
  buildSlackContext,
  deliverSlackNotification,
  envSecretReader,
  parseSlackConfig,
  type SlackRuntimeConfig,
} from "@gantry/runtime";
import {
  contextFor,
  loadGantryConfigFile,
  resolveTarget,
  SANDBOX_STATE_FILE,
  type Target,
} from "../target.ts";
import { shortDigest } from "../timeline.ts";
import type { CommandIo } from "./test-pattern.ts";

const USAGE = "usage: gantry notifications replay --file <dead-letters.json> [--dry-run] [--config file]";

/** One message to deliver again: the SNS `Message` text, byte for byte (its de-duplication key). */
export interface ReplayRecord {
  rawMessage: string;
  /** Where in the file it came from, for messages. */
  origin: string;
}

export async function notificationsCommand(args: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "replay") {
    io.stderr(USAGE);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { file: { type: "string" }, "dry-run": { type: "boolean" }, config: { type: "string" } },
  });
  if (!values.file || positionals.length > 0) {
    io.stderr(USAGE);
    return 2;
  }
  const records = extractReplayRecords(await readFile(values.file, "utf8"));
  if (records.length === 0) {
    io.stdout(`nothing to replay in ${values.file}`);
    return 0;
  }

  const target = await resolveTarget();
  const app = contextFor(target, await loadGantryConfigFile(values.config));
  const slackConfig = await slackConfigFor(target);
  const context = buildSlackContext(app, target.runtime, slackConfig, {
    ...(target.credentials ? { credentials: target.credentials } : {}),
  });
  io.stdout(
    `Replaying ${records.length} notification(s) to Slack on ${target.label}${values["dry-run"] ? " (dry run)" : ""}`,
  );

  let failed = 0;
  for (const record of records) {
    let label = record.origin;
    try {
      const notification = parseNotificationMessage(record.rawMessage, record.origin);
      label = `${notification.kind} ${notification.service ?? "-"}${notification.digest ? ` ${shortDigest(notification.digest)}` : ""}`;
      if (values["dry-run"]) {
        io.stdout(`  would deliver ${label}`);
        continue;
      }
      const deliveries = await deliverSlackNotification(context, record.rawMessage, notification);
      if (deliveries.length === 0) io.stdout(`  - ${label}: no channel takes it (below every threshold)`);
      for (const delivery of deliveries) {
        const what = delivery.action === "duplicate" ? "already posted, skipped" : delivery.action;
        io.stdout(`  ✓ ${label} → #${delivery.channel}: ${what}`);
      }
    } catch (error) {
      failed++;
      io.stderr(
        `  ✗ ${label}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
    }
  }
  io.stdout(`${records.length - failed} delivered or already there, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

/**
 * The sandbox (`npm start`) says in its state file how to reach its Slack stand-in; a stage takes
 * the settings from the environment (GANTRY_SLACK_CHANNELS, GANTRY_SLACK_BOT_TOKEN or
 * GANTRY_SLACK_WEBHOOK_URL, …), as its functions do.
 */
async function slackConfigFor(target: Target, cwd = process.cwd()): Promise<SlackRuntimeConfig> {
  const stateFile = resolve(cwd, SANDBOX_STATE_FILE);
  if (target.credentials && existsSync(stateFile)) {
    const state = JSON.parse(await readFile(stateFile, "utf8")) as { slack?: SandboxSlackState };
    if (state.slack) {
      const slack = state.slack;
      return parseSlackConfig(
        {
          GANTRY_SLACK_CHANNELS: slack.channels,
          GANTRY_SLACK_APPROVERS: slack.approvers.join(","),
          GANTRY_SLACK_API_URL: slack.apiUrl,
        },
        (name) =>
          name === "SlackBotToken" && slack.transport === "bot"
            ? slack.botToken
            : name === "SlackWebhookUrl" && slack.transport === "webhook"
              ? slack.webhookUrl
              : undefined,
      );
    }
  }
  return parseSlackConfig(process.env, envSecretReader(process.env));
}

interface SandboxSlackState {
  apiUrl: string;
  webhookUrl: string;
  botToken: string;
  channels: string;
  approvers: string[];
  transport: "bot" | "webhook";
}

/** Every notification in a dead-letter export, whatever the wrapping, in file order. */
export function extractReplayRecords(text: string): ReplayRecord[] {
  const values: { value: unknown; origin: string }[] = [];
  try {
    values.push({ value: JSON.parse(text), origin: "file" });
  } catch {
    text.split("\n").forEach((line, index) => {
      if (line.trim()) values.push({ value: JSON.parse(line), origin: `line ${index + 1}` });
    });
  }
  const records: ReplayRecord[] = [];
  for (const { value, origin } of values) walk(value, origin, records);
  return records;
}

function walk(value: unknown, origin: string, out: ReplayRecord[]): void {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) walk(item, `${origin}[${index}]`, out);
    return;
  }
  if (typeof value !== "object" || value === null) {
    throw new Error(`${origin}: not a dead letter or a notification`);
  }
  const record = value as Record<string, unknown>;
  if (Array.isArray(record.Messages)) {
    walk(record.Messages, `${origin}.Messages`, out); // aws sqs receive-message
  } else if (typeof record.Body === "string") {
    walk(JSON.parse(record.Body), `${origin}.Body`, out); // one SQS message
  } else if (record.requestPayload !== undefined) {
    walk(record.requestPayload, `${origin}.requestPayload`, out); // a Lambda invocation record
  } else if (Array.isArray(record.Records)) {
    for (const [index, entry] of record.Records.entries()) {
      const message = (entry as { Sns?: { Message?: unknown } })?.Sns?.Message;
      if (typeof message !== "string") throw new Error(`${origin}.Records[${index}]: not an SNS record`);
      out.push({ rawMessage: message, origin: `${origin}.Records[${index}]` });
    }
  } else if (record.schemaVersion !== undefined) {
    // As SnsNotifier published it: JSON.stringify keeps the key order parsing preserved.
    out.push({ rawMessage: JSON.stringify(record), origin });
  } else {
    throw new Error(`${origin}: not a dead letter or a notification`);
  }
}
