import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import { CloudWatchLogsAdapter } from "@gantry/aws";
import type { LogsPort } from "@gantry/core";

/** Loaded on first use (`lazyPort`): only a failed deployment reads the service's logs. */
export function buildLogsPort(clientConfig: CloudWatchLogsClientConfig): LogsPort {
  return new CloudWatchLogsAdapter(new CloudWatchLogsClient(clientConfig));
}
