import { describe, expect, it } from "vitest";
import {
  DEPLOYED_CONFIG_KEY,
  DeployedConfigError,
  deployedConfigItem,
  GantryConfigError,
  parseDeployedConfig,
  parseGantryConfig,
} from "../src/index.ts";

describe("the deployed Gantry config (published by sst deploy, read by the CLI on a stage)", () => {
  it("round-trips a validated config through its ledger item", () => {
    const config = parseGantryConfig({ policies: { strict: { maxFindings: { CRITICAL: 0, HIGH: 0 } } } });
    const item = deployedConfigItem(config, "0123456789ab");
    expect(item).toMatchObject({
      pk: DEPLOYED_CONFIG_KEY.pk,
      sk: DEPLOYED_CONFIG_KEY.sk,
      version: "0123456789ab",
    });
    expect(Object.values(item).every((value) => typeof value === "string")).toBe(true);
    expect(parseDeployedConfig(item)).toEqual({ version: "0123456789ab", config });
  });

  it("refuses an item it cannot read, rather than judging with a default config", () => {
    expect(() => parseDeployedConfig(undefined)).toThrow(DeployedConfigError);
    expect(() => parseDeployedConfig({ version: "v" })).toThrow("has no version or config");
    expect(() => parseDeployedConfig({ version: "v", config: "{" })).toThrow(
      "the deployed Gantry config v is not JSON",
    );
    expect(() => parseDeployedConfig({ version: "v", config: '{"defaultPolicy":"missing"}' })).toThrow(
      GantryConfigError,
    );
  });
});
