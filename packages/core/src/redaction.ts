/**
 * The one redaction Gantry has: an app's log lines (before they reach the ledger or Slack) and every
 * string Gantry's own functions log (the runtime's logger reuses `redactText`) go through it.
 *
 * Cost is bounded by construction: each input is cut to a maximum length BEFORE any pattern runs,
 * and the patterns use bounded quantifiers and no nested repetition, so one line costs at most a
 * few passes over MAX_LINE_CHARS characters whatever an app prints.
 */

export const REDACTED = "[REDACTED]";
/** Longest app log line any pattern sees; App Runner forwards whatever the app prints. */
export const MAX_LINE_CHARS = 2000;
/** Longest free text (error messages, stacks) any pattern sees. */
export const MAX_TEXT_CHARS = 16 * 1024;
const TRUNCATED = " …[truncated]";

/** Names whose value is a secret in `key=value`, `key: value` and JSON `"key": "value"`. */
const SECRET_KEY =
  "(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|signature)";

function quoted(value: string): string {
  const quote = value[0];
  return quote === '"' || quote === "'" ? `${quote}${REDACTED}${quote}` : REDACTED;
}

type Replacement = string | ((match: string, ...groups: string[]) => string);

const PATTERNS: readonly (readonly [RegExp, Replacement])[] = [
  // A PEM block inside one line (an app that logged a key with escaped newlines): keep the labels.
  [
    /(-----BEGIN [A-Z0-9 ]{1,64}-----)([\s\S]*?)(-----END [A-Z0-9 ]{1,64}-----|$)/g,
    (_match, begin = "", body = "", end = "") => `${begin}${body.trim() ? REDACTED : body}${end}`,
  ],
  // Credentials recognisable by their own shape, wherever they appear (one alternation, one scan):
  // AWS access key ids; Slack tokens; Stripe secret, restricted and webhook-signing keys
  // (https://docs.stripe.com/keys); GitHub tokens (https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats);
  // JWTs, also a truncated one (its payload alone already tells too much).
  [
    /\b(?:(?:AKIA|ASIA)[A-Z0-9]{16}\b|xox[a-z]-[A-Za-z0-9-]+|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]+|whsec_[A-Za-z0-9]+|gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?)/g,
    REDACTED,
  ],
  [/https:\/\/hooks\.slack\.com\/[A-Za-z0-9/_-]+/g, `https://hooks.slack.com/${REDACTED}`],
  // An Authorization header, whatever its scheme (`Bearer`, `Basic`, `Token` …): keep the scheme.
  [
    /\b(authorization["']?\s{0,8}[:=]\s{0,8}["']?)(?:(Bearer|Basic|Token|Digest|Bot)\s{1,8})?[^\s"',;]+/gi,
    (_match, head = "", scheme) => `${head}${scheme ? `${scheme} ` : ""}${REDACTED}`,
  ],
  [/\b(Bearer|bearer|Basic)\s{1,8}[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  // Credential-bearing query parameters, e.g. a presigned URL's X-Amz-Signature.
  [
    /([?&][^=&\s]{0,40}(?:token|secret|password|signature|credential)[^=&\s]{0,40}=)[^&\s"'<>]*/gi,
    `$1${REDACTED}`,
  ],
  // key=value, key: value and JSON members; a quoted value keeps its quotes (escapes included).
  [
    new RegExp(
      `\\b([A-Za-z_]{0,40}${SECRET_KEY}[A-Za-z_]{0,40}["']?\\s{0,8}[=:]\\s{0,8})("(?:[^"\\\\]|\\\\.)*"?|'(?:[^'\\\\]|\\\\.)*'?|[^\\s,;&"'}]+)`,
      "gi",
    ),
    (_match, head = "", value = "") => `${head}${quoted(value)}`,
  ],
  // user:password@ in connection strings.
  [/(\b[a-z][a-z0-9+.-]{0,30}:\/\/[^:/\s@]{1,256}:)[^@/\s]{1,256}@/gi, `$1${REDACTED}@`],
];

/**
 * `text` with secrets replaced, cut to `maxChars` first. The result is never longer than `maxChars`
 * either, so a pattern run over it later (the failure diagnosis) is bounded too.
 */
export function redactText(text: string, maxChars = MAX_TEXT_CHARS): string {
  const cut = text.length > maxChars;
  let result = cut ? text.slice(0, maxChars) : text;
  for (const [pattern, replacement] of PATTERNS) {
    result = result.replace(pattern, replacement as (match: string, ...groups: string[]) => string);
  }
  if (!cut && result.length <= maxChars) return result;
  return `${result.slice(0, maxChars - TRUNCATED.length)}${TRUNCATED}`;
}

/** One line of an app's log, bounded to MAX_LINE_CHARS. */
export function redactLogLine(line: string): string {
  return redactText(line, MAX_LINE_CHARS);
}

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{1,64}-----/;
const PEM_END = /-----END [A-Z0-9 ]{1,64}-----/;
/** What may stand between BEGIN and END: base64 (64 per line in RFC 7468), RFC 1421 headers, blanks. */
const PEM_CONTENT = /^\s{0,8}(?:[A-Za-z0-9+/=]{1,128}|(?:Proc-Type|DEK-Info):[^\n]{0,200})?\s{0,8}$/;

/**
 * Lines in order, each redacted, plus PEM blocks that span lines (CloudWatch gets one event per line
 * the app printed): every line between BEGIN and END is replaced. A block is bounded by its content:
 * it ends at END or at the first line that cannot be part of a PEM body, so a stray BEGIN never hides
 * the log lines after it. A block whose BEGIN fell before the tail is found from its END.
 */
export function redactLogLines(lines: readonly string[]): string[] {
  const redacted = lines.map(redactLogLine);
  // Every PEM boundary line holds "-----": without one there is no block to look for.
  if (!redacted.some((line) => line.includes("-----"))) return redacted;
  const hidden = new Array<boolean>(redacted.length).fill(false);
  let open = false;
  for (let index = 0; index < redacted.length; index++) {
    const line = redacted[index] ?? "";
    if (PEM_BEGIN.test(line)) open = !PEM_END.test(line);
    else if (open && PEM_END.test(line)) open = false;
    else if (open && PEM_CONTENT.test(line)) hidden[index] = true;
    else open = false;
  }
  open = false;
  for (let index = redacted.length - 1; index >= 0; index--) {
    const line = redacted[index] ?? "";
    if (PEM_END.test(line)) open = !PEM_BEGIN.test(line);
    else if (open && PEM_BEGIN.test(line)) open = false;
    else if (open && PEM_CONTENT.test(line)) hidden[index] = true;
    else open = false;
  }
  return redacted.map((line, index) => (hidden[index] ? REDACTED : line));
}
