import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { ConfigError, loadConfig, serviceConfigSchema } from "./index.ts";

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
  });
});
