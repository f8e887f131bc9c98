import { defineConfig } from "@gantry/core";

/**
 * Gantry's policies for this platform. A service opts in with the App Runner tag
 * `gantry:managed=true` and picks a policy with `gantry:policy=<name>` (else `defaultPolicy`).
 * `npx gantry config check` validates this file; `sst deploy` refuses an invalid one.
 */
export default defineConfig({
  defaultPolicy: "default",
  policies: {
    // The documented default: follow the service's current tag, block on any CRITICAL finding.
    default: {
      mode: "enforce",
      follow: { kind: "current-tag" },
      maxFindings: { CRITICAL: 0 },
      scanTimeoutMinutes: 30,
    },
    // Public-facing services: nothing CRITICAL or HIGH, semver releases only.
    strict: {
      follow: { kind: "semver", range: ">=1.0.0" },
      maxFindings: { CRITICAL: 0, HIGH: 0 },
      scanTimeoutMinutes: 20,
    },
    // Roll out a new gate safely: report what would be blocked, deploy anyway.
    observe: { mode: "audit", maxFindings: { CRITICAL: 0, HIGH: 0 } },
  },
  fixAutoDeployDrift: true,
});
