/** SHA-256 and HMAC through Web Crypto: the same code in browsers and Node 20. */

function subtle(): typeof globalThis.crypto.subtle {
  const webCrypto = globalThis.crypto;
  if (!webCrypto?.subtle) {
    throw new Error("Web Crypto is unavailable: browsers only offer it on https:// or localhost pages");
  }
  return webCrypto.subtle;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * S3's COMPOSITE SHA-256 of a multipart object: the SHA-256 of the parts' binary digests in part
 * order, base64, then `-<part count>`.
 */
export async function compositeSha256(partChecksums: readonly string[]): Promise<string> {
  const joined = new Uint8Array(partChecksums.length * 32);
  for (const [index, checksum] of partChecksums.entries()) joined.set(fromBase64(checksum), index * 32);
  return `${toBase64(await sha256(joined))}-${partChecksums.length}`;
}

export async function hmacSha256Verify(
  secret: string,
  data: string,
  signature: Uint8Array,
): Promise<boolean> {
  const encoder = new TextEncoder();
  const key = await subtle().importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  // `verify` compares in constant time.
  return subtle().verify("HMAC", key, signature as Uint8Array<ArrayBuffer>, encoder.encode(data));
}
