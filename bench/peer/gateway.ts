/**
 * The Moleculer peer's API gateway: moleculer-web in its own broker, calling
 * the `bench` service's actions over the NATS transporter — the same shape as
 * the edge → service path (HTTP in one process, the work in another, NATS between).
 *
 *   NATS_URL=nats://127.0.0.1:4222 PORT=9001 bun bench/peer/gateway.ts
 */
import { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";

const broker = new ServiceBroker({
  nodeID: `gateway-${process.pid}`,
  transporter: { type: "NATS", options: { url: process.env.NATS_URL ?? "nats://127.0.0.1:4222" } },
  // As lean as the edge: no request logging, metrics or tracing.
  logger: { type: "Console", options: { level: "warn" } },
  metrics: false,
  tracing: false,
});

broker.createService({
  name: "api",
  mixins: [ApiGateway],
  settings: {
    ip: "127.0.0.1",
    port: Number(process.env.PORT ?? 0),
    logRequest: null,
    logResponse: null,
    routes: [
      {
        path: "/api/bench",
        mappingPolicy: "restrict",
        aliases: {
          "GET hello": "bench.hello",
          "GET items/:id": "bench.item",
          "GET bytes/:n": "bench.bytes",
        },
      },
    ],
  },
});

await broker.start();
console.log(`moleculer gateway listening on port ${process.env.PORT}`);
process.on("SIGTERM", () => {
  void broker.stop().then(() => process.exit(0));
});
