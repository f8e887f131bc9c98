import "vitest";
import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../../packages/local/src/dynamodb-local.ts";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

/**
 * One DynamoDB Local for the whole run (start-up is ~2 s of JVM); each test file creates its own
 * uniquely named tables, so files stay independent. Stopped by PID in teardown: no leftovers.
 */
export default async function setup(project: TestProject) {
  const dynamodb = await startDynamoDbLocal();
  project.provide("dynamodbEndpoint", dynamodb.endpoint);
  return async () => {
    await dynamodb.stop();
  };
}
