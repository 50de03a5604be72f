import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { MeshError } from "@runnerly/kit";
import { NatsServer, runScript } from "@runnerly/kit/testing";
import { decodeProtectedHeader } from "jose";
import { signingKeys } from "./db/schema.ts";
import { type Instance, rpcOf, signup, startAccounts, verifyLikeEdge } from "./test-support.ts";

setDefaultTimeout(30_000);

let nats: NatsServer;
let nc: NatsConnection;
let accounts: Instance;
let rpc: ReturnType<typeof rpcOf>;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  accounts = await startAccounts(nats.url);
  rpc = rpcOf(nc);
});

afterAll(async () => {
  await accounts?.stop();
  await nc?.close();
  await nats?.stop();
});

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
const rpcError = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => err as MeshError,
  );

describe("key rotation with overlap", () => {
  test("rotate, both keys verify, remove the old one, refuse to remove the current one", async () => {
    const [first] = (await rpc.jwks({})).keys;
    const oldToken = (await signup(nc)).accessToken;
    expect(kidOf(oldToken)).toBe(first!.kid);

    const rotated = await rpc.rotateKey({});
    expect(rotated).toMatchObject({ current: true, retiredAt: null, removedAt: null });
    expect(rotated.kid).not.toBe(first!.kid);

    const newToken = (await signup(nc)).accessToken;
    expect(kidOf(newToken)).toBe(rotated.kid);
    const both = await rpc.jwks({});
    expect(both.keys.map((k) => k.kid)).toEqual([rotated.kid, first!.kid]);
    await verifyLikeEdge(oldToken, both);
    await verifyLikeEdge(newToken, both);

    const refused = await rpcError(rpc.removeKey({ kid: rotated.kid }));
    expect(refused).toBeInstanceOf(MeshError);
    expect(refused?.status).toBe(409);

    const removed = await rpc.removeKey({ kid: first!.kid });
    expect(removed).toMatchObject({ kid: first!.kid, current: false });
    expect(removed.removedAt).not.toBeNull();
    const after = await rpc.jwks({});
    expect(after.keys.map((k) => k.kid)).toEqual([rotated.kid]);
    await expect(verifyLikeEdge(oldToken, after)).rejects.toThrow();
    await verifyLikeEdge(newToken, after);

    // Removing again changes nothing; the list keeps the history.
    expect((await rpc.removeKey({ kid: first!.kid })).removedAt).toBe(removed.removedAt);
    const list = await rpc.listKeys({});
    expect(list.map((k) => [k.kid, k.current, k.removedAt !== null])).toEqual([
      [rotated.kid, true, false],
      [first!.kid, false, true],
    ]);
  });

  test("an unknown kid is a 404; a missing kid is a 400", async () => {
    expect((await rpcError(rpc.removeKey({ kid: "no-such-key" })))?.status).toBe(404);
    const raw = await nc.request("svc.accounts.rpc.removeKey", "{}");
    expect(MeshError.fromServiceReply(raw.headers, raw.data)?.status).toBe(400);
  });

  test("the private half of a retired key is erased", async () => {
    const rows = await accounts.store.db.select().from(signingKeys);
    for (const r of rows) expect(r.privateJwk === null).toBe(r.retiredAt !== null);
  });
});

describe("keys.ts command", () => {
  const run = (...args: string[]) =>
    runScript(join(import.meta.dir, "keys.ts"), args, { ...process.env, NATS_URL: nats.url });

  test("list, rotate, remove over NATS", async () => {
    const before = await rpc.listKeys({});
    const listed = await run("list");
    expect(listed.code).toBe(0);
    for (const k of before) expect(listed.out).toContain(k.kid);

    const rotated = await run("rotate");
    expect(rotated.code).toBe(0);
    const current = (await rpc.listKeys({})).find((k) => k.current)!;
    expect(rotated.out).toContain(current.kid);
    expect(rotated.out).toContain("current");

    const previous = before.find((k) => k.current)!;
    const removed = await run("remove", previous.kid);
    expect(removed.code).toBe(0);
    expect(removed.out).toContain("removed");

    const refused = await run("remove", current.kid);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("current signing key");

    expect((await run()).code).toBe(2);
    expect((await run("remove")).code).toBe(2);
  });
});
