/**
 * The slice of Slack's Block Kit that Gantry sends, Slack's limits on it (FACTS §5), and text
 * helpers that keep every string inside them. Lengths are counted in UTF-16 code units (JS
 * `length`), never fewer than the characters Slack counts, and cuts never split a surrogate pair or
 * an escape sequence.
 */

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  /** A text object's own maximum; context elements are text objects. */
  textObject: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Slack truncates `text` beyond 40,000 characters; Gantry keeps it to a readable notification. */
  messageText: 3000,
  /**
   * Slack answers `msg_blocks_too_long` somewhere near 13.2k characters across all blocks, an
   * undocumented limit (slackapi/bolt-js#2509); staying under 12k leaves room.
   */
  totalBlockText: 12_000,
} as const;

export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}

export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}

export interface ConfirmDialog {
  title: PlainText;
  text: PlainText;
  confirm: PlainText;
  deny: PlainText;
  style?: "primary" | "danger";
}

export interface ButtonElement {
  type: "button";
  text: PlainText;
  action_id: string;
  value: string;
  style?: "primary" | "danger";
  confirm?: ConfirmDialog;
}

export type SlackBlock =
  | { type: "header"; block_id?: string; text: PlainText }
  | { type: "section"; block_id?: string; text: Mrkdwn }
  | { type: "context"; block_id?: string; elements: Mrkdwn[] }
  | { type: "actions"; block_id?: string; elements: ButtonElement[] }
  | { type: "divider"; block_id?: string };

/** What chat.postMessage / chat.update / an incoming webhook take: fallback text plus blocks. */
export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's mrkdwn control characters; unescaped, `<!channel>` or `<https://…|x>` would be live. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const ELLIPSIS = "…";

/** Cuts `text` to at most `max` code units, ending in "…" when cut, never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return "";
  let end = max - ELLIPSIS.length;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  return `${text.slice(0, Math.max(0, end))}${ELLIPSIS}`;
}

/**
 * Escapes `raw` for mrkdwn and cuts it so the escaped result fits `max`: the cut happens on the raw
 * text, so an entity such as `&amp;` is never split.
 */
export function fitMrkdwn(raw: string, max: number): string {
  const escaped = escapeMrkdwn(raw);
  if (escaped.length <= max) return escaped;
  let low = 0;
  // An escaped character is never shorter than the raw one: no more than `max` raw ones can fit.
  let high = Math.min(raw.length, max);
  // The longest raw prefix whose escaped form plus the ellipsis fits.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (escapeMrkdwn(raw.slice(0, mid)).length + ELLIPSIS.length <= max) low = mid;
    else high = mid - 1;
  }
  let end = low;
  if (end > 0 && isHighSurrogate(raw.charCodeAt(end - 1))) end--;
  return `${escapeMrkdwn(raw.slice(0, end))}${ELLIPSIS}`;
}

/** Collapses whitespace (newlines included) so one value stays on one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export const plain = (text: string, max: number = SLACK_LIMITS.textObject): PlainText => ({
  type: "plain_text",
  text: truncate(text, max),
  emoji: true,
});

export const mrkdwn = (text: string): Mrkdwn => ({ type: "mrkdwn", text });

/** Every text a block carries, for the total-size budget. */
export function blockTextLength(block: SlackBlock): number {
  switch (block.type) {
    case "header":
      return block.text.text.length;
    case "section":
      return block.text.text.length;
    case "context":
      return block.elements.reduce((sum, element) => sum + element.text.length, 0);
    case "actions":
      return block.elements.reduce(
        (sum, button) => sum + button.text.text.length + button.value.length + (button.confirm ? 400 : 0),
        0,
      );
    case "divider":
      return 0;
  }
}

/**
 * What Slack would refuse in `message`, one line per problem (empty when it is fine). The local
 * Slack stand-in answers `invalid_blocks` with these, as Slack does for oversized blocks.
 */
export function slackMessageProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  const over = (what: string, length: number, max: number) => {
    if (length > max) problems.push(`${what} is ${length} characters (max ${max})`);
  };
  over("text", message.text.length, SLACK_LIMITS.messageText);
  if (message.blocks.length > SLACK_LIMITS.blocks) {
    problems.push(`${message.blocks.length} blocks (max ${SLACK_LIMITS.blocks})`);
  }
  let total = 0;
  message.blocks.forEach((block, index) => {
    const where = `blocks[${index}] (${block.type})`;
    total += blockTextLength(block);
    if (block.block_id !== undefined) over(`${where}.block_id`, block.block_id.length, SLACK_LIMITS.blockId);
    switch (block.type) {
      case "header":
        over(`${where}.text`, block.text.text.length, SLACK_LIMITS.headerText);
        if (block.text.type !== "plain_text") problems.push(`${where}.text must be plain_text`);
        break;
      case "section":
        over(`${where}.text`, block.text.text.length, SLACK_LIMITS.sectionText);
        if (block.text.text.length === 0) problems.push(`${where}.text must not be empty`);
        break;
      case "context":
        if (block.elements.length === 0 || block.elements.length > SLACK_LIMITS.contextElements) {
          problems.push(
            `${where} has ${block.elements.length} elements (1..${SLACK_LIMITS.contextElements})`,
          );
        }
        for (const [n, element] of block.elements.entries()) {
          over(`${where}.elements[${n}]`, element.text.length, SLACK_LIMITS.textObject);
        }
        break;
      case "actions":
        if (block.elements.length === 0 || block.elements.length > SLACK_LIMITS.actionsElements) {
          problems.push(
            `${where} has ${block.elements.length} elements (1..${SLACK_LIMITS.actionsElements})`,
          );
        }
        block.elements.forEach((button, n) => {
          const at = `${where}.elements[${n}]`;
          over(`${at}.text`, button.text.text.length, SLACK_LIMITS.buttonText);
          over(`${at}.value`, button.value.length, SLACK_LIMITS.buttonValue);
          over(`${at}.action_id`, button.action_id.length, SLACK_LIMITS.actionId);
          if (button.confirm) {
            over(`${at}.confirm.title`, button.confirm.title.text.length, SLACK_LIMITS.confirmTitle);
            over(`${at}.confirm.text`, button.confirm.text.text.length, SLACK_LIMITS.confirmText);
            over(`${at}.confirm.confirm`, button.confirm.confirm.text.length, SLACK_LIMITS.confirmButton);
            over(`${at}.confirm.deny`, button.confirm.deny.text.length, SLACK_LIMITS.confirmButton);
          }
        });
        break;
      case "divider":
        break;
    }
  });
  over("all blocks together", total, SLACK_LIMITS.totalBlockText);
  return problems;
}
