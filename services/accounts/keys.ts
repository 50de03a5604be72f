#!/usr/bin/env bun
/**
 * Signing-key administration over NATS (NATS_URL and the usual credential
 * variables): `bun services/accounts/keys.ts list | rotate | remove <kid>`.
 * Rotate, wait until the old key's tokens have expired (ACCESS_TOKEN_TTL_S),
 * then remove the old key from the JWKS.
 */

import type { NatsConnection } from "@nats-io/nats-core";
import {
  connectNatsWithin,
  createRpcClient,
  loadConfig,
  MeshError,
  natsOptionsFrom,
  serviceConfigSchema,
  silentLogger,
} from "@runnerly/kit";
import { accountsRpc, type SigningKey } from "./contract.ts";

const USAGE = "usage: bun services/accounts/keys.ts list | rotate | remove <kid>";

const describe = (k: SigningKey) =>
  [
    k.kid.padEnd(44),
    k.current ? "current" : k.removedAt ? "removed" : "retired",
    `created ${k.createdAt}`,
    k.retiredAt ? `retired ${k.retiredAt}` : "",
    k.removedAt ? `removed ${k.removedAt}` : "",
  ]
    .filter(Boolean)
    .join("  ");

async function main([command, kid]: string[]): Promise<number> {
  if (!command || !["list", "rotate", "remove"].includes(command) || (command === "remove" && !kid)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig(serviceConfigSchema);
  let nc: NatsConnection;
  try {
    nc = await connectNatsWithin(natsOptionsFrom(config, "accounts-keys", silentLogger), 5000);
  } catch (err) {
    console.error(`keys ${command}: cannot reach NATS at ${config.NATS_URL} (${String(err)}); set NATS_URL`);
    return 1;
  }
  try {
    const rpc = createRpcClient(nc, accountsRpc, { timeoutMs: 10_000 });
    if (command === "list") for (const k of await rpc.listKeys({})) console.log(describe(k));
    if (command === "rotate") console.log(describe(await rpc.rotateKey({})));
    if (command === "remove") console.log(describe(await rpc.removeKey({ kid: kid! })));
    return 0;
  } catch (err) {
    const why = err instanceof MeshError ? (err.detail ?? err.title) : String(err);
    console.error(`keys ${command}: ${why}`);
    return 1;
  } finally {
    await nc.close();
  }
}

process.exit(await main(process.argv.slice(2)));
