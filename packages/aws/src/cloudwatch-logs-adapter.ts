import { type CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { boundedTail, type LogsPort, MAX_LOG_LINES } from "@gantry/core";

/** App Runner writes `service` (deployment events) and `application` (stdout/stderr) log groups. */
export function appRunnerLogGroups(serviceName: string, serviceId: string): string[] {
  return ["service", "application"].map((stream) => `/aws/apprunner/${serviceName}/${serviceId}/${stream}`);
}

/** The tail of a service's logs since a deploy started: bounded in lines and bytes, redacted. */
export class CloudWatchLogsAdapter implements LogsPort {
  constructor(private readonly client: CloudWatchLogsClient) {}

  async serviceLogs(input: { serviceName: string; serviceId: string; since: Date }): Promise<string[]> {
    const events: { timestamp: number; message: string }[] = [];
    for (const logGroupName of appRunnerLogGroups(input.serviceName, input.serviceId)) {
      try {
        const page = await this.client.send(
          new FilterLogEventsCommand({
            logGroupName,
            startTime: input.since.getTime(),
            limit: MAX_LOG_LINES,
          }),
        );
        for (const event of page.events ?? []) {
          events.push({ timestamp: event.timestamp ?? 0, message: (event.message ?? "").trimEnd() });
        }
      } catch (error) {
        // A service that never started has no application log group yet: not an error here.
        if ((error as Error).name !== "ResourceNotFoundException") throw error;
      }
    }
    events.sort((a, b) => a.timestamp - b.timestamp);
    return boundedTail(events.map((event) => event.message));
  }
}
