/**
 * Every SNS subscription's filter policy is checked at deploy time against SNS's own rules (at most
 * 150 combinations of values, 5 attribute names, no nesting on message attributes, only the
 * operators SNS knows), so a policy SNS would refuse fails `sst deploy` before anything changes,
 * saying which subscription and why, instead of failing halfway through the update.
 * https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html
 *
 * Registered before the modules that subscribe (sst.config.ts imports this file first).
 */

import { compileSnsFilterPolicy } from "../packages/events/src/sns-filter-policy.ts";

function check(subscription: string, policy: unknown) {
  if (policy === undefined || policy === null || policy === "") return;
  try {
    compileSnsFilterPolicy(policy);
  } catch (error) {
    throw new Error(`SNS subscription ${subscription}: ${(error as Error).message}`);
  }
}

$transform(aws.sns.TopicSubscription, (args, _options, name) => {
  const { filterPolicy, filterPolicyScope } = args;
  if (filterPolicy === undefined) return;
  // Message-body policies nest and are counted by nesting level: Gantry declares none, and this
  // check does not claim to know their rules.
  const onAttributes = (scope: unknown) => scope === undefined || scope === "MessageAttributes";
  // Plain values are checked now, so the error stops the program where the subscription is
  // declared; values known only later are checked when they resolve.
  if (
    typeof filterPolicy === "string" &&
    (filterPolicyScope === undefined || typeof filterPolicyScope === "string")
  ) {
    if (onAttributes(filterPolicyScope)) check(name, filterPolicy);
    return;
  }
  $resolve([filterPolicy, filterPolicyScope]).apply(([policy, scope]) => {
    if (onAttributes(scope)) check(name, policy);
  });
});
