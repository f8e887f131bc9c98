/**
 * Process-wide Powertools instances plus the redaction every log line goes through.
 *
 * One logger, one metrics buffer and one tracer per process is what Powertools expects (they hold
 * cold-start state and the per-invocation buffers its middlewares flush). The names follow the
 * Powertools environment variables so SST can set them per function; the defaults make the sandbox
 * and tests emit the same shapes without any setup.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { REDACTED, redactText } from "@gantry/core";

export const DEFAULT_SERVICE_NAME = "gantry";
export const DEFAULT_METRICS_NAMESPACE = "Gantry";

/** Keys whose values are secrets wherever they appear (Slack webhook, signing secret, tokens...). */
export const SECRET_KEY_PATTERN = /token|secret|password|authorization|webhook|signature/i;

/** Guards `redact` against pathological nesting; log payloads are shallow in practice. */
const MAX_REDACT_DEPTH = 12;

/**
 * Secrets inside free text (error messages that quote a URL, header or config) are masked by the
 * core's one redaction, the same that cleans an app's log lines: bounded input, one set of patterns.
 */
export { REDACTED, redactText };

/**
 * A copy of `value` that is safe to log: values under secret-looking keys are replaced, secrets
 * embedded in strings are masked, cycles and excessive depth are cut. Errors become plain
 * `{ name, message }` so a redacted copy never smuggles the original object back in.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, 0, new Set());
}

function redactValue(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date) return value;
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (ancestors.has(value)) return "[Circular]";
  if (depth >= MAX_REDACT_DEPTH) return "[Truncated]";
  // Track only the current path: the same object reached twice by different keys is not a cycle.
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, ancestors));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : redactValue(item, depth + 1, ancestors);
    }
    return copy;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Applied by Powertools to every key/value it serialises, so even code that logs an object without
 * calling `redact` first cannot leak a webhook URL or token.
 */
export function redactingJsonReplacer(key: string, value: unknown): unknown {
  if (key !== "" && SECRET_KEY_PATTERN.test(key)) return REDACTED;
  return typeof value === "string" ? redactText(value) : value;
}

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME;

export const logger = new Logger({ serviceName, jsonReplacerFn: redactingJsonReplacer });

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
});

/** Disabled by Powertools itself outside Lambda, so the sandbox and tests pay nothing for it. */
export const tracer = new Tracer({ serviceName });
