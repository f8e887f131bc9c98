/**
 * IP addresses as EventBridge reads them, for `cidr` and for plain string values that are IP literals.
 * Addresses become upper-case hex strings of their bytes (8 digits for IPv4, 32 for IPv6), so a range
 * test is two string comparisons, as in aws/event-ruler's CIDR class.
 */
import { invalidPattern } from "./event-pattern-error.ts";

/** An inclusive range of addresses of one family (both bounds have the same length). */
export interface IpRange {
  readonly low: string;
  readonly high: string;
}

// Ruler only hands a string to its IP parser if it has one of these shapes; anything else is not an
// address at all ("Nonstandard IP address"), while a string of the right shape that still fails to
// parse is an "Invalid IP address".
const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const MASK_TEXT = /^[+-]?[0-9]+$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function hasIpShape(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

function toHex(bytes: readonly number[]): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex.toUpperCase();
}

function parseIpv4(text: string): number[] | undefined {
  // Octets are decimal even with leading zeros (0177 is 177, not octal), as Java reads them.
  const octets = text.split(".").map(Number);
  return octets.every((octet) => octet <= 255) ? octets : undefined;
}

function parseIpv6Groups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const group of text.split(":")) {
    if (group.length === 0 || group.length > 4) return undefined;
    groups.push(Number.parseInt(group, 16));
  }
  return groups;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseIpv6Groups(halves[0] ?? "");
  const tail = parseIpv6Groups(halves[1] ?? "");
  if (head === undefined || tail === undefined) return undefined;
  const explicit = head.length + tail.length;
  // "::" stands for at least one zero group; without it all eight groups must be written.
  if (halves.length === 2 ? explicit > 7 : explicit !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

function isIpv4Mapped(bytes: readonly number[]): boolean {
  return (
    bytes.length === 16 &&
    bytes.slice(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff
  );
}

/** The address bytes of an IP literal, or undefined. `::ffff:a.b.c.d`-style mapped v6 reads as v4 (Java does). */
function ipBytes(text: string): number[] | undefined {
  if (IPV4_SHAPE.test(text)) return parseIpv4(text);
  if (!IPV6_SHAPE.test(text)) return undefined;
  const bytes = parseIpv6(text);
  return bytes && isIpv4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/** The hex form of an IP literal, or undefined when `text` is not one. Used on event values. */
export function ipToHex(text: string): string | undefined {
  const bytes = ipBytes(text);
  return bytes && toHex(bytes);
}

/** Java's `String.split("/")`: trailing empty pieces are dropped, so "10.0.0.0/8/" has two pieces. */
function splitOnSlash(text: string): string[] {
  const pieces = text.split("/");
  while (pieces.length > 0 && pieces[pieces.length - 1] === "") pieces.pop();
  return pieces;
}

function parseMaskBits(text: string): number {
  const bits = MASK_TEXT.test(text) ? Number(text) : Number.NaN;
  // Java's Integer.parseInt: an optional sign, ASCII digits, and it must fit in an int.
  if (!(bits >= INT32_MIN && bits <= INT32_MAX)) {
    invalidPattern("Malformed CIDR, mask bits must be an integer");
  }
  if (bits < 0) invalidPattern("Malformed CIDR, mask bits must not be negative");
  return bits;
}

function maskedBytes(bytes: readonly number[], maskBits: number, fill: 0 | 1): number[] {
  return bytes.map((byte, index) => {
    const hostBits = Math.min(8, Math.max(0, (index + 1) * 8 - maskBits));
    const hostMask = (1 << hostBits) - 1;
    return fill === 1 ? byte | hostMask : byte & ~hostMask & 0xff;
  });
}

/**
 * Parses a `cidr` operand. Quirks kept from AWS: the mask must be below the address width (`/32` and
 * `/128` are rejected), and the bits below the mask may be set in the operand (`10.0.0.7/24` is the
 * whole /24).
 */
export function parseCidr(text: string): IpRange {
  const pieces = splitOnSlash(text);
  if (pieces.length !== 2) invalidPattern("Malformed CIDR, one '/' required");
  const [address = "", maskText = ""] = pieces;
  const maskBits = parseMaskBits(maskText);
  if (!hasIpShape(address)) invalidPattern(`Nonstandard IP address: ${address}`);
  const bytes = ipBytes(address) ?? invalidPattern(`Invalid IP address: ${address}`);
  if (bytes.length === 4 && maskBits > 31) invalidPattern("IPv4 mask bits must be < 32");
  if (bytes.length === 16 && maskBits > 127) invalidPattern("IPv6 mask bits must be < 128");
  return { low: toHex(maskedBytes(bytes, maskBits, 0)), high: toHex(maskedBytes(bytes, maskBits, 1)) };
}

/** A plain string pattern value that is an IP literal matches the same address however it is written. */
export function singleAddressRange(text: string): IpRange | undefined {
  const hex = ipToHex(text);
  return hex === undefined ? undefined : { low: hex, high: hex };
}

export function ipInRange(hex: string, range: IpRange): boolean {
  return hex.length === range.low.length && hex >= range.low && hex <= range.high;
}
