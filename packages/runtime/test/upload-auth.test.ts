import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { UploadSession } from "@gantry/core";
import { describe, expect, it } from "vitest";
import { HmacUploadSessions, JwtUploadAuthorizer, type UploadAuthKeyError } from "../src/index.ts";

const NOW = new Date("2026-11-22T10:00:00Z");
const clock = { now: () => NOW };
const nowSeconds = NOW.getTime() / 1000;
const config = { issuer: "https://auth.example.com", audience: "uploads", clockToleranceSeconds: 30 };
const claims = { iss: config.issuer, aud: config.audience, sub: "user-42", exp: nowSeconds + 600 };

const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function jwt(
  alg: string,
  key: KeyObject | string,
  payload: Record<string, unknown> = claims,
  header: Record<string, unknown> = {},
) {
  const signed = `${segment({ alg, typ: "JWT", ...header })}.${segment(payload)}`;
  const data = Buffer.from(signed);
  const signature =
    typeof key === "string"
      ? createHmac("sha256", key).update(data).digest()
      : alg === "ES256"
        ? sign("sha256", data, { key, dsaEncoding: "ieee-p1363" })
        : alg === "EdDSA"
          ? sign(null, data, key)
          : sign("sha256", data, key);
  return `${signed}.${signature.toString("base64url")}`;
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");
const pem = (key: KeyObject) => key.export({ type: "spki", format: "pem" }).toString();
const HMAC_SECRET = "0123456789abcdef0123456789abcdef-hs256";

describe("JwtUploadAuthorizer", () => {
  it.each([
    { alg: "RS256" as const, key: pem(rsa.publicKey), signWith: rsa.privateKey as KeyObject | string },
    { alg: "ES256" as const, key: pem(ec.publicKey), signWith: ec.privateKey },
    { alg: "EdDSA" as const, key: pem(ed.publicKey), signWith: ed.privateKey },
    {
      alg: "ES256" as const,
      key: JSON.stringify(ec.publicKey.export({ format: "jwk" })),
      signWith: ec.privateKey,
    },
    { alg: "HS256" as const, key: HMAC_SECRET, signWith: HMAC_SECRET },
  ])("accepts a valid $alg token and returns its subject", async ({ alg, key, signWith }) => {
    const authorizer = new JwtUploadAuthorizer({ ...config, algorithms: [alg] }, key, clock);
    expect(await authorizer.authorize({ "x-upload-authorization": `Bearer ${jwt(alg, signWith)}` })).toEqual({
      ok: true,
      value: { subject: "user-42" },
    });
  });

  const es256 = new JwtUploadAuthorizer({ ...config, algorithms: ["ES256"] }, pem(ec.publicKey), clock);
  const other = generateKeyPairSync("ec", { namedCurve: "P-256" });

  it.each([
    { name: "no header", token: undefined, message: "send X-Upload-Authorization: Bearer <token>" },
    { name: "not a JWT", token: "abc.def", message: "the token is not a JWT" },
    {
      name: "alg none",
      token: `${segment({ alg: "none" })}.${segment(claims)}.`,
      message: "the token is not a JWT",
    },
    {
      name: "alg none with a signature",
      token: `${segment({ alg: "none" })}.${segment(claims)}.AAAA`,
      message: "the token's algorithm is not accepted",
    },
    {
      name: "HS256 signed with the public key",
      token: jwt("HS256", pem(ec.publicKey)),
      message: "the token's algorithm is not accepted",
    },
    {
      name: "another key",
      token: jwt("ES256", other.privateKey),
      message: "the token's signature is not valid",
    },
    {
      name: "a changed payload",
      token: (() => {
        const [h, , s] = jwt("ES256", ec.privateKey).split(".");
        return `${h}.${segment({ ...claims, sub: "admin" })}.${s}`;
      })(),
      message: "the token's signature is not valid",
    },
    {
      name: "a crit header",
      token: jwt("ES256", ec.privateKey, claims, { crit: ["b64"] }),
      message: "the token requires unsupported extensions",
    },
    {
      name: "another issuer",
      token: jwt("ES256", ec.privateKey, { ...claims, iss: "https://evil.example" }),
      message: "the token's issuer is not accepted",
    },
    {
      name: "another audience",
      token: jwt("ES256", ec.privateKey, { ...claims, aud: ["other"] }),
      message: "the token is not meant for this audience",
    },
    {
      name: "no expiry",
      token: jwt("ES256", ec.privateKey, { ...claims, exp: undefined }),
      message: "the token has no expiry",
    },
    {
      name: "expired beyond the leeway",
      token: jwt("ES256", ec.privateKey, { ...claims, exp: nowSeconds - 31 }),
      message: "the token has expired",
    },
    {
      name: "not valid yet",
      token: jwt("ES256", ec.privateKey, { ...claims, nbf: nowSeconds + 31 }),
      message: "the token is not valid yet",
    },
    {
      name: "no subject",
      token: jwt("ES256", ec.privateKey, { ...claims, sub: "" }),
      message: "the token has no usable subject",
    },
  ])("refuses $name with 401", async ({ token, message }) => {
    const headers = token === undefined ? {} : { "x-upload-authorization": `Bearer ${token}` };
    expect(await es256.authorize(headers)).toEqual({
      ok: false,
      refusal: { error: "unauthorized", message },
    });
  });

  it("allows the configured clock leeway and an audience list", async () => {
    const token = jwt("ES256", ec.privateKey, {
      ...claims,
      aud: ["a", "uploads"],
      exp: nowSeconds - 29,
      nbf: nowSeconds + 29,
    });
    expect((await es256.authorize({ "x-upload-authorization": `bearer ${token}` })).ok).toBe(true);
  });

  it.each([
    {
      algorithms: ["HS256", "RS256"] as const,
      key: HMAC_SECRET,
      error: "HS256 cannot be combined with other algorithms",
    },
    { algorithms: ["HS256"] as const, key: "short", error: "must be at least 32 bytes for HS256" },
    { algorithms: ["RS256"] as const, key: "not a key", error: "is not a PEM or JWK public key" },
    { algorithms: ["RS256"] as const, key: pem(ec.publicKey), error: "does not fit RS256 (key type ec)" },
    {
      algorithms: ["ES256"] as const,
      key: pem(generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey),
      error: "does not fit ES256 (key type ec)",
    },
    {
      algorithms: ["RS256"] as const,
      key: pem(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey),
      error: "does not fit RS256 (key type rsa)",
    },
  ])("refuses a key that does not fit $algorithms at cold start", ({ algorithms, key, error }) => {
    let thrown: UploadAuthKeyError | undefined;
    try {
      new JwtUploadAuthorizer({ ...config, algorithms: [...algorithms] }, key, clock);
    } catch (caught) {
      thrown = caught as UploadAuthKeyError;
    }
    expect(thrown?.message).toBe(`GANTRY_UPLOAD_AUTH_KEY ${error}`);
    // The key itself never appears in the message.
    if (key.length > 20) expect(thrown?.message).not.toContain(key.slice(0, 20));
  });
});

describe("HmacUploadSessions", () => {
  const session: UploadSession = {
    v: 1,
    app: "storefront",
    key: "storefront/Id0123456789abcdefghij/a.mp4",
    uploadId: "u-1",
    sub: "user-42",
    contentType: "video/mp4",
    size: 100,
    partSize: 5 * 1024 * 1024,
    partCount: 1,
    exp: nowSeconds + 60,
  };
  const sessions = new HmacUploadSessions("k".repeat(32));

  it("opens what it sealed", () => {
    expect(sessions.open(sessions.seal(session))).toEqual(session);
  });

  it("opens nothing that was changed, sealed with another key, or malformed", () => {
    const token = sessions.seal(session);
    const [payload, mac] = token.split(".") as [string, string];
    const bigger = Buffer.from(JSON.stringify({ ...session, size: 10 ** 12 })).toString("base64url");
    expect(sessions.open(`${bigger}.${mac}`)).toBeUndefined();
    expect(new HmacUploadSessions("x".repeat(32)).open(token)).toBeUndefined();
    expect(sessions.open(`${payload}.${mac}.extra`)).toBeUndefined();
    expect(sessions.open(payload)).toBeUndefined();
    expect(sessions.open(`${payload}.${mac.slice(0, -4)}`)).toBeUndefined();
    const forged = Buffer.from(JSON.stringify({ ...session, extra: 1 })).toString("base64url");
    const forgedMac = createHmac("sha256", "k".repeat(32))
      .update(`gantry-upload-session.v1.${forged}`)
      .digest("base64url");
    expect(sessions.open(`${forged}.${forgedMac}`)).toBeUndefined();
  });

  it("needs a 32-byte key", () => {
    expect(() => new HmacUploadSessions("short")).toThrow(
      "GANTRY_UPLOAD_TOKEN_KEY must be at least 32 bytes",
    );
  });
});
