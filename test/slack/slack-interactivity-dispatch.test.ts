/**
 * How a press reaches the worker in Lambda: the interactivity function, built as in production
 * (`buildSlackContext` with `GANTRY_SLACK_WORKER_FUNCTION`), invokes the worker with
 * `InvocationType: "Event"` (queued, not awaited) and answers 200; a press it cannot hand off is
 * answered with an error and nothing is applied. The Lambda API is mocked; the signature check
 * and its nonce store run for real against the sandbox's DynamoDB Local tables.
 */
import { createHash } from "node:crypto";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { ecrImagePushEvent, ecrImageScanEvent } from "@gantry/events";
import { localCredentials, SANDBOX_APPROVER, Sandbox } from "@gantry/local";
import {
  buildAppContext,
  buildSlackContext,
  createSlackHandlers,
  type FunctionUrlResponse,
  localLambdaContext,
  parseSlackConfig,
} from "@gantry/runtime";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";

const WORKER = "gantry-test-slack-worker";
const digest = `sha256:${createHash("sha256").update("payments dispatch").digest("hex")}`;
const lambda = mockClient(LambdaClient);

let sandbox: Sandbox;
let arn: string;
let interactivity: (event: unknown) => Promise<FunctionUrlResponse>;

beforeAll(async () => {
  sandbox = await Sandbox.start({ dynamodbEndpoint: inject("dynamodbEndpoint") });
  arn = sandbox.createService({ name: "payments", image: "api:prod" });
  const common = {
    account: sandbox.accountId,
    region: sandbox.region,
    repositoryName: "api",
    digest,
    time: sandbox.clock.now(),
  };
  sandbox.publish(ecrImagePushEvent({ ...common, tag: "prod" }));
  sandbox.publish(ecrImageScanEvent({ ...common, tags: ["prod"], severityCounts: { CRITICAL: 1 } }));
  await sandbox.settle();

  const standIn = sandbox.slack!.standIn;
  const config = parseSlackConfig(
    { GANTRY_SLACK_APPROVERS: SANDBOX_APPROVER.id, GANTRY_SLACK_WORKER_FUNCTION: WORKER },
    (name) => (name === "SlackSigningSecret" ? standIn.signingSecret : undefined),
  );
  const app = buildAppContext(sandbox.runtime, sandbox.config, {
    clock: sandbox.clock,
    credentials: localCredentials,
  });
  const handlers = createSlackHandlers(() =>
    buildSlackContext(app, sandbox.runtime, config, { credentials: localCredentials }),
  );
  interactivity = async (event) =>
    (await handlers.interactivity(
      event,
      localLambdaContext("slack-interactivity") as never,
    )) as FunctionUrlResponse;
}, 60_000);
afterAll(() => sandbox.stop());
afterEach(() => lambda.reset());

function signedPress() {
  const slack = sandbox.slack!;
  const request = slack.standIn.buttonPress({
    message: slack.headline("deploys", "payments")!,
    actionId: "gantry.approve-once",
    user: SANDBOX_APPROVER,
  });
  return {
    version: "2.0",
    headers: request.headers,
    body: request.body,
    isBase64Encoded: false,
    requestContext: { http: { method: "POST" } },
  };
}

describe("the interactivity function in Lambda", () => {
  it("queues the press for the worker (InvocationType Event) and answers 200; nothing is applied by the ack", async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const response = await interactivity(signedPress());
    expect(response.statusCode).toBe(200);

    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: WORKER, InvocationType: "Event" });
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toMatchObject({
      kind: "apply",
      action: "approve-once",
      target: { serviceArn: arn, digest },
      user: SANDBOX_APPROVER.id,
      actor: "avery (Slack U0APPROVER)",
      responseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/actions\//),
    });
    expect((await sandbox.ledger.getRelease(arn, digest))?.state).toBe("blocked");
  });

  it("a press it cannot hand to the worker is answered with an error (Slack shows it), and nothing changes", async () => {
    lambda
      .on(InvokeCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
    const response = await interactivity(signedPress());
    expect(response.statusCode).toBe(503);
    expect((await sandbox.ledger.getRelease(arn, digest))?.state).toBe("blocked");
  });
});
