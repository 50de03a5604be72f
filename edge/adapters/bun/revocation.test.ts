/**
 * A logout reaches every worker process of the Bun edge: `bun edge/main.ts`
 * with two workers on one port (each with its own NATS connection and its own
 * watch of the revoked sessions) in front of the real accounts service; after
 * the logout, requests on fresh connections (spread over both workers by the
 * kernel) are all refused within a second.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { freePort, NatsServer, type StartedScript, startScript, waitFor } from "@runnerly/kit/testing";
import { accountsService } from "../../../services/accounts/service.ts";
import { postTo, signUpAndLogIn } from "../../../services/accounts/test-support.ts";

setDefaultTimeout(40_000);

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
let nats: NatsServer;
let accounts: RunningService<Record<string, unknown>>;
let edge: StartedScript;
let base: string;

/** How many lines of the edge's output carry `msg`. */
const logged = (msg: string) =>
  edge
    .output()
    .split("\n")
    .filter((l) => l.includes(`"msg":"${msg}"`)).length;

/** `GET /api/accounts/me` on a connection of its own, so the kernel picks the worker. */
const me = (token: string) =>
  fetch(`${base}/api/accounts/me`, { headers: { authorization: `Bearer ${token}` }, keepalive: false });

beforeAll(async () => {
  nats = await NatsServer.start();
  const env = {
    NATS_URL: nats.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), "edge-workers-revocation-")),
    LOG_LEVEL: "silent",
  };
  accounts = (await startService(accountsService(env), { env, logger: silentLogger })) as never;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  edge = startScript([MAIN], {
    PATH: process.env.PATH ?? "",
    NATS_URL: nats.url,
    EDGE_PORT: String(port),
    EDGE_WORKERS: "2",
  });
  await waitFor(() => edge.output().includes(`edge listening on ${base}`), {
    timeoutMs: 15_000,
    what: "the edge's workers to listen",
  });
  await waitFor(() => logged("watching revoked sessions") === 2, {
    what: "both workers to watch the bucket",
  });
});

afterAll(async () => {
  if (edge && edge.proc.exitCode === null) {
    edge.proc.kill("SIGTERM");
    await edge.proc.exited;
  }
  await accounts?.stop();
  await nats?.stop();
});

test("after a logout, both worker processes refuse the access token within 1 s", async () => {
  const post = postTo(base);
  const { accessToken, refreshToken } = await signUpAndLogIn(post);
  const other = await signUpAndLogIn(post);
  const statuses = async (token: string) =>
    Promise.all(Array.from({ length: 16 }, async () => (await me(token)).status));
  expect(new Set(await statuses(accessToken))).toEqual(new Set([200]));

  expect((await post("/logout", { refreshToken })).status).toBe(204);
  await waitFor(async () => (await statuses(accessToken)).every((s) => s === 401), {
    timeoutMs: 1000,
    intervalMs: 10,
    what: "16 requests over fresh connections to be refused",
  });
  expect(new Set(await statuses(other.accessToken))).toEqual(new Set([200]));
});
