import { parseArgs } from "node:util";
import { loadScenario, replayScenario } from "@gantry/local";
import { loadGantryConfigFile } from "../target.ts";
import { formatTimelineEntry } from "../timeline.ts";
import type { CommandIo } from "./test-pattern.ts";

/**
 * `gantry replay <scenario.json> [--config file] [--json]`: run a scenario through the sandbox.
 * With --json, one JSON object per effect, in order (the replay contract); else a timeline.
 */
export async function replayCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, config: { type: "string" } },
  });
  if (positionals.length !== 1) {
    io.stderr("usage: gantry replay <scenario.json> [--config gantry.config.ts|config.json] [--json]");
    return 2;
  }
  const { scenario, baseDir } = await loadScenario(positionals[0] as string);
  const config = values.config ? await loadGantryConfigFile(values.config) : undefined;
  const { effects, sandbox } = await replayScenario(scenario, { baseDir, ...(config ? { config } : {}) });
  try {
    if (values.json) for (const effect of effects) io.stdout(JSON.stringify(effect));
    else for (const entry of sandbox.timeline) io.stdout(formatTimelineEntry(entry));
    return sandbox.bus.deadLetters.length === 0 ? 0 : 1;
  } finally {
    await sandbox.stop();
  }
}
