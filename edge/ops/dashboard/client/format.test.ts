import { expect, test } from "bun:test";
import type { InstanceBalance } from "../types.ts";
import { age, balanceState, balanceText, millis, rate, share, shortId } from "./format.ts";

/** A fixed clock: the page writes local time, the test the UTC time of day. */
const utc = (d: Date) => d.toISOString().slice(11, 19);
const healthy: InstanceBalance = {
  state: "healthy",
  ejectedUntil: null,
  inFlight: 2,
  latencyMs: 1.24,
  failures: 0,
  ejections: 0,
};
const ejected: InstanceBalance = {
  state: "ejected",
  ejectedUntil: "2026-05-01T12:00:30.000Z",
  inFlight: 0,
  latencyMs: null,
  failures: 3,
  ejections: 1,
};

test.each([
  [rate(0), "0"],
  [rate(0.44), "0.4"],
  [rate(12.4), "12"],
  [rate(1530), "1.5k"],
  [share(null), "–"],
  [share(0), "0 %"],
  [share(0.005), "0.5 %"],
  [share(0.123), "12 %"],
  [millis(null), "–"],
  [millis(0.42), "0.4 ms"],
  [millis(12.4), "12 ms"],
  [millis(1520), "1.5 s"],
  [age(12_400), "12 s"],
  [age(240_000), "4 min"],
  [age(3 * 3_600_000), "3 h"],
  [shortId("ABCDEFGHIJKLMNOP"), "ABCDEFGH…"],
  [shortId("short"), "short"],
  [balanceState(healthy), "healthy"],
  [balanceState(ejected, utc), "ejected until 12:00:30"],
  [balanceState({ state: "ejected", ejectedUntil: null }), "ejected"],
  [balanceState({ state: "probing", ejectedUntil: null }), "on probation"],
  [balanceText(healthy), "healthy · 2 in flight · latency 1.2 ms"],
  [balanceText(ejected, utc), "ejected until 12:00:30 · 0 in flight · 3 failures in a row"],
  [
    balanceText({ ...healthy, state: "probing", latencyMs: 240, failures: 1 }),
    "on probation · 2 in flight · latency 240 ms · 1 failure in a row",
  ],
])("%p is %p", (actual, expected) => {
  expect(actual).toBe(expected);
});
