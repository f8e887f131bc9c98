import type { EventBridgeEvent } from "@gantry/events";
import type { OperationType, ServiceStatus } from "./apprunner-service.ts";

export const OPERATION_STATUS_CHANGE = "AppRunner Service Operation Status Change";
export const SERVICE_STATUS_CHANGE = "AppRunner Service Status Change";

export type Outcome = "succeeded" | "failed";

/**
 * `detail.operationStatus` per operation and outcome. The `*Failed` codes are AWS's documented
 * pattern (FACTS §1); the success codes other than `UpdateServiceCompletedSuccessfully` were seen
 * only in third-party rules (UNVERIFIED, FACTS §1).
 */
export const OPERATION_STATUS_CODES: Record<OperationType, Record<Outcome, string>> = {
  CREATE_SERVICE: { succeeded: "CreateServiceCompletedSuccessfully", failed: "CreateServiceFailed" },
  UPDATE_SERVICE: { succeeded: "UpdateServiceCompletedSuccessfully", failed: "UpdateServiceFailed" },
  START_DEPLOYMENT: { succeeded: "DeploymentCompletedSuccessfully", failed: "DeploymentFailed" },
  PAUSE_SERVICE: { succeeded: "PauseServiceCompletedSuccessfully", failed: "PauseServiceFailed" },
  RESUME_SERVICE: { succeeded: "ResumeServiceCompletedSuccessfully", failed: "ResumeServiceFailed" },
  DELETE_SERVICE: { succeeded: "DeleteServiceCompletedSuccessfully", failed: "DeleteServiceFailed" },
};

/**
 * Only the update message is AWS's text (the doc sample); the others follow its style. The
 * severity of failures is not documented (FACTS §1): `ERROR` is our choice.
 */
const MESSAGES: Record<OperationType, Record<Outcome, string>> = {
  CREATE_SERVICE: {
    succeeded: "Service creation completed successfully.",
    failed: "Service creation failed. For details, see service logs.",
  },
  UPDATE_SERVICE: {
    succeeded: "Service update completed successfully. New application and configuration is deployed.",
    failed: "Service update failed. For details, see service logs.",
  },
  START_DEPLOYMENT: {
    succeeded: "Deployment completed successfully. New application is deployed.",
    failed: "Deployment failed. For details, see service logs.",
  },
  PAUSE_SERVICE: { succeeded: "Service pause completed successfully.", failed: "Service pause failed." },
  RESUME_SERVICE: { succeeded: "Service resume completed successfully.", failed: "Service resume failed." },
  DELETE_SERVICE: {
    succeeded: "Service deletion completed successfully.",
    failed: "Service deletion failed.",
  },
};

export interface EventContext {
  accountId: string;
  region: string;
  time: Date;
  id: string;
}

export interface EventService {
  name: string;
  id: string;
  arn: string;
}

/**
 * `AppRunner Service Operation Status Change` in the v3 doc spelling (FACTS §1). Like AWS's, it
 * carries no operation id and no image (FACTS §0.7).
 */
export function operationStatusEvent(
  context: EventContext,
  service: EventService,
  type: OperationType,
  outcome: Outcome,
): EventBridgeEvent {
  return envelope(context, service, OPERATION_STATUS_CHANGE, {
    operationStatus: OPERATION_STATUS_CODES[type][outcome],
    serviceName: service.name,
    serviceId: service.id,
    message: MESSAGES[type][outcome],
    severity: outcome === "succeeded" ? "INFO" : "ERROR",
  });
}

/** `AppRunner Service Status Change`, v3 spelling, with AWS's message template (FACTS §1). */
export function serviceStatusEvent(
  context: EventContext,
  service: EventService,
  previous: ServiceStatus,
  current: ServiceStatus,
): EventBridgeEvent {
  const failed = current === "CREATE_FAILED" || current === "DELETE_FAILED";
  return envelope(context, service, SERVICE_STATUS_CHANGE, {
    previousServiceStatus: previous,
    currentServiceStatus: current,
    serviceName: service.name,
    serviceId: service.id,
    message: `Service status is set to ${current}.`,
    severity: failed ? "ERROR" : "INFO",
  });
}

function envelope(
  context: EventContext,
  service: EventService,
  detailType: string,
  detail: Record<string, unknown>,
): EventBridgeEvent {
  return {
    version: "0",
    id: context.id,
    "detail-type": detailType,
    source: "aws.apprunner",
    account: context.accountId,
    // EventBridge times are ISO-8601 to the second (FACTS §1).
    time: context.time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: context.region,
    resources: [service.arn],
    detail,
  };
}
