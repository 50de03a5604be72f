/**
 * A service's `/metrics` is for its operator's scraper on the direct port,
 * never for the public: against a real nats-server and the kit's fixture
 * service, no path through the edge (encoded dots and slashes included)
 * reaches it.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RunningService, silentLogger, startService } from "@runnerly/kit";
import { NatsServer, waitFor } from "@runnerly/kit/testing";
import { type fixtureSchema, fixtureService } from "@runnerly/kit/testing/fixture";
import { createEdge } from "../app.ts";

setDefaultTimeout(60_000);

let nats: NatsServer;
let nc: NatsConnection;
let fixture: RunningService<typeof fixtureSchema>;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
  fixture = (await startService(fixtureService(), {
    env: { NATS_URL: nats.url, DATA_DIR: mkdtempSync(join(tmpdir(), "metrics-route-")), LOG_LEVEL: "silent" },
    logger: silentLogger,
  })) as never;
});

afterAll(async () => {
  await fixture?.stop();
  await nc?.close();
  await nats?.stop();
});

test("the edge never routes a request to a service's /metrics", async () => {
  const edge = createEdge({ nc, logger: silentLogger });
  try {
    await edge.ready;
    await waitFor(() => edge.routes.match("/api/fixture/x"), { what: "the fixture route" });
    // The service does serve its figures on its own port.
    expect(await (await fetch(`${fixture.url}/metrics`)).text()).toContain("runnerly_");
    for (const path of [
      "/metrics",
      "/api/fixture/metrics",
      "/api/fixture/../metrics",
      "/api/fixture/%2e%2e/metrics",
      "/api/fixture/..%2fmetrics",
      "/api/fixture/%2E%2E%2Fmetrics",
      "/api/fixture/..%5cmetrics",
    ]) {
      const res = await edge.app.request(path);
      const body = await res.text();
      expect({ path, leaked: body.includes("runnerly_") }).toEqual({ path, leaked: false });
      if (path.includes("%2f") || path.includes("%2F") || path.includes("%5c")) expect(res.status).toBe(404);
    }
  } finally {
    await edge.close();
  }
});
