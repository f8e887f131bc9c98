import {
  AccessDeniedException,
  CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import { MAX_LOG_LINES } from "@gantry/core";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { appRunnerLogGroups, CloudWatchLogsAdapter, MAX_FILTER_CALLS_PER_GROUP } from "../src/index.ts";

const logs = mockClient(CloudWatchLogsClient);
const SERVICE = { serviceName: "storefront", serviceId: "0123456789abcdef0123456789abcdef" };
const [SERVICE_GROUP, APPLICATION_GROUP] = appRunnerLogGroups(SERVICE.serviceName, SERVICE.serviceId);
const SINCE = new Date("2026-11-02T09:00:00Z");
const UNTIL = new Date("2026-11-02T09:10:00Z");
const clock = { now: () => UNTIL };

const notFound = () =>
  new ResourceNotFoundException({ message: "The specified log group does not exist.", $metadata: {} });

function events(from: number, to: number, at: (index: number) => number): FilteredLogEvent[] {
  return Array.from({ length: to - from }, (_, offset) => ({
    timestamp: at(from + offset),
    message: `line ${from + offset}\n`,
  }));
}

/**
 * A log group the way FilterLogEvents serves it: events within [startTime, endTime], oldest first,
 * at most `pageSize` per page, `nextToken` while more remain.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
 */
function serve(all: FilteredLogEvent[], pageSize = 10_000) {
  return (input: FilterLogEventsCommandInput) => {
    const matching = all.filter(
      ({ timestamp = 0 }) =>
        timestamp >= (input.startTime ?? 0) && timestamp <= (input.endTime ?? Number.MAX_SAFE_INTEGER),
    );
    const start = Number(input.nextToken ?? 0);
    const end = start + Math.min(pageSize, input.limit ?? pageSize);
    return {
      events: matching.slice(start, end),
      ...(end < matching.length ? { nextToken: String(end) } : {}),
    };
  };
}

function callsTo(logGroupName: string | undefined): FilterLogEventsCommandInput[] {
  return logs
    .commandCalls(FilterLogEventsCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.logGroupName === logGroupName);
}

beforeEach(() => {
  logs.reset();
});

describe("CloudWatchLogsAdapter", () => {
  it("reads both App Runner log groups from the deploy start to the failure", async () => {
    // https://docs.aws.amazon.com/apprunner/latest/dg/monitor-cwl.html
    expect([SERVICE_GROUP, APPLICATION_GROUP]).toEqual([
      "/aws/apprunner/storefront/0123456789abcdef0123456789abcdef/service",
      "/aws/apprunner/storefront/0123456789abcdef0123456789abcdef/application",
    ]);
    logs.on(FilterLogEventsCommand).resolves({ events: [] });

    await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
      until: new Date("2026-11-02T09:07:00Z"),
    });

    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: SERVICE_GROUP,
      startTime: SINCE.getTime(),
      endTime: Date.parse("2026-11-02T09:07:00Z"),
    });
    expect(logs).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: APPLICATION_GROUP,
      startTime: SINCE.getTime(),
      endTime: Date.parse("2026-11-02T09:07:00Z"),
    });
  });

  it("without an end time, asks for everything since the deploy start", async () => {
    logs.on(FilterLogEventsCommand).resolves({ events: [] });

    await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
    });

    for (const input of [...callsTo(SERVICE_GROUP), ...callsTo(APPLICATION_GROUP)]) {
      expect(input).toEqual({ logGroupName: input.logGroupName, startTime: SINCE.getTime() });
    }
    expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(2);
  });

  it("follows nextToken through every page: the newest lines win, not the first page's oldest", async () => {
    const all = events(0, 450, (index) => SINCE.getTime() + index * 1000);
    logs.on(FilterLogEventsCommand, { logGroupName: SERVICE_GROUP }).callsFake(serve(all, 150));
    logs.on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP }).rejects(notFound());

    const lines = await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
    });

    expect(callsTo(SERVICE_GROUP).map((input) => input.nextToken)).toEqual([undefined, "150", "300"]);
    expect(lines).toHaveLength(MAX_LOG_LINES);
    expect(lines.at(0)).toBe(`line ${450 - MAX_LOG_LINES}`);
    expect(lines.at(-1)).toBe("line 449");
  });

  it("merges the service and application logs by time", async () => {
    const at = (seconds: number) => SINCE.getTime() + seconds * 1000;
    logs.on(FilterLogEventsCommand, { logGroupName: SERVICE_GROUP }).resolves({
      events: [
        { timestamp: at(1), message: "[AppRunner] Deployment started." },
        { timestamp: at(9), message: "[AppRunner] Health check failed on protocol `TCP` [Port: '8080']." },
      ],
    });
    logs.on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP }).resolves({
      events: [{ timestamp: at(5), message: "Server listening on port 3000" }],
    });

    const lines = await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
    });

    expect(lines).toEqual([
      "[AppRunner] Deployment started.",
      "Server listening on port 3000",
      "[AppRunner] Health check failed on protocol `TCP` [Port: '8080'].",
    ]);
  });

  it("a chatty app (more pages than the budget): skips ahead and still ends at the newest line, in bounded calls", async () => {
    // One line per 10 ms for the 10 minutes of the deploy: 60,000 lines, 60 pages of 1,000.
    const all = events(0, 60_000, (index) => SINCE.getTime() + index * 10);
    logs.on(FilterLogEventsCommand, { logGroupName: SERVICE_GROUP }).resolves({ events: [] });
    logs.on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP }).callsFake(serve(all, 1_000));

    const lines = await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
    });

    expect(callsTo(APPLICATION_GROUP).length).toBeLessThanOrEqual(MAX_FILTER_CALLS_PER_GROUP);
    expect(lines).toHaveLength(MAX_LOG_LINES);
    expect(lines.at(-1)).toBe("line 59999");
    expect(lines.at(-MAX_LOG_LINES)).toBe(`line ${60_000 - MAX_LOG_LINES}`);
  });

  it("a log group App Runner has not created yet is no error; anything else is thrown", async () => {
    logs.on(FilterLogEventsCommand, { logGroupName: SERVICE_GROUP }).resolves({
      events: [{ timestamp: SINCE.getTime(), message: "[AppRunner] Pulling image" }],
    });
    logs.on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP }).rejects(notFound());
    const adapter = new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock);

    await expect(adapter.serviceLogs({ ...SERVICE, since: SINCE })).resolves.toEqual([
      "[AppRunner] Pulling image",
    ]);

    logs
      .on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP })
      .rejects(new AccessDeniedException({ message: "not authorized", $metadata: {} }));
    await expect(adapter.serviceLogs({ ...SERVICE, since: SINCE })).rejects.toThrow("not authorized");
  });

  it("returns the lines redacted, a private key spread over several events included", async () => {
    logs.on(FilterLogEventsCommand, { logGroupName: SERVICE_GROUP }).resolves({ events: [] });
    logs.on(FilterLogEventsCommand, { logGroupName: APPLICATION_GROUP }).resolves({
      events: [
        '{"level":"info","password":"hunter2"}',
        "-----BEGIN PRIVATE KEY-----",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
        "-----END PRIVATE KEY-----",
      ].map((message, index) => ({ timestamp: SINCE.getTime() + index, message })),
    });

    const lines = await new CloudWatchLogsAdapter(new CloudWatchLogsClient({}), clock).serviceLogs({
      ...SERVICE,
      since: SINCE,
    });

    expect(lines.join("\n")).not.toMatch(/hunter2|MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7/);
    expect(lines).toHaveLength(4);
  });
});
