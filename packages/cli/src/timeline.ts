import type { TimelineEntry } from "@gantry/local";

const WIDTH = { source: 16, type: 10, service: 10 };

/** One readable line per timeline entry: time, who, what, for which service and digest, why. */
export function formatTimelineEntry(entry: TimelineEntry): string {
  const time = entry.at.toISOString().slice(11, 19);
  if (entry.event) {
    const detail = entry.event.detail as Record<string, unknown>;
    const what =
      (detail.operationStatus as string) ??
      (detail.currentServiceStatus ? `service ${detail.currentServiceStatus}` : undefined) ??
      [detail["action-type"], detail["scan-status"], detail["repository-name"], detail["image-tag"]]
        .filter(Boolean)
        .join(" ");
    const routed = entry.elsewhere
      ? `(${entry.event.account} ${entry.event.region}: not this sandbox's bus)`
      : entry.rules.length
        ? `→ ${entry.rules.join(", ")}`
        : "(no rule matched)";
    const late = entry.elsewhere ? "" : lateBy(entry);
    return `${time}  ${pad(entry.source, WIDTH.source)} ${pad("event", WIDTH.type)} ${entry.event["detail-type"]}: ${what} ${routed}${late}`;
  }
  const effect = entry.effect;
  const digest = effect.digest ? ` ${shortDigest(effect.digest)}` : "";
  const why = (effect.reasons ?? []).filter((reason) => reason !== effect.message);
  const reasons = why.length ? ` — ${why.join("; ")}` : "";
  const operation = effect.operationId ? ` [op ${effect.operationId.slice(0, 8)}]` : "";
  return `${time}  ${pad(entry.source, WIDTH.source)} ${pad(effect.type, WIDTH.type)} ${pad(effect.service ?? "-", WIDTH.service)}${digest} ${effect.message ?? ""}${operation}${reasons}`;
}

/** A replayed event older than the sandbox clock is delivered late; say when it happened. */
function lateBy(entry: { at: Date; event: { time?: string } }): string {
  const happened = Date.parse(entry.event.time ?? "");
  return entry.at.getTime() - happened >= 1000 ? ` (event time ${entry.event.time}: delivered late)` : "";
}

export function shortDigest(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}
