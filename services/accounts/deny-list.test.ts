/**
 * The deny list when NATS is away, on a real nats-server that is stopped and
 * started again (JetStream keeps its store) and a real SQLite file: a logout
 * made meanwhile ends the session but answers 503 (not 204, not a hang), and
 * that revocation and one by a reused refresh token reach the bucket by
 * themselves once NATS is back; a retried logout then answers 204.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { parseRevocation, REVOKED_SESSIONS_BUCKET } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { decodeJwt } from "jose";
import type { TokenResponse } from "./contract.ts";
import { type Instance, postTo, signUpAndLogIn, startAccounts } from "./test-support.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let accounts: Instance;
let nc: NatsConnection | undefined;

const sessionOf = (tokens: TokenResponse) => decodeJwt(tokens.accessToken).sid as string;

beforeAll(async () => {
  nats = await NatsServer.start();
  accounts = await startAccounts(nats.url);
});

afterAll(async () => {
  await nc?.close();
  await accounts?.stop();
  await nats?.stop();
});

describe("the deny list while NATS is away", () => {
  test("a logout answers 503 in bounded time, and its revocation and a reuse's are stored once NATS is back", async () => {
    // The instance's own HTTP port: reachable while NATS is not.
    const post = postTo(accounts.url);
    const loggedOut = await signUpAndLogIn(post);
    const reused = await signUpAndLogIn(post);
    expect((await post("/refresh", { refreshToken: reused.refreshToken })).status).toBe(200);

    await nats.stop({ keepStore: true });
    const started = performance.now();
    const logout = await post("/logout", { refreshToken: loggedOut.refreshToken });
    expect(logout.status).toBe(503);
    expect(logout.headers.get("content-type")).toBe("application/problem+json");
    expect(logout.headers.get("retry-after")).toBe("1");
    expect(performance.now() - started).toBeLessThan(6_000);
    // The session is over all the same: its refresh token is refused.
    expect((await post("/refresh", { refreshToken: loggedOut.refreshToken })).status).toBe(401);
    // A reused refresh token revokes its family; the answer is the refusal, whatever NATS does.
    expect((await post("/refresh", { refreshToken: reused.refreshToken })).status).toBe(401);

    await nats.restart();
    nc = await connect({ servers: nats.url });
    const kv = await new Kvm(jetstream(nc)).open(REVOKED_SESSIONS_BUCKET);
    for (const tokens of [loggedOut, reused]) {
      const entry = await waitFor(async () => await kv.get(sessionOf(tokens)), {
        timeoutMs: 15_000,
        what: "the revocation in the bucket",
      });
      const until = parseRevocation(entry.string())?.until ?? 0;
      // As long as an access token issued before the revocation could live, and a margin.
      expect(until).toBeGreaterThan(decodeJwt(tokens.accessToken).exp! * 1000);
    }
    expect((await post("/logout", { refreshToken: loggedOut.refreshToken })).status).toBe(204);
  });
});
