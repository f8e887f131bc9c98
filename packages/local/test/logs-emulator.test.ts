import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { appRunnerLogGroups, CloudWatchLogsAdapter } from "@gantry/aws";
import { diagnoseFailure, MAX_LOG_LINES } from "@gantry/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AwsEmulatorServer } from "../src/aws-emulator-server.ts";
import { LogsEmulator } from "../src/logs-emulator.ts";
import { VirtualClock } from "../src/virtual-clock.ts";

const SERVICE = { serviceName: "storefront", serviceId: "0123456789abcdef0123456789abcdef" };
const [SERVICE_GROUP = "", APPLICATION_GROUP = ""] = appRunnerLogGroups(
  SERVICE.serviceName,
  SERVICE.serviceId,
);

let clock: VirtualClock;
let logs: LogsEmulator;
let server: AwsEmulatorServer;
let client: CloudWatchLogsClient;

beforeEach(async () => {
  clock = new VirtualClock(new Date("2026-11-02T09:00:00Z"));
  logs = new LogsEmulator(clock);
  server = new AwsEmulatorServer({ others: [logs] });
  const { endpoint } = await server.start();
  client = new CloudWatchLogsClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-checked" },
    maxAttempts: 1,
  });
});

afterEach(async () => {
  client.destroy();
  await server.stop();
});

describe("LogsEmulator (FilterLogEvents)", () => {
  it("pages like CloudWatch Logs: at most 10,000 events and 1 MB per page", async () => {
    // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
    logs.write(
      APPLICATION_GROUP,
      Array.from({ length: 5 }, (_, index) => `${index}${"x".repeat(300_000)}`),
    );

    const first = await client.send(new FilterLogEventsCommand({ logGroupName: APPLICATION_GROUP }));
    const bytes = (first.events ?? []).reduce(
      (sum, event) => sum + Buffer.byteLength(event.message ?? ""),
      0,
    );

    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(first.events?.length).toBe(3);
    expect(first.nextToken).toBeDefined();
    const second = await client.send(
      new FilterLogEventsCommand({ logGroupName: APPLICATION_GROUP, nextToken: first.nextToken }),
    );
    expect(second.events?.map((event) => event.message?.[0])).toEqual(["3", "4"]);
    expect(second.nextToken).toBeUndefined();
  });

  it("the adapter reads the newest lines of a log longer than one page, through the real SDK", async () => {
    logs.write(SERVICE_GROUP, [
      "[AppRunner] Deployment with ID : 0 started. Triggering event : SERVICE_UPDATE",
    ]);
    await clock.advance(1_000);
    logs.write(
      APPLICATION_GROUP,
      Array.from({ length: 25_000 }, (_, index) => `GET /products/${index} 200`),
    );
    await clock.advance(1_000);
    logs.write(APPLICATION_GROUP, ["Error: connect ECONNREFUSED 10.0.4.2:5432"]);
    await clock.advance(1_000);
    logs.write(SERVICE_GROUP, ["[AppRunner] Health check failed on protocol `TCP` [Port: '8080']."]);

    const since = new Date("2026-11-02T09:00:00Z");
    const lines = await new CloudWatchLogsAdapter(client, clock).serviceLogs({ ...SERVICE, since });

    expect(lines).toHaveLength(MAX_LOG_LINES);
    expect(lines.slice(-2)).toEqual([
      "Error: connect ECONNREFUSED 10.0.4.2:5432",
      "[AppRunner] Health check failed on protocol `TCP` [Port: '8080'].",
    ]);
    expect(diagnoseFailure(lines).cause).toBe("dependency-unavailable");
    expect(logs.calls.filter((call) => call.op === "FilterLogEvents").length).toBeGreaterThan(2);
  });
});
