import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultDatabaseUrl, openStore, silentLogger } from "@runnerly/kit";
import * as schema from "./db/schema.ts";
import { KeyRing } from "./signing-keys.ts";

const dir = mkdtempSync(join(tmpdir(), "accounts-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const migrationsFolder = new URL("./drizzle", import.meta.url).pathname;

/** Two stores on one file, as two instances of the service would have. */
async function pairOnOneFile(name: string) {
  const url = defaultDatabaseUrl(dir, name);
  const open = () => openStore({ url, schema, migrationsFolder, logger: silentLogger });
  const stores = [await open(), await open()];
  return {
    rings: stores.map((s) => new KeyRing(s, silentLogger)),
    close: () => Promise.all(stores.map((s) => s.close())),
  };
}

test("first use from two instances at once creates exactly one key", async () => {
  const { rings, close } = await pairOnOneFile("first-use");
  const got = await Promise.all(rings.flatMap((r) => [r.current(), r.current(), r.current()]));
  expect(new Set(got.map((k) => k.kid)).size).toBe(1);
  expect(await rings[0]!.list()).toHaveLength(1);
  await close();
});

test("concurrent rotations leave one current key and every other retired", async () => {
  const { rings, close } = await pairOnOneFile("rotations");
  await Promise.all(rings.flatMap((r) => [r.rotate(), r.rotate()]));
  const keys = await rings[1]!.list();
  expect(keys.filter((k) => k.current)).toHaveLength(1);
  expect(keys[0]!.current).toBe(true);
  expect((await rings[0]!.current()).kid).toBe(keys[0]!.kid);
  expect((await rings[1]!.jwks()).keys.map((k) => k.kid)).toEqual(keys.map((k) => k.kid));
  await close();
});
