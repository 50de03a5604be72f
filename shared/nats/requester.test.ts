/**
 * The requester against a real nats-server: each reply reaches the
 * request it answers, a subject nobody serves and a silent one reject as
 * `nc.request` would (the same error classes), a reply that comes
 * after its request gave up is dropped, and the reply subscription comes back
 * and what `publish` refuses rejects the request.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { errors, headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { connect as connectNode } from "@nats-io/transport-node";
import { NatsServer } from "../testing/nats-server.ts";
import { waitFor } from "../testing/wait.ts";
import { Requester } from "./requester.ts";

const connect = (url: string) => connectNode({ servers: url, name: "test", maxReconnectAttempts: 0 });

let nats: NatsServer;
let nc: NatsConnection;
let requester: Requester;
const text = (m: Msg) => new TextDecoder().decode(m.data);
const bytes = (s: string) => new TextEncoder().encode(s);
const late: Msg[] = [];

beforeAll(async () => {
  nats = await NatsServer.start({ jetstream: false });
  nc = await connect(nats.url);
  // Echoes the body after the delay its `Delay-Ms` header asks for.
  nc.subscribe("echo", {
    callback(_err, m) {
      const delay = Number(m.headers?.get("Delay-Ms") ?? 0);
      const reply = () => m.respond(bytes(`${text(m)}:${m.headers?.get("Who") ?? ""}`));
      if (delay > 0) setTimeout(reply, delay);
      else reply();
    },
  });
  // Answers only after its asker stopped waiting; records that it did.
  nc.subscribe("late", {
    callback(_err, m) {
      setTimeout(() => {
        m.respond(bytes("too late"));
        late.push(m);
      }, 150);
    },
  });
  await nc.flush();
  requester = new Requester(nc);
});

afterAll(async () => {
  await nc.close();
  await nats.stop();
});

function withHeaders(values: Record<string, string>) {
  const h = headers();
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  return h;
}

describe("Requester", () => {
  test("many requests in flight at once each get their own reply, headers and body sent", async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        requester.request(
          "echo",
          bytes(String(i)),
          withHeaders({ Who: `c${i}`, "Delay-Ms": String(i % 3 === 0 ? 20 : 0) }),
          2000,
        ),
      ),
    );
    expect(replies.map(text)).toEqual(Array.from({ length: 200 }, (_, i) => `${i}:c${i}`));
    expect(requester.pending).toBe(0);
  });

  test("a subject nobody serves rejects as no responders, at once", async () => {
    const started = performance.now();
    const err = await requester.request("nobody.here", bytes(""), headers(), 5000).catch((e) => e);
    expect(err).toBeInstanceOf(errors.NoRespondersError);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(requester.pending).toBe(0);
  });

  test("a reply later than the timeout rejects as a timeout, and the late reply is dropped", async () => {
    const err = await requester.request("late", bytes("x"), headers(), 50).catch((e) => e);
    expect(err).toBeInstanceOf(errors.TimeoutError);
    expect(requester.pending).toBe(0);
    await waitFor(() => late.length === 1, { timeoutMs: 3000, what: "the late reply" });
    // The next request is answered by its own reply, not by the late one.
    const next = await requester.request("echo", bytes("after"), withHeaders({ Who: "n" }), 2000);
    expect(text(next)).toBe("after:n");
  });

  test("what publish refuses (a closed connection) rejects the request", async () => {
    const other = await connect(nats.url);
    const r = new Requester(other);
    expect(text(await r.request("echo", bytes("1"), withHeaders({ Who: "o" }), 2000))).toBe("1:o");
    await other.close();
    const err = await r.request("echo", bytes("2"), headers(), 2000).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("ClosedConnectionError");
    expect(r.pending).toBe(0);
  });
});
