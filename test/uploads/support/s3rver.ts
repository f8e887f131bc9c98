import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver accepts any signature made with these (TOOLING 3c). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface LocalS3 {
  endpoint: string;
  client: S3Client;
  server: S3rver;
  httpServer: Server;
  directory: string;
  stop(): Promise<void>;
}

/** s3rver on 127.0.0.1 with a free port and its own directory, removed on stop. */
export async function startLocalS3(bucket: string, cors?: { origins: string[] }): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "gantry-s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (cors) {
    // The rule infra/uploads.ts declares: PUT from the app's origins, the checksum header, ETag exposed.
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: cors.origins,
              AllowedMethods: ["PUT"],
              AllowedHeaders: ["x-amz-checksum-sha256"],
              ExposeHeaders: ["ETag"],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
  }
  const httpServer = (server as unknown as { httpServer: Server }).httpServer;
  return {
    endpoint,
    client,
    server,
    httpServer,
    directory,
    stop: async () => {
      client.destroy();
      httpServer.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
