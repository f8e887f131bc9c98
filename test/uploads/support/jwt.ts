import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** Test tokens, signed the way an app's identity provider would. */
export function es256KeyPair(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { privateKey, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function signJwt(
  claims: Record<string, unknown>,
  key: { alg: "ES256" | "RS256" | "EdDSA"; privateKey: KeyObject } | { alg: "HS256"; secret: string },
  header: Record<string, unknown> = {},
): string {
  const signed = `${segment({ alg: key.alg, typ: "JWT", ...header })}.${segment(claims)}`;
  let signature: Buffer;
  if (key.alg === "HS256") signature = createHmac("sha256", key.secret).update(signed).digest();
  else if (key.alg === "ES256")
    signature = sign("sha256", Buffer.from(signed), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  else if (key.alg === "RS256") signature = sign("sha256", Buffer.from(signed), key.privateKey);
  else signature = sign(null, Buffer.from(signed), key.privateKey);
  return `${signed}.${signature.toString("base64url")}`;
}
