/** An EventBridge event as delivered to a target (the envelope every AWS service event shares). */
export interface EventBridgeEvent<TDetail = Record<string, unknown>> {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
}
