import { createHash } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Sandbox, type SandboxImage } from "@gantry/local";
import { SANDBOX_STATE_FILE } from "../target.ts";
import { formatTimelineEntry } from "../timeline.ts";
import type { CommandIo } from "./test-pattern.ts";

const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

/**
 * `npm start` / `gantry sandbox [--once]`: start everything locally, replay a short story, print
 * what the control plane did. Without --once the sandbox stays up for poking until Ctrl-C.
 */
export async function sandboxCommand(args: string[], io: CommandIo): Promise<number> {
  const once = args.includes("--once");
  io.stdout(
    "Starting the Gantry sandbox: DynamoDB Local, App Runner + ECR emulators, local SNS, in-process bus…",
  );
  const sandbox = await Sandbox.start({
    config: {
      policies: {
        strict: { maxFindings: { CRITICAL: 0, HIGH: 0 }, scanTimeoutMinutes: 20 },
      },
    },
  });
  try {
    let printed = 0;
    // During the demo, Slack's posts are shown once, as the conversation at the end.
    let showSlack = false;
    const flush = () => {
      for (; printed < sandbox.timeline.length; printed++) {
        const entry = sandbox.timeline[printed]!;
        if (showSlack || entry.effect?.type !== "slack") io.stdout(formatTimelineEntry(entry));
      }
    };

    io.stdout("");
    io.stdout("Fleet: 'storefront' follows web:prod (default policy: block on any CRITICAL);");
    io.stdout("       'payments' follows api:prod under policy 'strict' (no CRITICAL, no HIGH).");
    sandbox.createService({ name: "storefront", image: "web:prod" });
    sandbox.createService({ name: "payments", image: "api:prod", tags: { "gantry:policy": "strict" } });

    const story: { title: string; image: SandboxImage }[] = [
      {
        title: "A clean web image is pushed to web:prod",
        image: { repository: "web", digest: digestOf("web v2"), tags: ["prod"] },
      },
      {
        title: "An api image with a HIGH finding is pushed to api:prod",
        image: {
          repository: "api",
          digest: digestOf("api v7"),
          tags: ["prod"],
          findings: [{ id: "CVE-2026-1234", severity: "HIGH" }],
        },
      },
      {
        title: "A web image lands on a tag nobody follows",
        image: { repository: "web", digest: digestOf("web dev"), tags: ["dev"] },
      },
    ];
    for (const { title, image } of story) {
      io.stdout("");
      io.stdout(`── ${title}`);
      sandbox.putImage(image);
      for (const event of sandbox.pushEvents(image)) sandbox.publish(event);
      await sandbox.clock.advance(90_000);
      sandbox.publish(sandbox.scanEvent(image));
      await sandbox.settle();
      flush();
    }

    io.stdout("");
    io.stdout("Where the fleet stands now:");
    for (const { service } of sandbox.appRunner.snapshot().services) {
      const source = service.SourceConfiguration as {
        ImageRepository?: { ImageIdentifier?: string };
        AutoDeploymentsEnabled?: boolean;
      };
      io.stdout(
        `  ${service.ServiceName}: ${service.Status}, image ${source.ImageRepository?.ImageIdentifier}, auto-deploy ${source.AutoDeploymentsEnabled ? "on" : "off"}`,
      );
    }
    io.stdout(`  notifications published to SNS: ${sandbox.sns.messages.length}`);
    if (sandbox.bus.deadLetters.length > 0) io.stdout(`  dead letters: ${sandbox.bus.deadLetters.length}`);
    if (sandbox.slack) {
      io.stdout("");
      io.stdout("What Slack shows (the local stand-in; one thread per release, headlines edited in place):");
      for (const line of sandbox.slack.render().split("\n")) io.stdout(`  ${line}`);
      showSlack = true;
    }

    if (once) return sandbox.bus.deadLetters.length === 0 ? 0 : 1;
    await keepRunning(sandbox, io, flush, digestOf("api v7"));
    return 0;
  } finally {
    await sandbox.stop();
  }
}

/** Sandbox time runs 60× faster than real time while the sandbox waits for commands. */
const TICK_MS = 250;
const SPEED = 60;

/**
 * Keeps the sandbox up for other terminals: writes where it can be reached (the CLI's ledger
 * commands read it), moves the virtual clock on in real time, prints what happens, stops on Ctrl-C.
 */
async function keepRunning(
  sandbox: Sandbox,
  io: CommandIo,
  flush: () => void,
  blockedDigest: string,
): Promise<void> {
  await mkdir(dirname(SANDBOX_STATE_FILE), { recursive: true });
  // The CLI's writes must carry sandbox time, so the state file says how sandbox time moves.
  const writeState = () =>
    writeFile(
      SANDBOX_STATE_FILE,
      JSON.stringify(
        {
          pid: process.pid,
          runtime: sandbox.runtime,
          // `gantry notifications replay` posts to the stand-in, like the Slack function does.
          ...(sandbox.slack ? { slack: sandbox.slack.settings } : {}),
          clock: { sandboxTime: sandbox.clock.now().toISOString(), realTime: Date.now(), speed: SPEED },
        },
        null,
        2,
      ),
    );
  await writeState();
  io.stdout("");
  io.stdout(
    "The sandbox keeps running (sandbox time moves 60× faster; Ctrl-C to stop). In another terminal:",
  );
  io.stdout("  npx gantry history payments");
  io.stdout(`  npx gantry approve payments ${blockedDigest} --reason "CVE-2026-1234 is not reachable"`);
  let busy = false;
  let sinceReconcile = 0;
  const ticker = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      await sandbox.clock.advance(TICK_MS * SPEED);
      sinceReconcile += TICK_MS * SPEED;
      if (sinceReconcile >= 5 * 60_000) {
        sinceReconcile = 0;
        await sandbox.reconcile();
      }
      flush();
      await writeState();
    })()
      .catch((error: Error) => io.stderr(`sandbox: ${error.message}`))
      .finally(() => {
        busy = false;
      });
  }, TICK_MS);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  clearInterval(ticker);
  await rm(SANDBOX_STATE_FILE, { force: true });
}
