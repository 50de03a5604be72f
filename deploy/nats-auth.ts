#!/usr/bin/env bun
/**
 * The NATS users of a deployment, from the service folders: what the dev
 * launcher generates on every start, for servers it does not run. One user per
 * `services/<name>` (permissions from its definition), `edge`, `operator` and
 * `provisioner`.
 *
 *   bun deploy/nats-auth.ts --dir DIR --url nats://nats-1:4222,nats://nats-2:4222 \
 *     [--split DIR] [--owner UID:GID] [--tls-ca FILE] [--services DIR]
 *
 *   --dir       writes auth.conf (the `authorization` block, bcrypt hashes; nats-server
 *               includes it), creds/<user>.env (NATS_USER, NATS_PASS, NATS_URL) and
 *               access.json. Run again, it keeps every password: creds stay valid.
 *   --url       the servers clients connect to, written into every creds file
 *   --split     for each <user> with a directory DIR/<user>, writes DIR/<user>/nats.env:
 *               compose mounts one volume per user there, so a container sees only its own
 *   --owner     owner of the split files (the image's `bun` user, 1000:1000)
 *   --tls-ca    the CA file clients verify the servers with (NATS_TLS_CA in the creds)
 *   --services  the folder of services (default: this repository's services/)
 *
 * Every file is mode 0600. The edge's access follows EDGE_AUTH_JWKS_SUBJECT and
 * EDGE_RATE_LIMIT_BUCKET from the environment, as in the dev launcher.
 */
import { chownSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readNatsAuthState, writeNatsAuth } from "@runnerly/kit/security";
import { describeServices } from "../scripts/dev/nats-access.ts";
import { edgeAccessFrom } from "../scripts/dev/nats-security.ts";
import { findServices } from "../scripts/dev/services.ts";

const USAGE =
  "usage: bun deploy/nats-auth.ts --dir DIR --url nats://host:4222[,…] [--split DIR] [--owner UID:GID] [--tls-ca FILE] [--services DIR]";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    dir: { type: "string" },
    url: { type: "string" },
    split: { type: "string" },
    owner: { type: "string" },
    "tls-ca": { type: "string" },
    services: { type: "string" },
  },
});

if (!values.dir || !values.url) fail(USAGE);
const urls = values.url.split(",").map((u) => u.trim());
const badUrl = urls.find((u) => !/^(nats|tls):\/\/[^\s,]+$/.test(u));
if (badUrl !== undefined) fail(`--url: expected nats:// or tls:// URLs, comma-separated; got "${badUrl}"`);
const owner = values.owner ? parseOwner(values.owner) : null;

const servicesDir = resolve(values.services ?? join(import.meta.dir, "..", "services"));
const described = await describeServices(findServices(servicesDir));
if (described.length === 0) fail(`no services found under ${servicesDir} (*/main.ts)`);
for (const d of described) if (d.warning) console.error(`warning: ${d.warning}`);

const dir = resolve(values.dir);
const auth = await writeNatsAuth(dir, {
  services: described.map((d) => d.access),
  added: readNatsAuthState(dir)?.added ?? [],
  connection: { NATS_URL: urls.join(","), ...(values["tls-ca"] ? { NATS_TLS_CA: values["tls-ca"] } : {}) },
  edge: edgeAccessFrom(process.env),
});
console.log(`${auth.authFile}: ${auth.users.map((u) => u.user).join(", ")}`);

if (values.split) {
  const splitDir = resolve(values.split);
  for (const { user } of auth.users) {
    const target = join(splitDir, user);
    if (!existsSync(target) || !statSync(target).isDirectory()) continue;
    const file = join(target, "nats.env");
    writePrivate(file, readFileSync(join(auth.credsDir, `${user}.env`), "utf8"), owner);
    console.log(`${file}: ${user}`);
  }
}

/** Replaces the file in one step, readable by its owner only. */
function writePrivate(file: string, text: string, by: { uid: number; gid: number } | null): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  if (by) chownSync(tmp, by.uid, by.gid);
  renameSync(tmp, file);
}

function parseOwner(text: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) fail(`--owner: expected UID:GID in numbers, got "${text}"`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

function fail(message: string): never {
  console.error(`✘ ${message}`);
  process.exit(2);
}
