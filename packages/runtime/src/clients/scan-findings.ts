import { ECRClient, type ECRClientConfig } from "@aws-sdk/client-ecr";
import { Inspector2Client, type Inspector2ClientConfig } from "@aws-sdk/client-inspector2";
import { ScanFindingsAdapter } from "@gantry/aws";
import type { ScanFindingsPort } from "@gantry/core";

/**
 * Loaded on first use (`lazyPort`): only judging a scan reads its findings, so the App Runner event
 * and retry functions never load the ECR and Inspector2 clients.
 */
export function buildScanFindingsPort(
  ecr: ECRClientConfig,
  inspector: Inspector2ClientConfig,
): ScanFindingsPort {
  return new ScanFindingsAdapter(new ECRClient(ecr), new Inspector2Client(inspector));
}
