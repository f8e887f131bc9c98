import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  SLACK_SIGNATURE_TOLERANCE_SECONDS,
  slackSignature,
  verifySlackRequest,
} from "../src/slack-request-verifier.ts";

// Slack's own worked example (docs.slack.dev/authentication/verifying-requests-from-slack).
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TS = "1531420618";
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

function verifier(nowSeconds: number, secret: string | undefined = DOC_SECRET) {
  const seen = new Set<string>();
  const expiries: Date[] = [];
  return {
    expiries,
    verify: (headers: Record<string, string | undefined>, rawBody: string) =>
      verifySlackRequest(
        {
          signingSecret: secret,
          clock: { now: () => new Date(nowSeconds * 1000) },
          claimNonce: async (nonce, expiresAt) => {
            expiries.push(expiresAt);
            if (seen.has(nonce)) return false;
            seen.add(nonce);
            return true;
          },
        },
        { headers, rawBody },
      ),
  };
}

const signed = (signature = DOC_SIGNATURE, timestamp = DOC_TS) => ({
  "x-slack-request-timestamp": timestamp,
  "x-slack-signature": signature,
});

describe("Slack request verification", () => {
  it("computes Slack's documented signature", () => {
    expect(slackSignature(DOC_SECRET, DOC_TS, DOC_BODY)).toBe(DOC_SIGNATURE);
  });

  it("accepts Slack's example within the 5-minute window, once; a replay is refused", async () => {
    const { verify, expiries } = verifier(Number(DOC_TS) + 299);
    expect(await verify(signed(), DOC_BODY)).toEqual({ ok: true });
    expect(await verify(signed(), DOC_BODY)).toEqual({ ok: false, reason: "replayed" });
    // Remembered past the window in which it could be replayed.
    expect(expiries[0]!.getTime()).toBeGreaterThan(
      (Number(DOC_TS) + SLACK_SIGNATURE_TOLERANCE_SECONDS) * 1000,
    );
  });

  it.each([
    ["older than 5 minutes", Number(DOC_TS) + 301],
    ["more than 5 minutes in the future", Number(DOC_TS) - 301],
  ])("refuses a request %s, even correctly signed", async (_, now) => {
    expect(await verifier(now).verify(signed(), DOC_BODY)).toEqual({ ok: false, reason: "stale" });
  });

  it("refuses a forged body, a forged signature, the wrong secret, and a signature of another length", async () => {
    const now = Number(DOC_TS) + 10;
    expect(await verifier(now).verify(signed(), DOC_BODY.replace("roadrunner", "coyote"))).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    const flipped = `${DOC_SIGNATURE.slice(0, -1)}${DOC_SIGNATURE.endsWith("3") ? "4" : "3"}`;
    expect(await verifier(now).verify(signed(flipped), DOC_BODY)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    expect(await verifier(now, "another-secret").verify(signed(), DOC_BODY)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    expect(await verifier(now).verify(signed("v0=abc"), DOC_BODY)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
    // The timestamp is part of what is signed: moving it breaks the signature.
    const moved = String(Number(DOC_TS) + 1);
    expect(await verifier(now).verify(signed(DOC_SIGNATURE, moved), DOC_BODY)).toEqual({
      ok: false,
      reason: "bad-signature",
    });
  });

  it("a forged request does not use up the genuine one's nonce", async () => {
    const { verify } = verifier(Number(DOC_TS));
    expect((await verify(signed(), `${DOC_BODY}&x=1`)).ok).toBe(false);
    expect(await verify(signed(), DOC_BODY)).toEqual({ ok: true });
  });

  it("refuses unsigned requests, and everything when no signing secret is configured", async () => {
    const { verify } = verifier(Number(DOC_TS));
    expect(await verify({}, DOC_BODY)).toEqual({ ok: false, reason: "unsigned" });
    expect(await verify({ "x-slack-signature": DOC_SIGNATURE }, DOC_BODY)).toEqual({
      ok: false,
      reason: "unsigned",
    });
    expect(await verify(signed(DOC_SIGNATURE, "12ab"), DOC_BODY)).toEqual({ ok: false, reason: "unsigned" });
    expect(await verifier(Number(DOC_TS), "").verify(signed(), DOC_BODY)).toEqual({
      ok: false,
      reason: "not-configured",
    });
  });

  it("signs any body the way an independent HMAC does", () => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: "block_actions", é: "✓" }))}`;
    const expected = `v0=${createHmac("sha256", "s3cr3t").update(`v0:1700000000:${body}`).digest("hex")}`;
    expect(slackSignature("s3cr3t", "1700000000", body)).toBe(expected);
  });
});
