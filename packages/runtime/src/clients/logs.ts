import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import { CloudWatchLogsAdapter } from "@gantry/aws";
import type { Clock, LogsPort } from "@gantry/core";

/**
 * Loaded on first use (`lazyPort`): only a failed deployment reads the service's logs. The clock is
 * the one the handlers run on (the sandbox's is virtual): it only bounds how far a long log is skipped.
 */
export function buildLogsPort(clientConfig: CloudWatchLogsClientConfig, clock?: Clock): LogsPort {
  return new CloudWatchLogsAdapter(new CloudWatchLogsClient(clientConfig), clock);
}
