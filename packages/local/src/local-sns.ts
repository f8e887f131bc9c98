import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface SnsMessage {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  attributes: Record<string, { dataType: string; value: string }>;
}

export type SnsSubscriber = (message: SnsMessage) => void | Promise<void>;

/**
 * A local SNS endpoint that the real `@aws-sdk/client-sns` publishes to (awsQuery protocol:
 * form-encoded request, XML response). It supports `Publish` only: Gantry's functions publish and
 * never manage topics at run time. Every message is kept and handed to in-process subscribers.
 */
export class LocalSns {
  readonly messages: SnsMessage[] = [];
  readonly #subscribers: SnsSubscriber[] = [];
  readonly #sockets = new Set<Socket>();
  #server?: Server;

  subscribe(subscriber: SnsSubscriber): void {
    this.#subscribers.push(subscriber);
  }

  async start(): Promise<{ endpoint: string }> {
    const server = createServer((request, response) => {
      void this.#handle(request, response);
    });
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#server = server;
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    const requestId = randomUUID();
    if (form.get("Action") !== "Publish") {
      return reply(
        response,
        400,
        errorXml("InvalidAction", `Unsupported action ${form.get("Action")}`, requestId),
      );
    }
    const topicArn = form.get("TopicArn");
    const message = form.get("Message");
    if (!topicArn || message === null) {
      return reply(
        response,
        400,
        errorXml("InvalidParameter", "TopicArn and Message are required", requestId),
      );
    }
    if (Buffer.byteLength(message) > 262_144) {
      return reply(response, 400, errorXml("InvalidParameter", "Message too long (max 256 KB)", requestId));
    }
    const published: SnsMessage = {
      messageId: randomUUID(),
      topicArn,
      message,
      attributes: messageAttributes(form),
      ...(form.get("Subject") ? { subject: form.get("Subject") as string } : {}),
    };
    this.messages.push(published);
    reply(
      response,
      200,
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${published.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
    // Subscribers run after the publisher got its answer: SNS delivery is asynchronous.
    for (const subscriber of this.#subscribers) await subscriber(published);
  }
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` (awsQuery maps). */
function messageAttributes(form: URLSearchParams): SnsMessage["attributes"] {
  const attributes: SnsMessage["attributes"] = {};
  for (let index = 1; form.has(`MessageAttributes.entry.${index}.Name`); index++) {
    const prefix = `MessageAttributes.entry.${index}`;
    attributes[form.get(`${prefix}.Name`) as string] = {
      dataType: form.get(`${prefix}.Value.DataType`) ?? "String",
      value: form.get(`${prefix}.Value.StringValue`) ?? "",
    };
  }
  return attributes;
}

function errorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

function reply(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": randomUUID() });
  response.end(body);
}
