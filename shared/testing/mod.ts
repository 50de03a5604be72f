export { freePort, NatsServer, type NatsServerOptions, natsServerBin } from "./nats-server.ts";
