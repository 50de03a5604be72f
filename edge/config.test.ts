import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  test("defaults", () => {
    expect(loadConfig({})).toEqual({
      NATS_URL: "nats://127.0.0.1:4222",
      EDGE_HOST: "127.0.0.1",
      EDGE_PORT: 8787,
      EDGE_TIMEOUT_MS: 10_000,
      EDGE_SWEEP_INTERVAL_MS: 1000,
    });
  });

  test("reads and coerces values; empty values count as unset", () => {
    const c = loadConfig({
      NATS_URL: "nats://a:4222, tls://b:4222",
      NATS_USER: "edge",
      NATS_PASS: "s3cret",
      EDGE_PORT: "9000",
      EDGE_TIMEOUT_MS: "2500",
      EDGE_HOST: "",
    });
    expect(c).toMatchObject({
      EDGE_PORT: 9000,
      EDGE_TIMEOUT_MS: 2500,
      EDGE_HOST: "127.0.0.1",
      NATS_USER: "edge",
    });
  });

  test("one error names every bad key", () => {
    let error: unknown;
    try {
      loadConfig({ NATS_URL: "http://x", EDGE_PORT: "99999", EDGE_TIMEOUT_MS: "soon" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    expect(e.problems.map((p) => p.key).sort()).toEqual(["EDGE_PORT", "EDGE_TIMEOUT_MS", "NATS_URL"]);
    for (const key of ["NATS_URL", "EDGE_PORT", "EDGE_TIMEOUT_MS"]) expect(e.message).toContain(key);
  });

  test("a password needs a user", () => {
    expect(() => loadConfig({ NATS_PASS: "x" })).toThrow(/NATS_USER/);
  });
});
