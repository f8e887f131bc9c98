import type { Clock } from "@gantry/core";
import { type AwsJsonHandler, type EmulatorCall, recordCall } from "./aws-emulator-server.ts";
import { AwsApiError } from "./aws-model.ts";

interface FilterLogEventsInput {
  logGroupName?: string;
  startTime?: number;
  endTime?: number;
  limit?: number;
  nextToken?: string;
}

/** https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html */
const MAX_PAGE_EVENTS = 10_000;
const MAX_PAGE_BYTES = 1024 * 1024;

/**
 * The slice of CloudWatch Logs (awsJson1_1, `Logs_20140328.FilterLogEvents`) Gantry reads: the
 * deployment and application log groups App Runner writes for each service. Like the real API it
 * returns events oldest first and pages by count and size, so reading only the first page of a
 * long log gives its oldest lines.
 */
export class LogsEmulator implements AwsJsonHandler {
  readonly targetPrefix = "Logs_20140328";
  readonly jsonVersion = "1.1";
  readonly calls: EmulatorCall[] = [];
  readonly #groups = new Map<string, { timestamp: number; message: string }[]>();

  constructor(private readonly clock: Clock) {}

  write(logGroupName: string, messages: readonly string[]): void {
    const events = this.#groups.get(logGroupName) ?? [];
    const timestamp = this.clock.now().getTime();
    events.push(...messages.map((message) => ({ timestamp, message })));
    this.#groups.set(logGroupName, events);
  }

  handle(operation: string, input: unknown): Promise<unknown> {
    return recordCall(this.calls, { op: operation, input, at: this.clock.now() }, async () => {
      if (operation !== "FilterLogEvents")
        throw new AwsApiError("UnknownOperationException", `Unknown operation ${operation}`);
      return this.#filter(input as FilterLogEventsInput);
    });
  }

  #filter(input: FilterLogEventsInput) {
    if (!input.logGroupName) throw new AwsApiError("InvalidParameterException", "logGroupName is required");
    const events = this.#groups.get(input.logGroupName);
    if (!events)
      throw new AwsApiError("ResourceNotFoundException", "The specified log group does not exist.");
    const matching = events.filter(
      (event) =>
        event.timestamp >= (input.startTime ?? 0) &&
        event.timestamp <= (input.endTime ?? Number.MAX_SAFE_INTEGER),
    );
    const start = Number(input.nextToken ?? 0);
    const limit = Math.min(input.limit ?? MAX_PAGE_EVENTS, MAX_PAGE_EVENTS);
    // A page holds at most 10,000 events and 1 MB; a following page needs the nextToken.
    let end = start;
    let bytes = 0;
    while (end < matching.length && end - start < limit) {
      bytes += Buffer.byteLength(matching[end]?.message ?? "");
      if (bytes > MAX_PAGE_BYTES && end > start) break;
      end++;
    }
    return {
      events: matching.slice(start, end).map((event, index) => ({
        logStreamName: "events",
        timestamp: event.timestamp,
        ingestionTime: event.timestamp,
        message: event.message,
        eventId: String(start + index),
      })),
      searchedLogStreams: [],
      ...(end < matching.length ? { nextToken: String(end) } : {}),
    };
  }
}
