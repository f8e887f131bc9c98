import {
  levelRank,
  NOTIFICATION_LEVELS,
  type NotificationLevel,
  type SlackNotification,
} from "./notification.ts";

/** App Runner tag naming a service's own Slack channel, optionally with a threshold: `team-pay=warning`. */
export const TAG_CHANNEL = "gantry:channel";

export interface ChannelRoute {
  channel: string;
  minLevel: NotificationLevel;
}

/**
 * Where notifications go. `home` is the channel of every service without a `gantry:channel` tag;
 * `watchers` receive every service's notifications at or above their threshold (an on-call
 * channel that only wants failures). A channel named without a threshold takes the home channel's.
 */
export interface SlackRouting {
  home: ChannelRoute;
  watchers: ChannelRoute[];
}

export class SlackRoutingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SlackRoutingError";
  }
}

/** Channel names (lower-case letters, digits, `-`, `_`) or ids (`C0123ABCD`); `#` is optional. */
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/**
 * `deploys,oncall=failure`: the first channel is home, the rest are watchers; `=level` sets a
 * channel's threshold (`info`, `warning` or `failure`). Errors quote the offending entry only.
 */
export function parseSlackChannels(spec: string): SlackRouting {
  const entries = spec
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.length === 0) throw new SlackRoutingError("name at least one channel, e.g. deploys");
  const first = parseRoute(entries[0] as string, "info");
  const routes = [first, ...entries.slice(1).map((entry) => parseRoute(entry, first.minLevel))];
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.channel)) throw new SlackRoutingError(`channel ${route.channel} is named twice`);
    seen.add(route.channel);
  }
  return { home: first, watchers: routes.slice(1) };
}

function parseRoute(entry: string, fallback: NotificationLevel): ChannelRoute {
  const [rawChannel = "", rawLevel, ...rest] = entry.split("=").map((part) => part.trim());
  const channel = rawChannel.replace(/^#/, "");
  if (rest.length > 0 || !CHANNEL.test(channel)) {
    throw new SlackRoutingError(`"${entry}" is not a channel name or id, optionally followed by =level`);
  }
  if (rawLevel === undefined) return { channel, minLevel: fallback };
  if (!NOTIFICATION_LEVELS.includes(rawLevel as NotificationLevel)) {
    throw new SlackRoutingError(`"${entry}": the level must be one of ${NOTIFICATION_LEVELS.join(", ")}`);
  }
  return { channel, minLevel: rawLevel as NotificationLevel };
}

/**
 * The channels one notification goes to: its service's channel (the tag, else home) and every
 * watcher, each only when the notification reaches that channel's threshold. Home first, no
 * channel twice. A malformed tag value falls back to home rather than losing the notification.
 */
export function routeNotification(
  routing: SlackRouting,
  notification: Pick<SlackNotification, "level">,
  channelTag?: string,
): string[] {
  const own = ownChannel(routing, channelTag);
  const candidates = [own, ...routing.watchers];
  const channels: string[] = [];
  for (const route of candidates) {
    if (levelRank(notification.level) < levelRank(route.minLevel)) continue;
    if (!channels.includes(route.channel)) channels.push(route.channel);
  }
  return channels;
}

function ownChannel(routing: SlackRouting, tag: string | undefined): ChannelRoute {
  if (!tag?.trim()) return routing.home;
  let route: ChannelRoute;
  try {
    route = parseRoute(tag.trim(), routing.home.minLevel);
  } catch {
    return routing.home;
  }
  const configured = [routing.home, ...routing.watchers].find((known) => known.channel === route.channel);
  // A tag without its own level inherits the threshold configured for that channel, if any.
  return configured && !tag.includes("=") ? configured : route;
}

/**
 * The SNS subscription filter policy in front of the Slack subscriber (message attributes `level`
 * and `service`): levels below every configured threshold never invoke it; `services`, when given,
 * limits Slack to those services. A tag's own threshold can only be stricter than this.
 */
export function slackFilterPolicy(
  routing: SlackRouting,
  services: readonly string[] = [],
): Record<string, unknown[]> {
  const lowest = Math.min(...[routing.home, ...routing.watchers].map((route) => levelRank(route.minLevel)));
  return {
    level: NOTIFICATION_LEVELS.filter((level) => levelRank(level) >= lowest),
    ...(services.length > 0 ? { service: [...services] } : {}),
  };
}
