/**
 * A libSQL server (sqld, Turso) through configuration alone: DATABASE_URL and
 * DATABASE_AUTH_TOKEN pick @libsql/client with that URL and token, a bad
 * scheme is a configuration error naming the key, and a server that cannot
 * be reached stops the store from opening, quickly, with a message naming
 * the URL. No libSQL server runs here: what reaches the wire is observed with
 * plain sockets that are not databases.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, serviceConfigSchema } from "../config/index.ts";
import { silentLogger } from "../log/logger.ts";
import * as schema from "../testing/fixture/schema.ts";
import { defaultDatabaseUrl, openStore, redactUrl, storeTarget } from "./index.ts";

const migrationsFolder = new URL("../testing/fixture/drizzle", import.meta.url).pathname;

/** The store a service opens for this environment: what startService passes to openStore. */
function targetOf(env: Record<string, string>) {
  const config = loadConfig(serviceConfigSchema, env);
  return storeTarget({
    url: config.DATABASE_URL ?? defaultDatabaseUrl(config.DATA_DIR, "runs"),
    authToken: config.DATABASE_AUTH_TOKEN,
    driver: config.DATABASE_DRIVER,
  });
}

/** A port nothing listens on (bound, then released). */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

describe("DATABASE_URL for a libSQL server", () => {
  const port = closedPort();
  test.each([
    ["libsql://db.example.turso.io", "turso-token"],
    ["https://db.example.com:8443", "sqld-token"],
    [`http://127.0.0.1:${port}`, "local-token"],
    ["wss://db.example.com", "ws-token"],
  ])("%s with a token selects @libsql/client with both", (url, token) => {
    expect(targetOf({ DATABASE_URL: url, DATABASE_AUTH_TOKEN: token })).toEqual({
      kind: "remote",
      driver: "libsql",
      url,
      authToken: token,
    });
    expect(
      targetOf({ DATABASE_URL: url, DATABASE_AUTH_TOKEN: token, DATABASE_DRIVER: "libsql" }).driver,
    ).toBe("libsql");
  });

  test("without a token (a local sqld) the token is simply absent", () => {
    expect(targetOf({ DATABASE_URL: "http://127.0.0.1:8080", DATABASE_AUTH_TOKEN: "" })).toMatchObject({
      driver: "libsql",
      authToken: undefined,
    });
  });

  test("without DATABASE_URL the store is a file under DATA_DIR on bun:sqlite", () => {
    expect(targetOf({ DATA_DIR: "/var/lib/runnerly" })).toEqual({
      kind: "file",
      driver: "bun-sqlite",
      url: "file:/var/lib/runnerly/runs.db",
      path: "/var/lib/runnerly/runs.db",
    });
  });

  test.each([
    "postgres://db.example.com/runs",
    "libsql:db.example",
    "db.sqlite",
    "ftp://x",
  ])("%s is a configuration error naming DATABASE_URL", (url) => {
    const fromEnv = () => targetOf({ DATABASE_URL: url });
    expect(fromEnv).toThrow(ConfigError);
    expect(fromEnv).toThrow(/DATABASE_URL/);
    // The store itself refuses it the same way when handed one directly.
    expect(() => storeTarget({ url })).toThrow(/DATABASE_URL: expected file:<path>, libsql:\/\/host/);
  });

  test("bun-sqlite with a server URL is a configuration error naming DATABASE_DRIVER", () => {
    expect(() =>
      targetOf({ DATABASE_URL: "libsql://db.example.turso.io", DATABASE_DRIVER: "bun-sqlite" }),
    ).toThrow(/DATABASE_DRIVER: bun-sqlite needs a file: URL/);
  });

  test("tokens never appear in messages", () => {
    expect(redactUrl("libsql://db.example?authToken=s3cret&tls=1")).toBe(
      "libsql://db.example?authToken=***&tls=1",
    );
    expect(redactUrl("https://user:s3cret@db.example")).toBe("https://user:***@db.example");
    expect(() => storeTarget({ url: "mysql://db?authToken=s3cret" })).not.toThrow(/s3cret/);
  });
});

describe("opening a store on a libSQL server that cannot answer", () => {
  const open = (url: string, authToken?: string, connectTimeoutMs?: number) =>
    openStore({ url, authToken, schema, migrationsFolder, logger: silentLogger, connectTimeoutMs });

  test("a closed port fails at once, naming the URL and what to check", async () => {
    const url = `http://127.0.0.1:${closedPort()}`;
    const started = performance.now();
    const error = await open(url, "local-token").then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain(`cannot reach the libSQL server at ${url} (DATABASE_URL)`);
    expect(error?.message).toContain("Check that the server is running and reachable");
    expect(error?.message).not.toContain("local-token");
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("a server that accepts but never answers fails after connectTimeoutMs, not never", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const url = `http://127.0.0.1:${silent.port}`;
      const started = performance.now();
      await expect(open(url, undefined, 300)).rejects.toThrow(
        `cannot reach the libSQL server at ${url} (DATABASE_URL): no answer within 300 ms`,
      );
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      silent.stop(true);
    }
  });

  test("the URL and token reach the wire; a refusal says to check DATABASE_AUTH_TOKEN", async () => {
    const seen: { path: string; authorization: string | null }[] = [];
    // Not a database: it records what the client sends and refuses it, as a server does for a bad token.
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        seen.push({ path: new URL(req.url).pathname, authorization: req.headers.get("authorization") });
        return new Response("Unauthorized", { status: 401 });
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const error = await open(url, "the-token").then(
        () => null,
        (err: unknown) => err as Error,
      );
      expect(error?.message).toContain(`cannot reach the libSQL server at ${url} (DATABASE_URL)`);
      expect(error?.message).toContain("check DATABASE_AUTH_TOKEN");
      expect(error?.message).not.toContain("the-token");
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.some((r) => r.authorization === "Bearer the-token")).toBe(true);
    } finally {
      server.stop(true);
    }
  });
});
