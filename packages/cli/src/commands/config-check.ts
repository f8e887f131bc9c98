import { GantryConfigError, policyVersion } from "@gantry/core";
import { loadGantryConfigFile } from "../target.ts";
import type { CommandIo } from "./test-pattern.ts";

/** `gantry config check [file]`: the same validation `sst deploy` and every cold start apply. */
export async function configCheckCommand(args: string[], io: CommandIo): Promise<number> {
  const file = args[0] ?? "gantry.config.ts";
  try {
    const config = await loadGantryConfigFile(file);
    io.stdout(`${file} is valid. Default policy: ${config.defaultPolicy}`);
    for (const [name, policy] of Object.entries(config.policies)) {
      const limits = Object.entries(policy.maxFindings)
        .map(([severity, max]) => `${severity}≤${max}`)
        .join(" ");
      const follow =
        policy.follow.kind === "current-tag"
          ? "current tag"
          : `${policy.follow.kind} ${Object.values(policy.follow)[1]}`;
      io.stdout(
        `  ${name} [${policyVersion(policy)}]: ${policy.mode}, follows ${follow}, ${limits || "no limits"}, scan timeout ${policy.scanTimeoutMinutes} min, ${policy.exceptions.length} exception(s)`,
      );
    }
    return 0;
  } catch (error) {
    io.stderr(
      error instanceof GantryConfigError
        ? `${file}: ${error.message}`
        : `${file}: ${(error as Error).message}`,
    );
    return 1;
  }
}
