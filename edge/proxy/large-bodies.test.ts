import { expect, test } from "bun:test";
import { MeshError } from "@runnerly/kit/web";
import { type Admission, LargeBodies } from "./large-bodies.ts";

const MiB = 1024 * 1024;

test("small bodies are never counted; a caller's second large body to a service is a 429 until the first is done", () => {
  const bodies = new LargeBodies({ bytes: MiB, perCaller: 1, perInstance: 2 });
  for (let i = 0; i < 10; i++) expect(bodies.admit("runs", "ann", MiB - 1, 1)).not.toBeInstanceOf(MeshError);
  expect(bodies.inFlight("runs")).toBe(0);
  const first = bodies.admit("runs", "ann", 5 * MiB, 1) as Admission;
  expect(first).not.toBeInstanceOf(MeshError);
  const second = bodies.admit("runs", "ann", MiB, 1) as MeshError;
  expect(second).toBeInstanceOf(MeshError);
  expect(second.status).toBe(429);
  expect(second.headers["retry-after"]).toBe("1");
  // Another service, or another caller, is not affected.
  expect(bodies.admit("plans", "ann", MiB, 1)).not.toBeInstanceOf(MeshError);
  expect(bodies.admit("runs", "bob", MiB, 1)).not.toBeInstanceOf(MeshError);
  first.release();
  first.release();
  expect(bodies.inFlight("runs")).toBe(1);
  expect(bodies.admit("runs", "ann", MiB, 1)).not.toBeInstanceOf(MeshError);
});

test("a service takes at most perInstance large bodies per instance at once; beyond, 503 with Retry-After", () => {
  const bodies = new LargeBodies({ bytes: MiB, perCaller: 1, perInstance: 2 });
  const admitted = ["a", "b"].map((c) => bodies.admit("runs", c, MiB, 1)) as Admission[];
  const refused = bodies.admit("runs", "c", MiB, 1) as MeshError;
  expect(refused.status).toBe(503);
  expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
  // With two instances there is room for four.
  expect(bodies.admit("runs", "c", MiB, 2)).not.toBeInstanceOf(MeshError);
  for (const a of admitted) a.release();
  expect(bodies.inFlight("runs")).toBe(1);
});

test("bytes 0 turns the limit off", () => {
  const bodies = new LargeBodies({ bytes: 0, perCaller: 1, perInstance: 1 });
  for (let i = 0; i < 5; i++) expect(bodies.admit("runs", "ann", 100 * MiB, 1)).not.toBeInstanceOf(MeshError);
});
