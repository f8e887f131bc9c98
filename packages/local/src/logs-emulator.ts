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

/**
 * The slice of CloudWatch Logs (awsJson1_1, `Logs_20140328.FilterLogEvents`) Gantry reads: the
 * deployment and application log groups App Runner writes for each service.
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
    const limit = Math.min(input.limit ?? 10_000, 10_000);
    const page = matching.slice(start, start + limit);
    return {
      events: page.map((event, index) => ({
        logStreamName: "events",
        timestamp: event.timestamp,
        ingestionTime: event.timestamp,
        message: event.message,
        eventId: String(start + index),
      })),
      searchedLogStreams: [],
      ...(start + limit < matching.length ? { nextToken: String(start + limit) } : {}),
    };
  }
}
