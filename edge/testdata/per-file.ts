/**
 * What most of the edge's integration test files set up the same way: one
 * nats-server (no JetStream) started before the file's first test and stopped
 * after its last, and the file's cleanups, run after each test. Only for
 * `bun test` files (it registers bun:test hooks).
 */
import { afterAll, afterEach, beforeAll } from "bun:test";
import { NatsServer } from "@runnerly/kit/testing";
import { cleanups } from "../test-utils.ts";

/**
 * @example
 * const { server, cleanup } = natsPerFile();
 * test("…", async () => { const nc = await connect(server().url); cleanup.add(() => nc.close()); });
 */
export function natsPerFile(): { server(): NatsServer; cleanup: ReturnType<typeof cleanups> } {
  let nats: NatsServer | undefined;
  const cleanup = cleanups();
  beforeAll(async () => {
    nats = await NatsServer.start({ jetstream: false });
  });
  afterEach(() => cleanup.run());
  afterAll(() => nats?.stop());
  return {
    server() {
      if (!nats) throw new Error("the file's nats-server is not started (use it inside a test)");
      return nats;
    },
    cleanup,
  };
}
