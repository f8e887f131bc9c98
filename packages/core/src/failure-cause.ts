/**
 * Why did a deployment fail? App Runner tells nothing in its events (FACTS §0.7), so Gantry reads
 * the tail of the service's deployment and application logs and names the probable cause.
 */
export type FailureCause =
  | "health-check"
  | "port-mismatch"
  | "crash-loop"
  | "image-pull"
  | "dependency-unavailable"
  | "unknown";

export interface FailureDiagnosis {
  cause: FailureCause;
  /** Whether trying the same image again can help (the app was never judged unhealthy on its own). */
  transient: boolean;
  summary: string;
  /** The log lines that led to the verdict, redacted, at most MAX_EVIDENCE_LINES. */
  evidence: string[];
}

export const MAX_LOG_LINES = 200;
export const MAX_LOG_BYTES = 32 * 1024;
const MAX_EVIDENCE_LINES = 5;

// Order matters: the most specific explanation wins (a port mismatch also fails health checks).
const RULES: {
  cause: Exclude<FailureCause, "unknown">;
  transient: boolean;
  summary: string;
  pattern: RegExp;
}[] = [
  {
    cause: "image-pull",
    transient: false,
    summary: "App Runner could not pull the image",
    pattern:
      /(failed to pull|pull access denied|manifest unknown|image not found|CannotPullContainer|ECR.*(denied|not authorized))/i,
  },
  {
    cause: "dependency-unavailable",
    transient: true,
    summary: "the app could not reach a dependency yet (database or upstream)",
    pattern:
      /(ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|connection refused|could not connect to (server|database)|database .*(not ready|unavailable|starting up)|too many connections)/i,
  },
  {
    cause: "port-mismatch",
    transient: false,
    summary: "the app listens on a different port than the service's configured port",
    pattern: /(listening on (port )?\d+|EADDRINUSE|port mismatch|no process listening on port)/i,
  },
  {
    cause: "crash-loop",
    transient: false,
    summary: "the app process keeps exiting on start",
    pattern:
      /(exited with code [1-9]|exit code [1-9]|segmentation fault|uncaught exception|unhandled rejection|panic:|out of memory|OOMKilled|Traceback \(most recent call last\))/i,
  },
  {
    cause: "health-check",
    transient: false,
    summary: "the new version failed its health check",
    pattern: /(health check (failed|failure)|healthcheck failed|unhealthy|failed health check)/i,
  },
];

/** Tokens, keys and passwords must not travel from an app's logs into the ledger or Slack. */
const SECRETS: readonly [RegExp, string][] = [
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, "[REDACTED]"],
  [/\bxox[abprs]-[A-Za-z0-9-]+/g, "[REDACTED]"],
  [/https:\/\/hooks\.slack\.com\/[^\s"']+/g, "[REDACTED]"],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [REDACTED]"],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, "[REDACTED]"],
  [
    /\b([A-Za-z_]*(?:password|passwd|secret|token|api[_-]?key)[A-Za-z_]*)\s*[=:]\s*("[^"]*"|'[^']*'|[^\s,;]+)/gi,
    "$1=[REDACTED]",
  ],
  [/([a-z][a-z0-9+.-]*:\/\/[^:/\s]+:)[^@/\s]+@/gi, "$1[REDACTED]@"],
];

export function redactLogLine(line: string): string {
  return SECRETS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), line);
}

/** The newest lines, redacted, within MAX_LOG_LINES and MAX_LOG_BYTES (oldest dropped first). */
export function boundedTail(lines: readonly string[]): string[] {
  const tail: string[] = [];
  let bytes = 0;
  for (let index = lines.length - 1; index >= 0 && tail.length < MAX_LOG_LINES; index--) {
    const line = redactLogLine(lines[index] ?? "").slice(0, 2000);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MAX_LOG_BYTES) break;
    tail.unshift(line);
  }
  return tail;
}

export function diagnoseFailure(lines: readonly string[]): FailureDiagnosis {
  const tail = boundedTail(lines);
  for (const rule of RULES) {
    const evidence = tail.filter((line) => rule.pattern.test(line));
    if (evidence.length > 0) {
      return {
        cause: rule.cause,
        transient: rule.transient,
        summary: rule.summary,
        evidence: evidence.slice(-MAX_EVIDENCE_LINES),
      };
    }
  }
  return {
    cause: "unknown",
    transient: true,
    summary: tail.length ? "no known failure pattern in the service logs" : "no service logs were available",
    evidence: tail.slice(-MAX_EVIDENCE_LINES),
  };
}
