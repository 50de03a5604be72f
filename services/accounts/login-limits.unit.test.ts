import { describe, expect, test } from "bun:test";
import { network } from "./login-attempts.ts";
import { live, lockAfter, lockedFor, parseCounter, withFailure } from "./login-limits.ts";

const policy = { free: 5, baseMs: 1000, maxMs: 900_000 };
const HOUR = 3_600_000;

describe("lock after the nth failure in a row", () => {
  const cases: [number, number][] = [
    [1, 0],
    [4, 0],
    [5, 1000],
    [6, 2000],
    [8, 8000],
    [14, 512_000],
    [15, 900_000],
    [10_000, 900_000],
  ];
  for (const [n, ms] of cases) test(`failure ${n}: ${ms} ms`, () => expect(lockAfter(policy, n)).toBe(ms));
});

describe("a counter", () => {
  test("counts failures in a row and locks from the fifth", () => {
    let c = null;
    for (let i = 0; i < 4; i++) c = withFailure(c, policy, HOUR, 1000);
    expect(c).toEqual({ n: 4, at: 1000, until: 0 });
    expect(lockedFor(c, 1000)).toBe(0);
    c = withFailure(c, policy, HOUR, 2000);
    expect(c).toEqual({ n: 5, at: 2000, until: 3000 });
    expect(lockedFor(c, 2500)).toBe(500);
    expect(lockedFor(c, 3000)).toBe(0);
  });

  test("is forgotten a window after its last failure", () => {
    const c = { n: 9, at: 0, until: 0 };
    expect(live(c, HOUR, HOUR)).toBe(c);
    expect(live(c, HOUR, HOUR + 1)).toBeNull();
    expect(withFailure(c, policy, HOUR, HOUR + 1).n).toBe(1);
  });

  test("an unreadable stored value counts as none", () => {
    expect(parseCounter('{"n":2,"at":5,"until":0}')).toEqual({ n: 2, at: 5, until: 0 });
    for (const bad of ["", "{", "null", '{"n":"2","at":5,"until":0}', '{"n":2.5,"at":5,"until":0}'])
      expect(parseCounter(bad)).toBeNull();
  });
});

describe("what an address counts as", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "unknown"],
    ["", "unknown"],
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:aaaa::1", "20010db800010002::/64"],
    ["2001:db8:1:2:bbbb:cccc:dddd:eeee", "20010db800010002::/64"],
    ["2001:db8:1:3::1", "20010db800010003::/64"],
  ];
  for (const [address, expected] of cases)
    test(`${address ?? "none"} → ${expected}`, () => expect(network(address)).toBe(expected));
});
