/** Reading the dev launcher's output: which PID each member was started with. */
import { expect, test } from "bun:test";
import { startedPids } from "./real-stack.ts";

const LOG = [
  "› starting nats-server (JetStream store in /x/nats, 7 users)…",
  "[nats]     › started (pid 8662)",
  "[accounts] › started (pid 8671)",
  "[runs]     › started (pid 8673)",
  "[edge]     info  edge listening on http://127.0.0.1:18787 workers=1 pids=[8709]",
  "[runs]     › exited (code 1); restarting in 500 ms",
  "\u001b[36m[runs]    \u001b[0m \u001b[2m› started (pid 9001)\u001b[0m",
].join("\n");

test("each member's PID is the one of its last start, colour codes or not", () => {
  expect(Object.fromEntries(startedPids(LOG))).toEqual({ nats: 8662, accounts: 8671, runs: 9001 });
});

test("a log without start lines has no PIDs", () => {
  expect(startedPids("✔ Runnerly ready — edge http://127.0.0.1:8787").size).toBe(0);
});
