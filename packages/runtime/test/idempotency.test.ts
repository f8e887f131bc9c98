import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { IdempotencyAlreadyInProgressError } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  type PutItemCommandInput,
  ScanCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { gantryHandler, type HandlerIdempotency, localLambdaContext } from "../src/handler.ts";

const EVENT = {
  version: "0",
  id: "a4f1c3e2-6b0d-4f47-9a39-2d7f8e5b1c00",
  "detail-type": "AppRunner Service Operation Status Change",
  source: "aws.apprunner",
  account: "123456789012",
  time: "2026-03-01T10:00:00Z",
  region: "us-east-1",
  resources: ["arn:aws:apprunner:us-east-1:123456789012:service/checkout/8fe1e10304f84fd2b0df550fe98a71fa"],
  detail: { operationStatus: "UpdateServiceCompletedSuccessfully", serviceName: "checkout" },
};

interface Outcome {
  service: string;
  status: string;
}

function parseOperation(raw: unknown): Outcome {
  const event = raw as typeof EVENT;
  return { service: event.detail.serviceName, status: event.detail.operationStatus };
}

let output: string[] = [];

beforeEach(() => {
  output = [];
  const capture = (chunk: string | Uint8Array) => {
    output.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  };
  vi.spyOn(process.stdout, "write").mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(process.stderr, "write").mockImplementation(capture as typeof process.stderr.write);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Sum of one metric across the EMF blobs Powertools wrote. */
function metricTotal(name: string): number {
  return output
    .join("")
    .split("\n")
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .reduce((sum, blob) => sum + (typeof blob[name] === "number" ? (blob[name] as number) : 0), 0);
}

function operationHandler(
  name: string,
  idempotency: HandlerIdempotency,
  handle: (event: Outcome) => Promise<Outcome & { recordedAt: string }>,
) {
  return gantryHandler({ name, parse: parseOperation, handle: (event) => handle(event), idempotency });
}

const recorded = (event: Outcome) => ({ ...event, recordedAt: "2026-03-01T10:00:01Z" });

// ---------------------------------------------------------------------------------------------
// The DynamoDB client mocked with aws-sdk-client-mock: each test scripts what DynamoDB answers.
// ---------------------------------------------------------------------------------------------

describe("idempotency with a mocked DynamoDB client", () => {
  // Mock this one instance, not the class: the DynamoDB Local suite below uses real clients.
  const client = new DynamoDBClient({ region: "us-east-1" });
  const ddb = mockClient(client);
  const store = () =>
    new DynamoDBPersistenceLayer({ tableName: "gantry-test-idempotency", awsSdkV3Client: client });

  beforeEach(() => {
    ddb.reset();
  });

  afterAll(() => {
    ddb.restore();
  });

  it("runs handle once for the same event delivered twice and replays the stored result", async () => {
    // DynamoDB's answer to the second conditional put: the record the first invocation completed.
    ddb
      .on(PutItemCommand)
      .resolvesOnce({})
      .callsFakeOnce(() => {
        throw new ConditionalCheckFailedException({
          message: "The conditional request failed",
          $metadata: { httpStatusCode: 400 },
          Item: completedRecord(),
        });
      });
    ddb.on(UpdateItemCommand).resolves({});
    const handle = vi.fn(async (event: Outcome) => recorded(event));
    const handler = operationHandler("apprunner-event", { persistenceStore: store() }, handle);

    const first = await handler(EVENT, localLambdaContext("apprunner-event"));
    const second = await handler(EVENT, localLambdaContext("apprunner-event"));

    expect(handle).toHaveBeenCalledOnce();
    expect(first).toEqual({
      service: "checkout",
      status: "UpdateServiceCompletedSuccessfully",
      recordedAt: "2026-03-01T10:00:01Z",
    });
    expect(second).toEqual(first);
    expect(ddb).toHaveReceivedCommandTimes(PutItemCommand, 2);
    expect(ddb).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(metricTotal("DuplicateEvents")).toBe(1);
    expect(metricTotal("EventsHandled")).toBe(1);

    /** What DynamoDB holds after the first invocation: its put, updated by its UpdateItem. */
    function completedRecord() {
      const put = ddb.commandCalls(PutItemCommand)[0]?.args[0].input as PutItemCommandInput;
      const update = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input as UpdateItemCommandInput;
      const values = update.ExpressionAttributeValues ?? {};
      return {
        ...put.Item,
        status: values[":status"] as AttributeValue,
        expiration: values[":expiry"] as AttributeValue,
        data: values[":response_data"] as AttributeValue,
      };
    }
  });

  it("keys records by handler name and the EventBridge id, and stores the result as COMPLETED", async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const handler = operationHandler("apprunner-event", { persistenceStore: store() }, async (e) =>
      recorded(e),
    );

    await handler(EVENT, localLambdaContext("apprunner-event"));
    await handler({ ...EVENT, id: "another-event-id" }, localLambdaContext("apprunner-event"));

    // Powertools' key: `<prefix>#<base64 md5 of the JSON of the selected value>`, here the event id.
    const keyOf = (id: string) =>
      `apprunner-event#${createHash("md5").update(JSON.stringify(id)).digest("base64")}`;
    const keys = ddb.commandCalls(PutItemCommand).map((call) => call.args[0].input.Item?.id?.S);
    expect(keys).toEqual([keyOf(EVENT.id), keyOf("another-event-id")]);
    expect(ddb).toHaveReceivedCommandWith(UpdateItemCommand, {
      TableName: "gantry-test-idempotency",
      Key: { id: { S: keys[0] as string } },
    });
    const update = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(update?.ExpressionAttributeValues?.[":status"]).toEqual({ S: "COMPLETED" });
    expect(update?.ExpressionAttributeValues?.[":response_data"]).toEqual({
      M: {
        service: { S: "checkout" },
        status: { S: "UpdateServiceCompletedSuccessfully" },
        recordedAt: { S: "2026-03-01T10:00:01Z" },
      },
    });
  });

  it("rejects a concurrent duplicate as retriable without releasing the first invocation's lock", async () => {
    ddb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => {
      throw new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: { httpStatusCode: 400 },
        Item: {
          id: input.Item?.id as AttributeValue,
          status: { S: "INPROGRESS" },
          expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) },
          in_progress_expiration: { N: String(Date.now() + 60_000) },
        },
      });
    });
    const handle = vi.fn(async (event: Outcome) => recorded(event));
    const handler = operationHandler("apprunner-event", { persistenceStore: store() }, handle);

    await expect(handler(EVENT, localLambdaContext("apprunner-event"))).rejects.toBeInstanceOf(
      IdempotencyAlreadyInProgressError,
    );

    expect(handle).not.toHaveBeenCalled();
    // powertools-lambda-typescript#5675: the stock middleware deletes the other invocation's record here.
    expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(metricTotal("RetriableErrors")).toBe(1);
  });

  it("releases its own record when handle fails, so the platform's retry runs again", async () => {
    ddb.on(PutItemCommand).resolves({});
    ddb.on(DeleteItemCommand).resolves({});
    const throttle = new ProvisionedThroughputExceededException({ message: "capacity", $metadata: {} });
    const handler = operationHandler("apprunner-event", { persistenceStore: store() }, async () => {
      throw throttle;
    });

    await expect(handler(EVENT, localLambdaContext("apprunner-event"))).rejects.toBe(throttle);

    const key = ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item?.id as AttributeValue;
    expect(key).toHaveProperty("S", expect.stringMatching(/^apprunner-event#/));
    expect(ddb).toHaveReceivedCommandOnce(DeleteItemCommand);
    expect(ddb).toHaveReceivedCommandWith(DeleteItemCommand, { Key: { id: key } });
    expect(ddb).not.toHaveReceivedCommand(UpdateItemCommand);
  });

  it("classifies a throttled idempotency store as retriable", async () => {
    ddb
      .on(PutItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: "capacity", $metadata: {} }));
    const handle = vi.fn(async (event: Outcome) => recorded(event));
    const handler = operationHandler("apprunner-event", { persistenceStore: store() }, handle);

    await expect(handler(EVENT, localLambdaContext("apprunner-event"))).rejects.toMatchObject({
      name: "IdempotencyPersistenceLayerError",
    });

    expect(handle).not.toHaveBeenCalled();
    expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
    expect(metricTotal("RetriableErrors")).toBe(1);
  });

  it("leaves events without the key to parse, which drops them, without touching DynamoDB", async () => {
    const handler = gantryHandler({
      name: "apprunner-event",
      parse: () => {
        throw Object.assign(new Error("(event): id is required"), { name: "EventContractError" });
      },
      handle: async () => null,
      idempotency: { persistenceStore: store() },
    });

    const result = await handler({ source: "aws.apprunner" }, localLambdaContext("apprunner-event"));

    expect(result).toEqual({ dropped: true, reason: "event contract: (event): id is required" });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it("lets handlers with the same settings share a store, and refuses one whose key path differs", () => {
    const shared = store();
    operationHandler("first", { persistenceStore: shared }, async (e) => recorded(e));
    operationHandler("second", { persistenceStore: shared }, async (e) => recorded(e));

    expect(() =>
      operationHandler(
        "from-sns",
        { persistenceStore: shared, eventKeyJmesPath: "Records[0].Sns.MessageId" },
        async (e) => recorded(e),
      ),
    ).toThrow(/"first" and "from-sns" share an idempotency persistence store but differ in eventKeyJmesPath/);
  });
});

