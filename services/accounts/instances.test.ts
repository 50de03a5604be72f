import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "@runnerly/kit/testing";
import { decodeProtectedHeader } from "jose";
import type { Jwks } from "./contract.ts";
import {
  freshEmail,
  type Instance,
  rpcOf,
  signUpAndLogIn,
  startAccounts,
  verifyLikeEdge,
} from "./test-support.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let a: Instance;
let b: Instance;
const dataDir = mkdtempSync(join(tmpdir(), "accounts-pair-"));

// Each instance's own HTTP port, so the test chooses which instance answers
// (through NATS the queue group picks one).
const post = async (via: Instance, path: string, json: unknown) =>
  fetch(`${via.url}/api/accounts${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(json),
  });
const jwksOf = async (via: Instance) =>
  (await (await fetch(`${via.url}/api/accounts/.well-known/jwks.json`)).json()) as Jwks;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  // Both start at once on a new file: both find no key and race to create one.
  [a, b] = await Promise.all([startAccounts(nats.url, { dataDir }), startAccounts(nats.url, { dataDir })]);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await nc?.close();
  await nats?.stop();
});

test("two instances starting together on one file end up with one signing key", async () => {
  expect(readdirSync(dataDir).filter((f) => f.endsWith(".db"))).toEqual(["accounts.db"]);
  // Every key ever made is listed (retired ones too): a lost race would show as a second row.
  expect(await rpcOf(nc).listKeys({})).toHaveLength(1);
  const [ja, jb] = [await jwksOf(a), await jwksOf(b)];
  expect(ja.keys).toHaveLength(1);
  expect(jb).toEqual(ja);
});

/** A new account's first tokens, issued by `via`. */
const newAccount = (via: Instance) =>
  signUpAndLogIn((path, json) => post(via, path, json), freshEmail("pair"));

test("a token issued by one instance verifies against the JWKS served by the other", async () => {
  const tokens = await newAccount(a);
  const { payload } = await verifyLikeEdge(tokens.accessToken, await jwksOf(b));
  expect(payload.sub).toBe(tokens.user.id);

  // The refresh token issued by a is used up through b, and its reuse caught by a.
  const viaB = await post(b, "/refresh", { refreshToken: tokens.refreshToken });
  expect(viaB.status).toBe(200);
  expect((await post(a, "/refresh", { refreshToken: tokens.refreshToken })).status).toBe(401);
});

test("a rotation through either instance is used by both at once", async () => {
  const rotated = await rpcOf(nc).rotateKey({});
  for (const via of [a, b]) {
    const { accessToken } = await newAccount(via);
    expect(decodeProtectedHeader(accessToken).kid).toBe(rotated.kid);
    for (const jwksVia of [a, b]) await verifyLikeEdge(accessToken, await jwksOf(jwksVia));
  }
  expect((await jwksOf(a)).keys.map((k) => k.kid)).toEqual((await jwksOf(b)).keys.map((k) => k.kid));
});
