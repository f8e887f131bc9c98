import { InvokeCommand, LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";

/**
 * Loaded on first use (`lazyPort`): only the interactivity function hands presses to the worker.
 * `InvocationType: "Event"` queues the invocation and answers 202 without waiting for it to run
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), so the press is acknowledged to
 * Slack within its 3 seconds whatever the worker then waits on. The queued invocation gets
 * Lambda's asynchronous retries and on-failure destination
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
 */
export function buildSlackWorkerInvoker(clientConfig: LambdaClientConfig, functionName: string) {
  const lambda = new LambdaClient(clientConfig);
  return {
    async dispatch(job: unknown): Promise<void> {
      const answer = await lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: "Event",
          Payload: new TextEncoder().encode(JSON.stringify(job)),
        }),
      );
      if (answer.StatusCode !== 202) {
        throw new Error(`Lambda did not queue the Slack worker invocation (status ${answer.StatusCode})`);
      }
    },
  };
}
