import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type Msg, type NatsConnection, headers as natsHeaders } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../testing/nats-server.ts";
import { headersOf, MeshHeaders, rawHeaderBlock } from "./headers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("MeshHeaders", () => {
  test("encodes the block nats-core decodes to the same fields, repeated names included", () => {
    const h = new MeshHeaders();
    h.append("Http-Method", "GET");
    h.append("accept", " text/html ");
    h.append("x-multi", "a");
    h.append("x-multi", "b");
    const text = new TextDecoder().decode(h.encode());
    expect(text).toBe(
      "NATS/1.0\r\nHttp-Method: GET\r\naccept: text/html\r\nx-multi: a\r\nx-multi: b\r\n\r\n",
    );
    const back = MeshHeaders.decode(h.encode());
    expect([...back]).toEqual([
      ["Http-Method", ["GET"]],
      ["accept", ["text/html"]],
      ["x-multi", ["a", "b"]],
    ]);
  });

  test("decodes what nats-core encodes, status line included", () => {
    const n = natsHeaders(503, "No Responders");
    n.append("Nats-Service-Error-Code", "503");
    const h = MeshHeaders.decode((n as unknown as { encode(): Uint8Array }).encode());
    expect(h.code).toBe(503);
    expect(h.description).toBe("No Responders");
    expect(h.get("Nats-Service-Error-Code")).toBe("503");
    expect(MeshHeaders.decode(bytes("NATS/1.0\r\nno-colon\r\nA: 1\r\n\r\n")).keys()).toEqual(["A"]);
  });

  test("get matches exactly unless asked to ignore case; set replaces; delete removes every value", () => {
    const h = new MeshHeaders();
    h.append("Mesh-User", "u1");
    expect(h.get("mesh-user")).toBe("");
    expect(h.get("mesh-user", "insensitive")).toBe("u1");
    h.set("Mesh-User", "u2");
    expect(h.values("Mesh-User")).toEqual(["u2"]);
    h.append("Mesh-User", "u3");
    expect(h.last("Mesh-User")).toBe("u3");
    h.delete("Mesh-User");
    expect(h.has("Mesh-User")).toBe(false);
  });

  test("refuses names and values nats-server would not carry", () => {
    const h = new MeshHeaders();
    expect(() => h.append("bad name", "x")).toThrow(/not a valid NATS header name/);
    expect(() => h.append("x:y", "x")).toThrow(/not a valid/);
    expect(() => h.append("x-ok", "a\r\nInjected: 1")).toThrow(/CR or LF/);
  });
});

describe("headersOf a received message", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await NatsServer.start({ jetstream: false });
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test("reads the raw block in one pass (fails when nats-core stops keeping it where the kit looks)", async () => {
    nc.subscribe("hdr.echo", {
      callback: (_e, m) => {
        const h = new MeshHeaders();
        h.append("Http-Status", "201");
        h.append("content-type", "application/json");
        m.respond(m.data, { headers: h });
      },
    });
    const sent = new MeshHeaders();
    sent.append("Http-Path", "/api/x?y=1");
    const reply = await nc.request("hdr.echo", "{}", { headers: sent, timeout: 2000 });
    expect(rawHeaderBlock(reply)).toBeInstanceOf(Uint8Array);
    const h = headersOf(reply);
    expect(h).toBeInstanceOf(MeshHeaders);
    expect(h?.get("Http-Status")).toBe("201");
    expect(h?.get("content-type")).toBe("application/json");
    // nats-core reads the same block to the same fields.
    expect(reply.headers?.get("Http-Status")).toBe("201");
  });

  test("a message without headers has none", async () => {
    nc.subscribe("hdr.plain", { callback: (_e, m) => void m.respond("ok") });
    const reply = await nc.request("hdr.plain", "", { timeout: 2000 });
    expect(headersOf(reply)).toBeUndefined();
  });
});

describe("headersOf on JetStream deliveries", () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test("a consumed message's headers are read in one pass, as nats-core reads them", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "HDR", subjects: ["hdr.js.>"] });
    await jsm.consumers.add("HDR", { durable_name: "reader", ack_policy: AckPolicy.Explicit });
    const sent = new MeshHeaders();
    sent.append("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    await jetstream(nc).publish("hdr.js.one", "{}", { msgID: "event-1", headers: sent });
    const m = await (await jetstream(nc).consumers.get("HDR", "reader")).next({ expires: 5000 });
    if (!m) throw new Error("no message was delivered");
    expect(rawHeaderBlock(m as unknown as Msg)).toBeInstanceOf(Uint8Array);
    const h = headersOf(m as unknown as Msg);
    expect(h).toBeInstanceOf(MeshHeaders);
    expect(h?.get("Nats-Msg-Id")).toBe("event-1");
    expect(h?.get("traceparent")).toBe(m.headers?.get("traceparent"));
    m.ack();
  });
});
