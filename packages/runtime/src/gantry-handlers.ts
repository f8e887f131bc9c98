import { MetricUnit } from "@aws-lambda-powertools/metrics";
import {
  type Effect,
  onAppRunnerEvent,
  onImagePushed,
  onImageScanned,
  onRetryDue,
  reconcile,
  recordPauseCall,
  toNotification,
} from "@gantry/core";
import { EventContractError, parseAwsEvent, parseEcrImagePushEvent, parseRetryJob } from "@gantry/events";
import type { AppContext } from "./composition-root.ts";
import { gantryHandler } from "./handler.ts";
import { logger, metrics } from "./observability.ts";
import { reconcileBudget } from "./reconcile-budget.ts";

type ContextProvider = () => AppContext;

/**
 * Publishes what a use case did. The decision is already committed to the ledger; a notification
 * that cannot be published is logged and counted (the journal keeps the fact), never retried by
 * re-running a decision that would not run twice anyway.
 */
async function announce(context: AppContext, functionName: string, effects: Effect[]): Promise<Effect[]> {
  context.observe?.(functionName, effects);
  for (const effect of effects) {
    metrics.addMetric(`Effect_${effect.type}`, MetricUnit.Count, 1);
    if (typeof effect.leadTimeSeconds === "number") {
      // Push → running: the number a platform team watches (dashboard "lead time").
      metrics.addMetric("LeadTimeSeconds", MetricUnit.Seconds, effect.leadTimeSeconds);
    }
    const notification = toNotification(effect, context.deps.clock.now());
    if (!notification) continue;
    try {
      await context.notifier.publish(notification);
    } catch (error) {
      metrics.addMetric("NotificationFailures", MetricUnit.Count, 1);
      logger.error("notification not published", {
        kind: notification.kind,
        error: (error as Error).message,
      });
    }
  }
  return effects;
}

function parseImageScan(raw: unknown) {
  const event = parseAwsEvent(raw);
  if (event.kind !== "image-scan-completed") {
    throw new EventContractError({
      field: "detail-type",
      reason: `expected an image scan event, got ${event.kind}`,
    });
  }
  return event;
}

function parseAppRunnerEvent(raw: unknown) {
  const event = parseAwsEvent(raw);
  if (
    event.kind !== "apprunner-operation-status-changed" &&
    event.kind !== "apprunner-service-status-changed" &&
    event.kind !== "apprunner-pause-called"
  ) {
    throw new EventContractError({
      field: "detail-type",
      reason: `expected an App Runner event, got ${event.kind}`,
    });
  }
  return event;
}

/** The event-driven functions over one context, built when the handlers are created (cold start). */
export function createGantryHandlers(provide: ContextProvider) {
  const idempotency = () => ({ persistenceStore: provide().idempotencyStore });
  return {
    imagePush: gantryHandler({
      name: "image-push",
      parse: parseEcrImagePushEvent,
      idempotency: idempotency(),
      handle: async (event) => announce(provide(), "image-push", await onImagePushed(provide().deps, event)),
    }),
    imageScan: gantryHandler({
      name: "image-scan",
      parse: parseImageScan,
      idempotency: idempotency(),
      handle: async (event) => announce(provide(), "image-scan", await onImageScanned(provide().deps, event)),
    }),
    appRunnerEvent: gantryHandler({
      name: "apprunner-event",
      parse: parseAppRunnerEvent,
      idempotency: idempotency(),
      handle: async (event) =>
        announce(
          provide(),
          "apprunner-event",
          event.kind === "apprunner-pause-called"
            ? await recordPauseCall(provide().deps, event)
            : await onAppRunnerEvent(provide().deps, event),
        ),
    }),
    retry: gantryHandler({
      name: "retry",
      parse: parseRetryJob,
      // Business idempotency: a job for an attempt that already started is a no-op (onRetryDue).
      idempotency: false,
      handle: async (job) => announce(provide(), "retry", await onRetryDue(provide().deps, job)),
    }),
    reconcile: gantryHandler({
      name: "reconcile",
      parse: (raw: unknown) => raw,
      idempotency: false,
      // A budget from the Lambda's remaining time: at fleet scale a run continues where the last stopped.
      handle: async (_event, { lambdaContext }) => {
        const context = provide();
        const budget = reconcileBudget(context.appRunnerUsage, () =>
          lambdaContext.getRemainingTimeInMillis(),
        );
        return announce(context, "reconcile", await reconcile(context.deps, budget));
      },
    }),
  };
}
