import { createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import type {
  Caller,
  Clock,
  JwtAlgorithm,
  UploadAuthConfig,
  UploadAuthorizer,
  UploadResult,
} from "@gantry/core";

/**
 * The default per-caller authorisation hook: a JWT in `X-Upload-Authorization: Bearer <token>`,
 * verified with the app's configured key (an SST secret: a PEM/JWK public key, or the shared
 * secret for HS256). Behind CloudFront the `Authorization` header cannot be used: CloudFront's
 * origin access control overwrites it with its own signature for the function URL.
 */
export const UPLOAD_AUTHORIZATION_HEADER = "x-upload-authorization";

/** `sub` becomes object metadata and is compared on every call; keep it reasonable. */
const MAX_SUBJECT_LENGTH = 256;

type VerifyKey = { kind: "hmac"; secret: Buffer } | { kind: "public"; key: KeyObject };

export class UploadAuthKeyError extends Error {
  constructor(reason: string) {
    super(`GANTRY_UPLOAD_AUTH_KEY ${reason}`);
    this.name = "UploadAuthKeyError";
  }
}

/** Checks the key against the configured algorithms once, at cold start. Never logs the key. */
function loadKey(algorithms: readonly JwtAlgorithm[], material: string): VerifyKey {
  if (algorithms.includes("HS256")) {
    // Mixing HS256 with public-key algorithms lets a public key be used as an HMAC secret.
    if (algorithms.length > 1) throw new UploadAuthKeyError("HS256 cannot be combined with other algorithms");
    if (Buffer.byteLength(material) < 32) throw new UploadAuthKeyError("must be at least 32 bytes for HS256");
    return { kind: "hmac", secret: Buffer.from(material) };
  }
  let key: KeyObject;
  try {
    const trimmed = material.trim();
    key = trimmed.startsWith("{")
      ? createPublicKey({ key: JSON.parse(trimmed), format: "jwk" })
      : createPublicKey(trimmed);
  } catch {
    throw new UploadAuthKeyError("is not a PEM or JWK public key");
  }
  for (const algorithm of algorithms) {
    if (!keyFits(algorithm, key)) {
      throw new UploadAuthKeyError(`does not fit ${algorithm} (key type ${key.asymmetricKeyType})`);
    }
  }
  return { kind: "public", key };
}

function keyFits(algorithm: JwtAlgorithm, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  switch (algorithm) {
    case "RS256":
      return key.asymmetricKeyType === "rsa" && (details?.modulusLength ?? 0) >= 2048;
    case "ES256":
      return key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1";
    case "EdDSA":
      return key.asymmetricKeyType === "ed25519";
    default:
      return false;
  }
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

export class JwtUploadAuthorizer implements UploadAuthorizer {
  private readonly key: VerifyKey;

  constructor(
    private readonly config: UploadAuthConfig,
    keyMaterial: string,
    private readonly clock: Clock,
  ) {
    this.key = loadKey(config.algorithms, keyMaterial);
  }

  async authorize(headers: Readonly<Record<string, string | undefined>>): Promise<UploadResult<Caller>> {
    const header = headers[UPLOAD_AUTHORIZATION_HEADER];
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) {
      return deny("send X-Upload-Authorization: Bearer <token>");
    }
    return this.verify(match[1]);
  }

  /** The caller, or why the token is refused (never echoing the token). */
  verify(token: string): UploadResult<Caller> {
    const segments = token.split(".");
    if (segments.length !== 3 || !segments.every((segment) => BASE64URL.test(segment))) {
      return deny("the token is not a JWT");
    }
    const [headerPart, payloadPart, signaturePart] = segments as [string, string, string];
    const header = decodeJson(headerPart);
    const claims = decodeJson(payloadPart);
    if (!header || !claims) return deny("the token is not a JWT");
    const algorithm = header.alg;
    if (typeof algorithm !== "string" || !(this.config.algorithms as readonly string[]).includes(algorithm)) {
      return deny("the token's algorithm is not accepted");
    }
    // No extension is understood, so a token that requires one must be refused (RFC 7515 §4.1.11).
    if (header.crit !== undefined) return deny("the token requires unsupported extensions");
    const signed = Buffer.from(`${headerPart}.${payloadPart}`);
    const signature = Buffer.from(signaturePart, "base64url");
    if (!this.signatureValid(algorithm as JwtAlgorithm, signed, signature)) {
      return deny("the token's signature is not valid");
    }
    return this.checkClaims(claims);
  }

  private signatureValid(algorithm: JwtAlgorithm, signed: Buffer, signature: Buffer): boolean {
    const key = this.key;
    if (key.kind === "hmac") {
      if (algorithm !== "HS256") return false;
      const expected = createHmac("sha256", key.secret).update(signed).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    try {
      switch (algorithm) {
        case "RS256":
          return verify("sha256", signed, key.key, signature);
        case "ES256":
          return (
            signature.length === 64 &&
            verify("sha256", signed, { key: key.key, dsaEncoding: "ieee-p1363" }, signature)
          );
        case "EdDSA":
          return verify(null, signed, key.key, signature);
        default:
          return false;
      }
    } catch {
      return false;
    }
  }

  private checkClaims(claims: Record<string, unknown>): UploadResult<Caller> {
    const now = this.clock.now().getTime() / 1000;
    const leeway = this.config.clockToleranceSeconds;
    if (claims.iss !== this.config.issuer) return deny("the token's issuer is not accepted");
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.config.audience)) return deny("the token is not meant for this audience");
    if (typeof claims.exp !== "number") return deny("the token has no expiry");
    if (claims.exp + leeway <= now) return deny("the token has expired");
    if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || claims.nbf - leeway > now)) {
      return deny("the token is not valid yet");
    }
    const subject = claims.sub;
    if (typeof subject !== "string" || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
      return deny("the token has no usable subject");
    }
    return { ok: true, value: { subject } };
  }
}

function deny(message: string): { ok: false; refusal: { error: "unauthorized"; message: string } } {
  return { ok: false, refusal: { error: "unauthorized", message } };
}
