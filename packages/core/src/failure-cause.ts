/**
 * Why did a deployment fail? App Runner tells nothing in its events (FACTS §0.7), so Gantry reads
 * the tail of the service's deployment and application logs and names the probable cause.
 */
import { redactLogLines } from "./redaction.ts";

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

export interface DiagnosisContext {
  /**
   * The port App Runner sends traffic and TCP health checks to: the service's
   * `ImageConfiguration.Port`. Unknown → the port App Runner's own health-check line names, else
   * App Runner's default (https://docs.aws.amazon.com/apprunner/latest/api/API_ImageConfiguration.html).
   */
  expectedPort?: number | undefined;
}

export const MAX_LOG_LINES = 200;
export const MAX_LOG_BYTES = 32 * 1024;
export const DEFAULT_APP_RUNNER_PORT = 8080;
const MAX_EVIDENCE_LINES = 5;

/**
 * The newest lines, redacted (PEM blocks across lines included), within MAX_LOG_LINES and
 * MAX_LOG_BYTES (oldest dropped first). Each line is cut before redaction, so the cost is bounded.
 */
export function boundedTail(lines: readonly string[]): string[] {
  const window = redactLogLines(lines.slice(-MAX_LOG_LINES));
  const kept: string[] = [];
  let bytes = 0;
  for (let index = window.length - 1; index >= 0; index--) {
    const line = window[index] ?? "";
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > MAX_LOG_BYTES) break;
    kept.push(line);
  }
  return kept.reverse();
}

// What one line says. Patterns run on redacted lines of at most MAX_LINE_CHARS characters, and
// their gaps are bounded (`.{0,200}`), so none backtracks over a long line.
const IMAGE_PULL =
  /failed to pull|pull access denied|manifest unknown|image not found|CannotPullContainer|ECR.{0,200}(?:denied|not authorized)/i;
const PORT_MISMATCH_MESSAGE = /port mismatch|no process (?:is )?listening on port/i;
const DEPENDENCY =
  /ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|connection refused|could not connect to (?:server|database)|database .{0,200}(?:not ready|unavailable|starting up)|too many connections/i;
// EADDRINUSE is a second process on the same port inside the container: the app fails to start.
const CRASH =
  /exited with code [1-9]|exit code [1-9]|segmentation fault|uncaught exception|unhandled rejection|panic:|out of memory|OOMKilled|Traceback \(most recent call last\)|EADDRINUSE/i;
const HEALTH_CHECK = /health check (?:failed|failure)|healthcheck failed|unhealthy|failed health check/i;
/** App Runner's health-check line names the configured port: "… [Port: '8080']". */
const APP_RUNNER_PORT = /\[Port: '(\d{1,5})'\]/;
/**
 * A server announcing where it listens: "listening on port 3000", "Listening on :8080",
 * "Running on http://0.0.0.0:5000", "Tomcat started on port(s): 8080 (http)". The colon form needs a
 * host before it (or a blank), so a time of day such as "started at 12:30" is no port.
 */
const LISTENING =
  /\b(?:listening|running|started|serving|bound|ready)\b.{0,60}?(?:\bport\b\D{0,6}|(?:\/\/[^\s/:]{1,100}|\b0\.0\.0\.0|\b127\.0\.0\.1|\blocalhost|\[::\]|::|\*|\s):|\bon\s{1,3})(\d{2,5})\b/i;

type Signal =
  | { kind: "image-pull" | "port-mismatch" | "dependency-unavailable" | "crash-loop" | "health-check" }
  | { kind: "listening"; port: number };

function signalOf(line: string): Signal | undefined {
  if (IMAGE_PULL.test(line)) return { kind: "image-pull" };
  if (PORT_MISMATCH_MESSAGE.test(line)) return { kind: "port-mismatch" };
  if (DEPENDENCY.test(line)) return { kind: "dependency-unavailable" };
  if (CRASH.test(line)) return { kind: "crash-loop" };
  if (HEALTH_CHECK.test(line)) return { kind: "health-check" };
  const listening = LISTENING.exec(line);
  if (listening) return { kind: "listening", port: Number(listening[1]) };
  return undefined;
}

