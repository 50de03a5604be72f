/**
 * One edge, three runtimes: the same routing cases (routing-cases.ts) over
 * real HTTP against the edge on Bun (NATS over TCP), on Deno and on workerd
 * (NATS over WebSocket). A runtime whose binary is missing fails here with
 * the command that installs it; it is never skipped.
 */
import { afterAll, beforeAll, describe, setDefaultTimeout, test } from "bun:test";
import type { RunningEdge } from "./edge-process.ts";
import { type Mesh, startMesh } from "./mesh.ts";
import { routingCases } from "./routing-cases.ts";
import { startBunEdge, startDenoEdge, startWorkerdEdge } from "./runtimes.ts";

// Room for a loaded 2-core machine; every wait inside has its own, shorter bound.
setDefaultTimeout(30_000);

const RUNTIMES = [
  ["Bun", startBunEdge],
  ["Deno", startDenoEdge],
  ["workerd", startWorkerdEdge],
] as const;

let mesh: Mesh;
beforeAll(async () => {
  mesh = await startMesh();
});
afterAll(() => mesh?.close());

for (const [runtime, start] of RUNTIMES) {
  describe(`the edge on ${runtime}`, () => {
    let edge: RunningEdge | undefined;
    let failure: unknown;
    beforeAll(async () => {
      edge = await start(mesh).catch((err: unknown) => {
        failure = err;
        return undefined;
      });
    });
    afterAll(() => edge?.stop());

    for (const c of routingCases) {
      test(c.name, async () => {
        // Each case fails with the start-up error (e.g. how to install the binary) rather than being skipped.
        if (!edge) throw failure instanceof Error ? failure : new Error(`the ${runtime} edge did not start`);
        await c.run({ base: edge.base, mesh, runtime: runtime.toLowerCase() });
      });
    }
  });
}
