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
  /**
   * Inspector's TOTAL, when the result came with one. More than the counts add up to means some
   * findings arrived without a severity (AWS's own sample event has TOTAL 158 for 130 counted).
   */
  reportedTotal?: number;
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

const DAY_MS = 24 * 60 * 60_000;

/** Findings the scan's TOTAL reports beyond its per-severity counts. */
export function unattributedFindings(scan: ScanEvidence): number {
  if (scan.reportedTotal === undefined) return 0;
  const counted = Object.values(scan.severityCounts).reduce((sum, count) => sum + count, 0);
  return Math.max(0, scan.reportedTotal - counted);
}

/**
 * Gated severities whose true count the scan leaves open: a severity with no count may hide any of
 * the unattributed findings, so it is unknown wherever they could exceed its limit. Never read as 0.
 */
export function uncertainSeverities(policy: GatePolicy, scan: ScanEvidence): GatedSeverity[] {
  const unattributed = unattributedFindings(scan);
  if (!scan.succeeded || unattributed === 0) return [];
  return GATED.filter((severity) => {
    const limit = policy.maxFindings[severity];
    return limit !== undefined && scan.severityCounts[severity] === 0 && unattributed > limit;
  });
}

/** Whole days since the scanner produced this result; undefined when the result has no time. */
export function scanAgeDays(scan: ScanEvidence, now: Date): number | undefined {
  if (!scan.scannedAt) return undefined;
  return Math.floor((now.getTime() - new Date(scan.scannedAt).getTime()) / DAY_MS);
}

/** The evidence is too old to deploy on, or its counts are incomplete: ask the scanner's API first. */
export function needsFreshEvidence(policy: GatePolicy, scan: ScanEvidence, now: Date): boolean {
  if (!scan.succeeded) return false;
  const age = scanAgeDays(scan, now);
  return (age !== undefined && age > policy.maxScanAgeDays) || uncertainSeverities(policy, scan).length > 0;
}

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

  const age = scanAgeDays(scan, now);
  if (!scan.succeeded) {
    violations.push(`scan ${scan.scanStatus}: no scan verdict, failing closed`);
  } else if (age !== undefined && age > policy.maxScanAgeDays) {
    violations.push(
      `scan is ${age} days old (policy allows ${policy.maxScanAgeDays}) and ECR has nothing newer: rescan the image, or approve it`,
    );
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
    const uncertain = uncertainSeverities(policy, scan);
    if (uncertain.length > 0) {
      violations.push(
        `${unattributedFindings(scan)} findings have no severity in the scan result (TOTAL ${scan.reportedTotal}): ${uncertain.join(", ")} count unknown, failing closed`,
      );
    }
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
