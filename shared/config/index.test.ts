import { describe, expect, test } from "bun:test";
import { z } from "zod";
import {
  ConfigError,
  isNatsServerList,
  loadConfig,
  type NatsTransport,
  serviceConfigSchema,
} from "./index.ts";

describe("loadConfig", () => {
  test("applies defaults and coerces numbers", () => {
    const cfg = loadConfig(serviceConfigSchema, { PORT: "8101" });
    expect(cfg.PORT).toBe(8101);
    expect(cfg.NATS_URL).toBe("nats://127.0.0.1:4222");
    expect(cfg.DATABASE_DRIVER).toBe("auto");
  });

  test("treats empty strings as unset", () => {
    expect(loadConfig(serviceConfigSchema, { PORT: "" }).PORT).toBe(0);
  });

  test("lists every bad key in one error", () => {
    let error: unknown;
    try {
      loadConfig(serviceConfigSchema, { PORT: "http", NATS_URL: "localhost", LOG_LEVEL: "loud" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).problems.map((p) => p.key).sort();
    expect(keys).toEqual(["LOG_LEVEL", "NATS_URL", "PORT"]);
    expect((error as ConfigError).message).toContain("NATS_URL");
    expect((error as ConfigError).message).toContain("PORT");
  });

  test("reports missing required keys", () => {
    expect(() => loadConfig(z.object({ SECRET: z.string() }), {})).toThrow(/SECRET/);
  });

  test("accepts several NATS servers", () => {
    const cfg = loadConfig(serviceConfigSchema, { NATS_URL: "nats://a:4222, nats://b:4222" });
    expect(cfg.NATS_URL).toContain("nats://b:4222");
  });

  test("TLS files must exist, and a client certificate comes with its key", () => {
    const here = import.meta.path;
    expect(loadConfig(serviceConfigSchema, { NATS_TLS_CA: here }).NATS_TLS_CA).toBe(here);
    let error: unknown;
    try {
      loadConfig(serviceConfigSchema, { NATS_TLS_CA: "/no/such/ca.pem", NATS_TLS_CERT: here });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems.map((p) => p.key).sort()).toEqual(["NATS_TLS_CA", "NATS_TLS_KEY"]);
    expect(() => loadConfig(serviceConfigSchema, { NATS_TLS_CERT: here })).toThrow(/NATS_TLS_KEY: required/);
    expect(() => loadConfig(serviceConfigSchema, { NATS_TLS_KEY: here })).toThrow(/NATS_TLS_CERT: required/);
    expect(() => loadConfig(serviceConfigSchema, { NATS_CREDS: "/no/such.creds" })).toThrow(
      /NATS_CREDS: no such file \(expected a \.creds file\)/,
    );
  });

  test("a user comes with a password, and the password is never printed back", () => {
    let error: unknown;
    try {
      loadConfig(serviceConfigSchema, { NATS_PASS: "hunter2-secret", PORT: "x" }, "runs");
    } catch (e) {
      error = e;
    }
    const message = (error as ConfigError).message;
    expect(message).toStartWith("Invalid runs configuration (2 problems):");
    expect(message).toContain("NATS_USER: required with NATS_PASS");
    expect(message).toContain('PORT: Invalid input: expected number, received NaN (got "x")');
    expect(message).not.toContain("hunter2");
    expect(message).toEndWith("Fix these environment variables (README.md, Configuration) and start again.");
  });

  test("a pull user comes with the password it shares", () => {
    expect(() => loadConfig(serviceConfigSchema, { NATS_PULL_USER: "runs.pull" }, "runs")).toThrow(
      "NATS_PASS: required with NATS_PULL_USER",
    );
    const cfg = loadConfig(serviceConfigSchema, {
      NATS_USER: "runs",
      NATS_PASS: "secret",
      NATS_PULL_USER: "runs.pull",
    });
    expect(cfg.NATS_PULL_USER).toBe("runs.pull");
  });

  test("blank values count as unset", () => {
    expect(loadConfig(serviceConfigSchema, { NATS_URL: "  ", LOG_LEVEL: "" }).NATS_URL).toBe(
      "nats://127.0.0.1:4222",
    );
  });
});

describe("NATS servers: one rule, by how the runtime connects", () => {
  const cases: [string, NatsTransport, boolean][] = [
    ["nats://127.0.0.1:4222", "tcp", true],
    ["tls://nats.example.com:4222", "tcp", true],
    ["127.0.0.1:4222", "tcp", true],
    ["[::1]:4222", "tcp", true],
    ["nats://a:4222, b:4222 ,tls://c", "tcp", true],
    ["ws://127.0.0.1:8080", "tcp", false],
    ["wss://nats.example.com", "tcp", false],
    ["localhost", "tcp", false],
    ["127.0.0.1:99999", "tcp", false],
    ["http://127.0.0.1:4222", "tcp", false],
    ["nats://a:4222,", "tcp", false],
    ["ws://127.0.0.1:8080", "websocket", true],
    ["wss://n1.example.com, wss://n2.example.com", "websocket", true],
    ["nats://127.0.0.1:4222", "websocket", false],
    ["127.0.0.1:8080", "websocket", false],
    ["https://nats.example.com", "websocket", false],
  ];
  test.each(cases)("%s over %s: %p", (value, transport, ok) => {
    expect(isNatsServerList(value, transport)).toBe(ok);
  });

  test("a service's NATS_URL is TCP: a WebSocket address is refused, saying where it belongs", () => {
    expect(() => loadConfig(serviceConfigSchema, { NATS_URL: "ws://127.0.0.1:8080" })).toThrow(
      /NATS_URL: must be nats:\/\/ or tls:\/\/ URLs or host:port.*NATS_WS_URL/,
    );
  });
});

describe("loadOrExit", () => {
  const load = new URL("./load.ts", import.meta.url).pathname;
  // A real process: what the edge, its workers, Deno's entry and the start scripts do at start-up.
  const run = async (env: Record<string, string>) => {
    const script = `
      import { z } from "zod";
      import { loadOrExit } from ${JSON.stringify(load)};
      const schema = z.object({ PORT: z.coerce.number().int().min(1), MODE: z.enum(["a", "b"]).default("a") });
      const cfg = loadOrExit(schema, process.env, { subject: "demo" });
      console.log("started with", JSON.stringify(cfg));
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], {
      cwd: import.meta.dir,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    return { code, out, err };
  };

  test("a good environment starts with its values", async () => {
    const { code, out } = await run({ PORT: "8101" });
    expect(code).toBe(0);
    expect(out).toContain('started with {"PORT":8101,"MODE":"a"}');
  });

  test("a bad one exits 1 before starting, with one message naming every bad key and what to do", async () => {
    const { code, out, err } = await run({ PORT: "0", MODE: "c" });
    expect(code).toBe(1);
    expect(out).not.toContain("started");
    expect(err).toContain("Invalid demo configuration (2 problems):");
    expect(err).toContain("  - PORT: ");
    expect(err).toContain("  - MODE: ");
    expect(err).toContain("start again");
  });
});
