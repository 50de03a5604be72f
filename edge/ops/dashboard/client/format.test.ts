import { expect, test } from "bun:test";
import { age, millis, rate, share, shortId } from "./format.ts";

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
])("%p is %p", (actual, expected) => {
  expect(actual).toBe(expected);
});
