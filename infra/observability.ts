/**
 * What operators look at: one CloudWatch dashboard over the EMF metrics the runtime writes
 * (namespace `Gantry`, dimensions `service` = "gantry" and `handler` = the function's name, e.g.
 * `image-scan`), and alarms to the `Alarms` topic for what needs a person.
 *
 * Graphs use `SEARCH()`, so a handler that starts emitting a metric shows up by itself. Alarms
 * cannot: CloudWatch refuses SEARCH in an alarm, so they sum the per-handler metrics by name.
 */

import { deadLetters } from "./dead-letters";
import { type GantryFunction, gantryFunctions } from "./functions";
import { alarms } from "./notifications";

const NAMESPACE = "Gantry";
const SERVICE = "gantry";
/** Five minutes: the period of every graph and alarm (EMF metrics are per minute, SQS per five). */
const PERIOD = 300;
/** The `handler` dimension is the function's key (`gantryHandler({ name })` in the runtime). */
const HANDLERS = Object.keys(gantryFunctions) as GantryFunction[];

const region = aws.getRegionOutput().region;

// --- dashboard ----------------------------------------------------------------------------------

/** One metric summed across every handler that emits it; the label is the line's legend. */
const acrossHandlers = (metric: string, label: string, id: string) => [
  {
    id,
    label,
    expression: `SUM(SEARCH('{${NAMESPACE},handler,service} MetricName="${metric}"', 'Sum', ${PERIOD}))`,
  },
];

/** Percentiles cannot be added up across handlers: one line per handler. */
const perHandler = (metric: string, stat: string, id: string) => [
  {
    id,
    label: `${stat} \${PROP('Dim.handler')}`,
    expression: `SEARCH('{${NAMESPACE},handler,service} MetricName="${metric}"', '${stat}', ${PERIOD})`,
  },
];

type Line = unknown[];

const graph = (title: string, lines: Line[], extra: Record<string, unknown> = {}) => ({
  title,
  view: "timeSeries",
  stacked: false,
  period: PERIOD,
  metrics: lines,
  ...extra,
});

/** Two widgets per row, in the order given. */
const layout = (widgets: Record<string, unknown>[], awsRegion: string) =>
  widgets.map((properties, index) => ({
    type: "metric",
    x: (index % 2) * 12,
    y: Math.floor(index / 2) * 6,
    width: 12,
    height: 6,
    properties: { region: awsRegion, ...properties },
  }));

export const dashboard = new aws.cloudwatch.Dashboard("Dashboard", {
  dashboardName: `${$app.name}-${$app.stage}`,
  dashboardBody: $resolve([region, deadLetters.nodes.queue.name]).apply(([awsRegion, queueName]) =>
    JSON.stringify({
      widgets: layout(
        [
          graph("Deploys, blocks, rollbacks", [
            acrossHandlers("Effect_deploy", "deploys", "deploys"),
            acrossHandlers("Effect_block", "blocks", "blocks"),
            acrossHandlers("Effect_rollback", "rollbacks", "rollbacks"),
          ]),
          graph("Retries and give-ups", [
            acrossHandlers("Effect_retry", "retries scheduled", "retries"),
            acrossHandlers("Effect_giveup", "gave up", "giveups"),
          ]),
          graph("Recoveries", [
            acrossHandlers("Effect_rebuild", "rebuilt", "rebuilds"),
            acrossHandlers("Effect_recreate", "recreated", "recreates"),
            acrossHandlers("Effect_resume", "resumed", "resumes"),
          ]),
          graph(
            "Lead time, push to running (seconds)",
            [perHandler("LeadTimeSeconds", "p50", "p50"), perHandler("LeadTimeSeconds", "p90", "p90")],
            { yAxis: { left: { label: "seconds", showUnits: false, min: 0 } } },
          ),
          graph("Handler errors", [
            acrossHandlers("RetriableErrors", "retriable errors", "retriable"),
            acrossHandlers("HandlerFailures", "failures (to DeadLetters)", "failures"),
            acrossHandlers("EventsDropped", "events dropped", "dropped"),
          ]),
          graph(
            "Dead-letter queue depth",
            [
              [
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                queueName,
                { label: "messages" },
              ],
            ],
            { stat: "Maximum" },
          ),
          graph("Events handled, notifications lost", [
            acrossHandlers("EventsHandled", "events handled", "handled"),
            acrossHandlers("NotificationFailures", "notifications not published", "notificationFailures"),
          ]),
        ],
        awsRegion,
      ),
    }),
  ),
});

// --- alarms ---------------------------------------------------------------------------------------

/** One query per handler (`returnData: false`) and their sum; a handler with no data adds nothing. */
function sumOfHandlers(metric: string, handlers: readonly GantryFunction[]) {
  const ids = handlers.map((_, index) => `m${index}`);
  return [
    ...handlers.map((handler, index) => ({
      id: ids[index]!,
      returnData: false,
      metric: {
        namespace: NAMESPACE,
        metricName: metric,
        dimensions: { service: SERVICE, handler },
        stat: "Sum",
        period: PERIOD,
      },
    })),
    {
      id: "total",
      label: `${metric} (all handlers)`,
      expression: `SUM([${ids.join(", ")}])`,
      returnData: true,
    },
  ];
}

/**
 * Fires on one occurrence in five minutes. Missing data means "nothing happened": EMF metrics
 * exist only for periods in which something was counted.
 */
function countAlarm(
  id: string,
  suffix: string,
  description: string,
  metric: string,
  handlers: GantryFunction[],
) {
  return new aws.cloudwatch.MetricAlarm(id, {
    name: `${$app.name}-${$app.stage}-${suffix}`,
    alarmDescription: description,
    metricQueries: sumOfHandlers(metric, handlers),
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [alarms.arn],
    okActions: [alarms.arn],
  });
}

/** Only the reconciler looks for operations that run far too long. */
export const stuckOperationAlarm = new aws.cloudwatch.MetricAlarm("StuckOperationAlarm", {
  name: `${$app.name}-${$app.stage}-stuck-operation`,
  alarmDescription:
    "Gantry: an App Runner operation has been running far too long; see the stuck notification.",
  namespace: NAMESPACE,
  metricName: "Effect_stuck",
  dimensions: { service: SERVICE, handler: "reconcile" },
  statistic: "Sum",
  period: PERIOD,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: "GreaterThanOrEqualToThreshold",
  treatMissingData: "notBreaching",
  alarmActions: [alarms.arn],
  okActions: [alarms.arn],
});

export const rollbackAlarm = countAlarm(
  "RollbackAlarm",
  "rollbacks",
  "Gantry: a deploy was rolled back; the digest is quarantined until someone lifts it.",
  "Effect_rollback",
  HANDLERS,
);

export const giveUpAlarm = countAlarm(
  "GiveUpAlarm",
  "give-ups",
  "Gantry: retries are exhausted for a deploy or a recovery; a person has to decide.",
  "Effect_giveup",
  HANDLERS,
);

export const handlerFailuresAlarm = countAlarm(
  "HandlerFailuresAlarm",
  "handler-failures",
  "Gantry: a handler failed for good (bug or bad input); the event is in DeadLetters.",
  "HandlerFailures",
  HANDLERS,
);
