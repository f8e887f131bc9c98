import {
  type CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
} from "@aws-sdk/client-cloudwatch-logs";
import { boundedTail, type Clock, type LogsPort, MAX_LOG_LINES, systemClock } from "@gantry/core";

/**
 * App Runner writes two log groups per service: `service` (its own deployment and lifecycle events)
 * and `application` (the app's stdout/stderr, one stream per instance).
 * https://docs.aws.amazon.com/apprunner/latest/dg/monitor-cwl.html
 */
export function appRunnerLogGroups(serviceName: string, serviceId: string): string[] {
  return ["service", "application"].map((stream) => `/aws/apprunner/${serviceName}/${serviceId}/${stream}`);
}

/** FilterLogEvents pages one pass may read (each up to 10,000 events or 1 MB). */
const MAX_PAGES_PER_PASS = 5;
/** Passes per log group: the first from `since`, the others skipping ahead towards `until`. */
const MAX_PASSES = 3;
export const MAX_FILTER_CALLS_PER_GROUP = MAX_PAGES_PER_PASS * MAX_PASSES;

interface LogEvent {
  timestamp: number;
  message: string;
}

/**
 * The tail of a service's logs for a failed deployment: the NEWEST lines between the deploy start
 * and its end, bounded in lines and bytes, redacted.
 *
 * FilterLogEvents returns events oldest first and pages with `nextToken` (pages may be partly full
 * or empty while more remain); only the absence of `nextToken` ends the results.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 * So the adapter follows the pages, keeping only the newest MAX_LOG_LINES. A log too long to page
 * through within the budget (a chatty app) is not read from the start to the end: each further pass
 * skips ahead to the last quarter of the time not yet read, so the lines kept are those nearest the
 * failure, within MAX_FILTER_CALLS_PER_GROUP calls per group.
 *
 * Without `until` no endTime is sent (the clock only says how far to skip ahead), so a clock behind
 * the log's own timestamps, like the sandbox's virtual one, cannot hide the newest lines.
 */
export class CloudWatchLogsAdapter implements LogsPort {
  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly clock: Clock = systemClock,
  ) {}

  async serviceLogs(input: {
    serviceName: string;
    serviceId: string;
    since: Date;
    until?: Date;
  }): Promise<string[]> {
    const start = input.since.getTime();
    const end = input.until?.getTime();
    const events: LogEvent[] = [];
    for (const logGroupName of appRunnerLogGroups(input.serviceName, input.serviceId)) {
      try {
        events.push(...(await this.#tail(logGroupName, start, end)));
      } catch (error) {
        // A service that never started has no application log group yet: not an error here.
        if ((error as Error).name !== "ResourceNotFoundException") throw error;
      }
    }
    // Stable sort: at the same millisecond, App Runner's service lines stay before the app's.
    events.sort((a, b) => a.timestamp - b.timestamp);
    return boundedTail(events.map((event) => event.message));
  }

  async #tail(logGroupName: string, start: number, end: number | undefined): Promise<LogEvent[]> {
    let kept: LogEvent[] = [];
    let from = start;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const scan = await this.#scan(logGroupName, from, end);
      kept = newest([...kept, ...scan.events]);
      if (scan.exhausted) return kept;
      // More than the budget remains after what was read: jump to the last quarter of it (empty
      // pages with a nextToken say nothing of progress, so then of the whole range of this pass).
      const reached = scan.lastTimestamp ?? from;
      const horizon = end ?? Math.max(this.clock.now().getTime(), reached);
      from = Math.max(reached + 1, horizon - Math.floor((horizon - reached) / 4));
      if (from > horizon) return kept;
    }
    return kept;
  }

  /** Up to MAX_PAGES_PER_PASS pages from `from`, keeping the newest MAX_LOG_LINES events. */
  async #scan(logGroupName: string, from: number, end: number | undefined) {
    let events: LogEvent[] = [];
    let lastTimestamp: number | undefined;
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_PAGES_PER_PASS; page++) {
      const answer: FilterLogEventsCommandOutput = await this.client.send(
        new FilterLogEventsCommand({
          logGroupName,
          startTime: from,
          ...(end === undefined ? {} : { endTime: end }),
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const received = (answer.events ?? []).map((event) => ({
        timestamp: event.timestamp ?? 0,
        message: (event.message ?? "").trimEnd(),
      }));
      events = newest([...events, ...received]);
      lastTimestamp = received.at(-1)?.timestamp ?? lastTimestamp;
      nextToken = answer.nextToken;
      if (!nextToken) return { events, exhausted: true, lastTimestamp };
    }
    return { events, exhausted: false, lastTimestamp };
  }
}

function newest(events: LogEvent[]): LogEvent[] {
  return events.length > MAX_LOG_LINES ? events.slice(-MAX_LOG_LINES) : events;
}
