import { expect, test } from "bun:test";
import type { InstanceBalance } from "../types.ts";
import {
  age,
  ago,
  balanceState,
  balanceText,
  budget,
  count,
  millis,
  percentage,
  rate,
  share,
  shortId,
  times,
} from "./format.ts";

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
  // Honest figures: rounded, never negative, in the singular when there is one.
  [times(130.434783), "130×"],
  [times(14.4), "14×"],
  [times(1.52), "1.5×"],
  [times(null), "–"],
  [percentage(86.957), "86.9 %"],
  [percentage(99.3), "99.3 %"],
  [percentage(99.95), "99.95 %"],
  [percentage(99.999), "99.99 %"],
  [percentage(100), "100 %"],
  [budget(-12943), "exhausted"],
  [budget(0), "exhausted"],
  [budget(0.42), "0.4 %"],
  [budget(43.4), "43 %"],
  [count(1, "request"), "1 request"],
  [count(0, "request"), "0 requests"],
  [count(2, "instance"), "2 instances"],
  // "Ago" from the figure's own time: 13 s later it says so.
  [ago("2026-05-01T12:00:00.000Z", Date.parse("2026-05-01T12:00:00.400Z")), "just now"],
  [ago("2026-05-01T12:00:00.000Z", Date.parse("2026-05-01T12:00:13.000Z")), "13 s ago"],
  [ago(0, 240_000), "4 min ago"],
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
