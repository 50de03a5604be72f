/** The wrk output parser and the report's arithmetic; no benchmark figure is asserted here. */
import { describe, expect, test } from "bun:test";
import { combinedCeiling, median, percentile, ratio } from "./lib/stats.ts";
import { errorCount, errorDetail, parseWrk, parseWrkDuration, WrkParseError } from "./lib/wrk.ts";

// Captured from wrk 4.1.0 (Debian) against a local Bun server.
const CLEAN = `Running 2s test @ http://127.0.0.1:18181/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   773.78us  706.82us   8.75ms   93.62%
    Req/Sec    67.99k     4.86k   72.70k    90.00%
  Latency Distribution
     50%  648.00us
     75%  842.00us
     90%    1.12ms
     99%    4.12ms
  135078 requests in 2.00s, 16.49MB read
Requests/sec:  67444.34
Transfer/sec:      8.23MB
`;

const WITH_ERRORS = `Running 1s test @ http://127.0.0.1:18181/x
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s   353.00ms    2.00s    75.00%
    Req/Sec    12.00      3.00     20.00     80.00%
  Latency Distribution
     50%    1.10s
     75%    1.50s
     90%    1.90s
     99%    2.00s
  12 requests in 1.10s, 8.93KB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:     10.91
Transfer/sec:      8.12KB
`;

describe("parseWrkDuration", () => {
  test.each([
    ["648.00us", 0.648],
    ["1.12ms", 1.12],
    ["2.00s", 2000],
    ["1.50m", 90_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseWrkDuration(text)).toBeCloseTo(ms, 9);
  });

  test("rejects what is not a duration", () => {
    expect(() => parseWrkDuration("12 ms")).toThrow("not a wrk duration");
  });
});

describe("parseWrk", () => {
  test("reads rate, counts and the latency distribution", () => {
    const r = parseWrk(CLEAN);
    expect(r.requestsPerSec).toBe(67444.34);
    expect(r.requests).toBe(135078);
    expect(r.seconds).toBe(2);
    expect(r.latencyMs.avg).toBeCloseTo(0.77378, 9);
    expect(r.latencyMs.max).toBeCloseTo(8.75, 9);
    expect(r.latencyMs.p50).toBeCloseTo(0.648, 9);
    expect(r.latencyMs.p75).toBeCloseTo(0.842, 9);
    expect(r.latencyMs.p90).toBeCloseTo(1.12, 9);
    expect(r.latencyMs.p99).toBeCloseTo(4.12, 9);
    expect(errorCount(r)).toBe(0);
  });

  test("reads socket errors and non-2xx responses", () => {
    const r = parseWrk(WITH_ERRORS);
    expect(r.errors).toEqual({ connect: 1, read: 2, write: 3, timeout: 4, non2xx: 5 });
    expect(errorCount(r)).toBe(15);
    expect(r.latencyMs.p99).toBe(2000);
    expect(r.seconds).toBeCloseTo(1.1, 9);
  });

  test("takes the script's count of answers outside 2xx over wrk's own (which skips 3xx)", () => {
    const r = parseWrk(
      WITH_ERRORS.replace(
        "Transfer/sec:      8.12KB",
        "Transfer/sec:      8.12KB\nResponses not 2xx: 7 (302: 2, 503: 5)",
      ),
    );
    expect(r.errors.non2xx).toBe(7);
    expect(errorCount(r)).toBe(17);
    expect(errorDetail(r)).toBe("1 connect, 2 read, 3 write, 4 timeouts, 7 not 2xx (302: 2, 503: 5)");
  });

  test("names what is missing instead of returning zeros", () => {
    expect(() => parseWrk(CLEAN.replace(/^\s+99%.*$/m, ""))).toThrow(WrkParseError);
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(
      "Latency stats line",
    );
  });
});

describe("report arithmetic", () => {
  test.each([
    [[], Number.NaN],
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
  ])("median of %j is %d", (values, expected) => {
    expect(median(values)).toEqual(expected);
  });

  test("median does not reorder its input", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  test("percentile is nearest-rank", () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  test("ratio is NaN against a missing or zero figure", () => {
    expect(ratio(45_000, 18_000)).toBe(2.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });

  test("combined ceiling adds the per-request costs", () => {
    expect(combinedCeiling(100_000, 50_000)).toBeCloseTo(33_333.333, 3);
    expect(combinedCeiling(60_000, 60_000)).toBe(30_000);
    expect(combinedCeiling(0, 50_000)).toBeNaN();
  });
});
