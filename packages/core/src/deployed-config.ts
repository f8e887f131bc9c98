import { type GantryConfig, parseGantryConfig } from "./gantry-config.ts";

/**
 * The Gantry config a stage runs, as `sst deploy` publishes it (infra/gantry-config.ts): one item in
 * the ledger table, written from the same `gantry.config.ts` the functions are bundled with. The CLI
 * re-gates on a stage with it, never with a local file that may differ from what is deployed.
 */
export const DEPLOYED_CONFIG_KEY = Object.freeze({ pk: "GANTRY#CONFIG", sk: "DEPLOYED" });

export interface DeployedConfig {
  /** A fingerprint of the config, shown by the CLI and in the stage outputs. */
  version: string;
  config: GantryConfig;
}

export class DeployedConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeployedConfigError";
  }
}

/** The ledger item (every attribute a string) for a validated config. */
export function deployedConfigItem(config: GantryConfig, version: string): Record<string, string> {
  return { ...DEPLOYED_CONFIG_KEY, version, config: JSON.stringify(config) };
}

/** Reads the item back; anything else is refused with a reason, never read as a default config. */
export function parseDeployedConfig(item: unknown): DeployedConfig {
  const record = (item ?? {}) as Record<string, unknown>;
  if (typeof record.version !== "string" || typeof record.config !== "string") {
    throw new DeployedConfigError("the deployed Gantry config item has no version or config");
  }
  let input: unknown;
  try {
    input = JSON.parse(record.config);
  } catch {
    throw new DeployedConfigError(`the deployed Gantry config ${record.version} is not JSON`);
  }
  return { version: record.version, config: parseGantryConfig(input) };
}
