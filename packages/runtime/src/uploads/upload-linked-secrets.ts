import { type Env, RuntimeConfigError } from "../runtime-config.ts";
import type { NamedSecretReader } from "../sst-secrets.ts";

/**
 * The upload functions' secrets are linked SST secrets (encrypted into the function's bundle, read
 * through SST's `Resource`), never environment variables, which anyone allowed to read the function
 * configuration could read. The environment only names the linked secret that holds each value
 * (infra/uploads.ts); this fills in the variables `parseUploadPresignConfig` and
 * `parseUploadCompletedConfig` validate. Problems name the variable and the secret, never a value.
 * Functions read them with `sstSecretReader` (sst-secrets.ts).
 */
const SINGLE = [
  ["GANTRY_UPLOAD_AUTH_KEY", "GANTRY_UPLOAD_AUTH_KEY_SECRET"],
  ["GANTRY_UPLOAD_TOKEN_KEY", "GANTRY_UPLOAD_TOKEN_KEY_SECRET"],
] as const;
const WEBHOOK_SECRET_NAMES = "GANTRY_UPLOAD_WEBHOOK_SECRET_NAMES";

export function withLinkedUploadSecrets(env: Env, read: NamedSecretReader): Env {
  const resolved: Record<string, string | undefined> = { ...env };
  const problems: string[] = [];
  const lookUp = (variable: string, secret: string) => {
    const value = read(secret);
    if (value === undefined) {
      problems.push(`${variable}: the linked secret ${secret} is not set (npx sst secret set ${secret} …)`);
    }
    return value;
  };
  for (const [variable, nameVariable] of SINGLE) {
    const secret = env[nameVariable]?.trim();
    if (secret) resolved[variable] = lookUp(variable, secret);
  }
  const names = env[WEBHOOK_SECRET_NAMES]?.trim();
  if (names) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(names);
    } catch {
      parsed = undefined;
    }
    if (!isStringRecord(parsed)) {
      problems.push(`${WEBHOOK_SECRET_NAMES} must be a JSON object of app → secret name`);
    } else {
      const secrets: Record<string, string> = {};
      for (const [app, secret] of Object.entries(parsed)) {
        const value = lookUp(`GANTRY_UPLOAD_WEBHOOK_SECRETS (${app})`, secret);
        if (value !== undefined) secrets[app] = value;
      }
      resolved.GANTRY_UPLOAD_WEBHOOK_SECRETS = JSON.stringify(secrets);
    }
  }
  if (problems.length > 0) throw new RuntimeConfigError(problems);
  return resolved;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === "string")
  );
}
