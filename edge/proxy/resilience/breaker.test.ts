import { describe, expect, test } from "bun:test";
import { waitFor } from "../../test-utils.ts";
import { Breakers, type CircuitStateName, isOpenCircuit } from "./breaker.ts";

type R = "ok" | "fail";

function breakers(failures = 3, halfOpenAfterMs = 50) {
  const changes: [string, CircuitStateName][] = [];
  const b = new Breakers<R>(
    { failures, halfOpenAfterMs, onChange: (s, state) => void changes.push([s, state]) },
    (r) => r === "fail",
  );
  const run = (service: string, r: R) => b.run(service, () => Promise.resolve(r)).catch((err) => err);
  return { b, changes, run };
}

describe("Breakers", () => {
  test("opens after n failures in a row, fails fast, and a half-open probe's success closes it", async () => {
    const { b, changes, run } = breakers(3, 50);
    for (let i = 0; i < 3; i++) expect(await run("a", "fail")).toBe("fail");
    expect(b.state("a")).toBe("open");
    expect(isOpenCircuit(await run("a", "ok"))).toBe(true);
    expect(b.retryAfterSeconds("a")).toBe(1);
    expect(b.state("other")).toBe("closed"); // one circuit per service
    await waitFor(async () => (await run("a", "ok")) === "ok", { timeoutMs: 2000, what: "the probe" });
    expect(b.state("a")).toBe("closed");
    expect(changes).toEqual([
      ["a", "open"],
      ["a", "half-open"],
      ["a", "closed"],
    ]);
  });

  test("a success in between resets the count", async () => {
    const { b, run } = breakers(3);
    for (const r of ["fail", "fail", "ok", "fail", "fail"] as R[]) await run("a", r);
    expect(b.state("a")).toBe("closed");
  });

  test("a failed probe opens it again", async () => {
    const { b, run } = breakers(1, 30);
    await run("a", "fail");
    await waitFor(async () => (await run("a", "fail")) === "fail", { timeoutMs: 2000, what: "the probe" });
    expect(b.state("a")).toBe("open");
  });

  test("isFailure is told the service, so each service's failures can be judged on their own", async () => {
    const asked: [R, string][] = [];
    // Only `a`'s failures count (as when another service still has a healthy instance).
    const b = new Breakers<R>({ failures: 1, halfOpenAfterMs: 60_000 }, (r, service) => {
      asked.push([r, service]);
      return r === "fail" && service === "a";
    });
    await b.run("b", () => Promise.resolve<R>("fail"));
    expect(b.state("b")).toBe("closed");
    await b.run("a", () => Promise.resolve<R>("fail"));
    expect(b.state("a")).toBe("open");
    expect(asked).toEqual([
      ["fail", "b"],
      ["fail", "a"],
    ]);
  });

  test("reset() closes an open circuit at once (a new instance came up)", async () => {
    const { b, changes, run } = breakers(1, 60_000);
    await run("a", "fail");
    expect(b.state("a")).toBe("open");
    b.reset("a");
    expect(b.state("a")).toBe("closed");
    expect(await run("a", "ok")).toBe("ok");
    expect(changes.at(-1)).toEqual(["a", "closed"]);
  });
});
