import { randomUUID } from "node:crypto";
import { type CompiledSnsFilterPolicy, compileSnsFilterPolicy } from "@gantry/events";
import type { SnsMessage } from "./local-sns.ts";
import type { TimerClock } from "./virtual-clock.ts";

export type SnsLambdaTarget = (event: SnsLambdaEvent) => Promise<unknown>;

/** The event Lambda receives from an SNS subscription (one record per invocation). */
export interface SnsLambdaEvent {
  Records: {
    EventSource: "aws:sns";
    EventVersion: "1.0";
    EventSubscriptionArn: string;
    Sns: {
      Type: "Notification";
      MessageId: string;
      TopicArn: string;
      Subject: string | null;
      Message: string;
      Timestamp: string;
      MessageAttributes: Record<string, { Type: string; Value: string }>;
    };
  }[];
}

/**
 * What Lambda sends to an asynchronous function's on-failure destination once its retries are
 * spent (an "invocation record"): the original event is `requestPayload`, which is what
 * `gantry notifications replay` reads back.
 */
export interface InvocationRecord {
  version: "1.0";
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: "RetriesExhausted";
    approximateInvokeCount: number;
  };
  requestPayload: SnsLambdaEvent;
  responseContext: { statusCode: 200; executedVersion: "$LATEST"; functionError: "Unhandled" };
  responsePayload: { errorType: string; errorMessage: string };
}

export interface SubscriptionDelivery {
  messageId: string;
  attempt: number;
  outcome: "filtered" | "ok" | "error";
  error?: string;
}

/** Lambda's asynchronous retries: twice, after about 1 and 2 minutes (FACTS §6). */
const RETRY_DELAYS_MS = [60_000, 120_000];

/**
 * A Lambda function subscribed to the local SNS topic: the subscription's filter policy with SNS's
 * semantics, then an asynchronous invocation on the sandbox clock with Lambda's retries, then the
 * on-failure destination (`deadLetters`), as in production.
 */
export class LocalSnsLambdaSubscription {
  readonly deliveries: SubscriptionDelivery[] = [];
  readonly deadLetters: InvocationRecord[] = [];
  readonly subscriptionArn: string;
  readonly #policy: CompiledSnsFilterPolicy | undefined;

  constructor(
    readonly name: string,
    readonly filterPolicy: Record<string, unknown> | undefined,
    private readonly target: SnsLambdaTarget,
    private readonly clock: TimerClock,
    private readonly functionArn = `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  ) {
    this.#policy = filterPolicy ? compileSnsFilterPolicy(filterPolicy) : undefined;
    this.subscriptionArn = `arn:aws:sns:us-east-1:000000000000:gantry-notifications:${randomUUID()}`;
  }

  /** Called for every message published to the topic. */
  deliver(message: SnsMessage): void {
    if (this.#policy && !this.#policy.matches(message.attributes)) {
      this.deliveries.push({ messageId: message.messageId, attempt: 0, outcome: "filtered" });
      return;
    }
    this.#invoke(snsLambdaEvent(message, this.subscriptionArn, this.clock.now()), 1, 0);
  }

  #invoke(event: SnsLambdaEvent, attempt: number, delayMs: number): void {
    const messageId = event.Records[0]?.Sns.MessageId ?? "";
    this.clock.schedule(
      delayMs,
      async () => {
        try {
          await this.target(event);
          this.deliveries.push({ messageId, attempt, outcome: "ok" });
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.deliveries.push({
            messageId,
            attempt,
            outcome: "error",
            error: `${failure.name}: ${failure.message}`,
          });
          const retry = RETRY_DELAYS_MS[attempt - 1];
          if (retry !== undefined) this.#invoke(event, attempt + 1, retry);
          else this.deadLetters.push(this.#record(event, attempt, failure));
        }
      },
      `deliver SNS ${messageId} → ${this.name} (attempt ${attempt})`,
    );
  }

  #record(event: SnsLambdaEvent, attempts: number, error: Error): InvocationRecord {
    return {
      version: "1.0",
      timestamp: this.clock.now().toISOString(),
      requestContext: {
        requestId: randomUUID(),
        functionArn: `${this.functionArn}:$LATEST`,
        condition: "RetriesExhausted",
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: error.name, errorMessage: error.message },
    };
  }
}

export function snsLambdaEvent(message: SnsMessage, subscriptionArn: string, at: Date): SnsLambdaEvent {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: "Notification",
          MessageId: message.messageId,
          TopicArn: message.topicArn,
          Subject: message.subject ?? null,
          Message: message.message,
          Timestamp: at.toISOString(),
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, { dataType, value }]) => [
              name,
              { Type: dataType, Value: value },
            ]),
          ),
        },
      },
    ],
  };
}