const SUMMARIES = {
  "image-pull": "App Runner could not pull the image",
  "port-mismatch": "the app listens on a different port than the service's configured port",
  "dependency-unavailable": "the app could not reach a dependency yet (database or upstream)",
  "crash-loop": "the app process keeps exiting on start",
  "health-check": "the new version failed its health check",
} as const;

function verdict(cause: Exclude<FailureCause, "unknown">, evidence: string[], summary?: string) {
  return {
    cause,
    transient: cause === "dependency-unavailable",
    summary: summary ?? SUMMARIES[cause],
    evidence: evidence.slice(-MAX_EVIDENCE_LINES),
  };
}

/**
 * The verdict, decided in this order (each step is explained in the summary it gives):
 * 1. image-pull: App Runner could not pull the image, so nothing else in the logs came from it.
 * 2. port-mismatch: an explicit message, or the app announced the ports it listens on and none is
 *    the service's port (an app printing "listening on port 8080" on port 8080 is healthy). A wrong
 *    port fails the health check by itself, whatever else the app printed.
 * 3. crash-loop vs dependency-unavailable, by weight: the cause with more lines wins; a tie goes to
 *    the one seen last (the error the app died on). One incidental ECONNREFUSED among crash lines
 *    stays a crash loop; a dependency verdict needs the dependency errors to dominate.
 * 4. health-check: App Runner judged the app unhealthy and the app said nothing more specific.
 */
export function diagnoseFailure(lines: readonly string[], context: DiagnosisContext = {}): FailureDiagnosis {
  const tail = boundedTail(lines);
  const signals = tail.map((line) => ({ line, signal: signalOf(line) }));
  const linesOf = (kind: Signal["kind"]) =>
    signals.filter(({ signal }) => signal?.kind === kind).map(({ line }) => line);

  const imagePull = linesOf("image-pull");
  if (imagePull.length > 0) return verdict("image-pull", imagePull);

  const expectedPort = context.expectedPort ?? configuredPortInLogs(tail) ?? DEFAULT_APP_RUNNER_PORT;
  const listening = signals.flatMap(({ line, signal }) =>
    signal?.kind === "listening" ? [{ line, port: signal.port }] : [],
  );
  const wrongPorts = listening.some(({ port }) => port === expectedPort) ? [] : listening;
  const mismatchMessages = linesOf("port-mismatch");
  if (wrongPorts.length > 0 || mismatchMessages.length > 0) {
    const ports = [...new Set(wrongPorts.map(({ port }) => port))];
    const summary = ports.length
      ? `the app listens on port ${ports.join(", ")} but the service's configured port is ${expectedPort}`
      : undefined;
    const evidence = signals
      .filter(
        ({ line, signal }) => signal?.kind === "port-mismatch" || wrongPorts.some((w) => w.line === line),
      )
      .map(({ line }) => line);
    return verdict("port-mismatch", evidence, summary);
  }

  const crashes = linesOf("crash-loop");
  const dependencies = linesOf("dependency-unavailable");
  if (crashes.length > 0 || dependencies.length > 0) {
    const lastOf = (kind: Signal["kind"]) => signals.findLastIndex(({ signal }) => signal?.kind === kind);
    const dependencyWins =
      dependencies.length > crashes.length ||
      (dependencies.length === crashes.length && lastOf("dependency-unavailable") > lastOf("crash-loop"));
    return dependencyWins ? verdict("dependency-unavailable", dependencies) : verdict("crash-loop", crashes);
  }

  const healthChecks = linesOf("health-check");
  if (healthChecks.length > 0) return verdict("health-check", healthChecks);

  return {
    cause: "unknown",
    transient: true,
    summary: tail.length ? "no known failure pattern in the service logs" : "no service logs were available",
    evidence: tail.slice(-MAX_EVIDENCE_LINES),
  };
}

function configuredPortInLogs(tail: readonly string[]): number | undefined {
  for (let index = tail.length - 1; index >= 0; index--) {
    const match = APP_RUNNER_PORT.exec(tail[index] ?? "");
    if (match) return Number(match[1]);
  }
  return undefined;
}
