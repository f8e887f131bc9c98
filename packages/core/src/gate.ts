import type { SeverityCounts } from "./domain-events.ts";
import type { CveException, GatedSeverity, GatePolicy } from "./gantry-config.ts";

export interface Finding {
  /** CVE or vendor id, as ECR / Inspector report it. */
  id: string;
  severity: string;
}

export interface ScanEvidence {
  scanner: "basic" | "enhanced";
  scanStatus: string;
  succeeded: boolean;
  severityCounts: SeverityCounts;
  /** When the scanner produced this result (the scan event's time, or the API's completion time). */
  scannedAt?: string;
  /** Known only when fetched (needed only if exceptions could change the verdict). */
  findings?: Finding[];
}

export interface GateDecision {
  verdict: "allow" | "block";
  /** What the policy objects to. In audit mode these are reported but do not block. */
  violations: string[];
  /** Exceptions that covered findings, and expired ones that no longer do. */
  notes: string[];
  mode: GatePolicy["mode"];
}

const GATED: readonly GatedSeverity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

/** Exceptions only matter when some severity is over its limit and an exception is still valid. */
export function needsFindingIds(policy: GatePolicy, scan: ScanEvidence, now: Date): boolean {
  if (!scan.succeeded || scan.findings) return false;
  return activeExceptions(policy, now).length > 0 && overLimit(policy, scan.severityCounts).length > 0;
}

/** The gate: pure, deterministic, explainable. Fail closed on anything but a completed scan. */
export function evaluateGate(policy: GatePolicy, scan: ScanEvidence, now: Date): GateDecision {
  const notes = policy.exceptions
    .filter((exception) => !isActive(exception, now))
    .map(
      (exception) => `exception ${exception.id} (owner ${exception.owner}) expired ${exception.expiresAt}`,
    );
  const violations: string[] = [];

  if (!scan.succeeded) {
    violations.push(`scan ${scan.scanStatus}: no scan verdict, failing closed`);
  } else {
    const counts = { ...scan.severityCounts };
    const active = activeExceptions(policy, now);
    if (active.length > 0 && scan.findings) {
      for (const finding of scan.findings) {
        const exception = active.find((candidate) => candidate.id === finding.id);
        const severity = finding.severity.toUpperCase() as GatedSeverity;
        if (!exception || !(severity in counts)) continue;
        counts[severity] = Math.max(0, counts[severity] - 1);
        notes.push(`${finding.id} (${severity}) excepted until ${exception.expiresAt}: ${exception.reason}`);
      }
    } else if (active.length > 0 && overLimit(policy, counts).length > 0) {
      notes.push("exceptions could not be applied: finding ids were not available");
    }
    violations.push(...overLimit(policy, counts));
  }

  const blocked = violations.length > 0 && policy.mode === "enforce";
  return { verdict: blocked ? "block" : "allow", violations, notes: dedupe(notes), mode: policy.mode };
}

function overLimit(policy: GatePolicy, counts: SeverityCounts): string[] {
  return GATED.flatMap((severity) => {
    const limit = policy.maxFindings[severity];
    if (limit === undefined || counts[severity] <= limit) return [];
    return [
      `${counts[severity]} ${severity} finding${counts[severity] === 1 ? "" : "s"} (allowed: ${limit})`,
    ];
  });
}

function activeExceptions(policy: GatePolicy, now: Date): CveException[] {
  return policy.exceptions.filter((exception) => isActive(exception, now));
}

function isActive(exception: CveException, now: Date): boolean {
  return new Date(exception.expiresAt).getTime() > now.getTime();
}

function dedupe(values: string[]): string[] {
  return [...new Set(values)];
}
