import "./quiet-node-version-warning.ts";
import type { CommandIo } from "./commands/test-pattern.ts";

type Command = (args: string[], io: CommandIo) => Promise<number>;

const io: CommandIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

// Commands load lazily: `test-pattern` should not pay for the AWS SDK and the sandbox.
const COMMANDS: Record<string, { usage: string; load: () => Promise<Command> }> = {
  sandbox: {
    usage: "sandbox [--once]                           run Gantry locally and replay the demo",
    load: async () => (await import("./commands/sandbox.ts")).sandboxCommand,
  },
  replay: {
    usage: "replay <scenario.json> [--config file] [--json]  run a scenario through the sandbox",
    load: async () => (await import("./commands/replay.ts")).replayCommand,
  },
  history: {
    usage: "history <service> [--json]                  the service's releases and journal",
    load: async () => (await import("./commands/ledger.ts")).historyCommand,
  },
  approve: {
    usage: 'approve <service> <digest> --reason "…"     deploy a blocked digest (recorded)',
    load: async () => (await import("./commands/ledger.ts")).approveCommand,
  },
  quarantine: {
    usage: 'quarantine lift <service> <digest> --reason "…"  let a rolled-back digest be judged again',
    load: async () => (await import("./commands/ledger.ts")).quarantineCommand,
  },
  rollback: {
    usage: 'rollback <service> [--to <digest>] --reason "…"  deploy the last good (or a named) digest',
    load: async () => (await import("./commands/ledger.ts")).rollbackCommand,
  },
  notifications: {
    usage:
      "notifications replay --file <dead-letters.json> [--dry-run]  post failed Slack notifications again",
    load: async () => (await import("./commands/notifications.ts")).notificationsCommand,
  },
  config: {
    usage: "config check [gantry.config.ts]             validate the policies",
    load: async () => async (args, io) => {
      if (args[0] !== "check") {
        io.stderr("usage: gantry config check [file]");
        return 2;
      }
      return (await import("./commands/config-check.ts")).configCheckCommand(args.slice(1), io);
    },
  },
  "test-pattern": {
    usage: "test-pattern <pattern.json> <event.json>   does an EventBridge pattern match an event?",
    load: async () => (await import("./commands/test-pattern.ts")).testPatternCommand,
  },
};

export async function main(argv: string[]): Promise<number> {
  // Locally, the handlers' CloudWatch EMF metrics and INFO logs would bury the timeline.
  process.env.POWERTOOLS_METRICS_DISABLED ??= "true";
  process.env.POWERTOOLS_LOG_LEVEL ??= "WARN";
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    const asked = name === "help" || name === "--help" || name === "-h";
    if (name && !asked) io.stderr(`gantry: unknown command "${name}"`);
    io.stderr("usage: gantry <command>");
    for (const { usage } of Object.values(COMMANDS)) io.stderr(`  gantry ${usage}`);
    return asked ? 0 : 2;
  }
  try {
    return await (await command.load())(args, io);
  } catch (error) {
    // node:util parseArgs refusing the flags is a usage error (exit 2), like an unknown command.
    if (isUsageError(error)) {
      io.stderr(`gantry ${name}: ${error.message}`);
      io.stderr(`usage: gantry ${command.usage}`);
      return 2;
    }
    io.stderr(
      `gantry ${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return 1;
  }
}

function isUsageError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS_");
}

// `tsx packages/cli/src/main.ts …` (npm start) runs this file directly.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
