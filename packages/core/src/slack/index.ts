export * from "./actions.ts";
export {
  type ButtonElement,
  escapeMrkdwn,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  slackMessageProblems,
} from "./block-kit.ts";
export * from "./delivery.ts";
export {
  type Headline,
  type HeadlineAction,
  headlineActions,
  headlineFromNotification,
  headlineFromRelease,
  KEEP_BLOCKED_KEY_PREFIX,
} from "./headline.ts";
export * from "./kinds.ts";
export * from "./notification.ts";
export * from "./ports.ts";
export * from "./render.ts";
export * from "./routing.ts";
export * from "./slack-actions.ts";