// ---------------------------------------------------------------------------------------------
// Against DynamoDB Local, started by the vitest global setup (test/setup/global-setup.ts).
// ---------------------------------------------------------------------------------------------

describe("idempotency against DynamoDB Local", () => {
  const tableName = `runtime-idempotency-${randomUUID().slice(0, 8)}`;
  const client = new DynamoDBClient({
    endpoint: inject("dynamodbEndpoint"),
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const store = () => new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });

  beforeAll(async () => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  });

  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    client.destroy();
  });

  it("runs handle once for a redelivered event and stores the completed record", async () => {
    const event = { ...EVENT, id: randomUUID() };
    const handle = vi.fn(async (e: Outcome) => recorded(e));
    const handler = operationHandler("apprunner-event-local", { persistenceStore: store() }, handle);

    const first = await handler(event, localLambdaContext("apprunner-event-local"));
    const second = await handler(event, localLambdaContext("apprunner-event-local"));

    expect(handle).toHaveBeenCalledOnce();
    expect(second).toEqual(first);
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    const records = Items.filter((item) => item.id?.S?.startsWith("apprunner-event-local#"));
    expect(records).toHaveLength(1);
    expect(records[0]?.status).toEqual({ S: "COMPLETED" });
  });

  it("keeps interleaved handlers sharing one store on their own keys", async () => {
    const shared = store();
    const eventA = { ...EVENT, id: randomUUID() };
    const eventB = { ...EVENT, id: randomUUID() };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handleA = vi.fn(async (e: Outcome) => {
      await gate;
      return recorded(e);
    });
    const handleB = vi.fn(async (e: Outcome) => recorded(e));
    const handlerA = operationHandler("shared-a", { persistenceStore: shared }, handleA);
    const handlerB = operationHandler("shared-b", { persistenceStore: shared }, handleB);

    // B runs start to finish while A waits inside handle, re-prefixing the shared store meanwhile.
    const inFlightA = handlerA(eventA, localLambdaContext("shared-a"));
    await vi.waitFor(() => expect(handleA).toHaveBeenCalledOnce());
    await handlerB(eventB, localLambdaContext("shared-b"));
    release();
    await inFlightA;
    // Redelivery of A finds A's completed record (not an in-progress one left behind).
    const replayedA = await handlerA(eventA, localLambdaContext("shared-a"));

    expect(handleA).toHaveBeenCalledOnce();
    expect(replayedA).toEqual(recorded(parseOperation(eventA)));
    const { Items = [] } = await client.send(new ScanCommand({ TableName: tableName }));
    const sharedRecords = Items.filter((item) => /^shared-[ab]#/.test(item.id?.S ?? ""));
    expect(sharedRecords.map((item) => [item.id?.S?.split("#")[0], item.status?.S]).sort()).toEqual([
      ["shared-a", "COMPLETED"],
      ["shared-b", "COMPLETED"],
    ]);
  });

  it("keeps the first invocation's lock when a duplicate arrives mid-flight", async () => {
    const event = { ...EVENT, id: randomUUID() };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handle = vi.fn(async (e: Outcome) => {
      await gate;
      return recorded(e);
    });
    const handler = operationHandler("apprunner-event-inflight", { persistenceStore: store() }, handle);

    const invoke = () =>
      handler(event, localLambdaContext("apprunner-event-inflight")).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );

    const inFlight = handler(event, localLambdaContext("apprunner-event-inflight"));
    await vi.waitFor(() => expect(handle).toHaveBeenCalledOnce());
    // Two more deliveries, one after the other, while the first still runs. Had the first duplicate
    // deleted the lock (powertools-lambda-typescript#5675), the second would acquire it and block
    // in handle, which the race below reports as still running.
    const firstDuplicate = await invoke();
    const secondDuplicate = await Promise.race([invoke(), sleep(2_000).then(() => "still running")]);
    release();
    const first = await inFlight;
    const retried = await handler(event, localLambdaContext("apprunner-event-inflight"));

    expect(firstDuplicate).toEqual({ error: expect.any(IdempotencyAlreadyInProgressError) });
    expect(secondDuplicate).toEqual({ error: expect.any(IdempotencyAlreadyInProgressError) });
    expect(handle).toHaveBeenCalledOnce();
    expect(retried).toEqual(first);
  });
});
