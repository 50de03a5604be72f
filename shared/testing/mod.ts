export { type MeshFetchInit, meshFetch } from "./mesh-fetch.ts";
export { freePort, NatsServer, type NatsServerOptions, natsServerBin } from "./nats-server.ts";
export { PermissionProbe, type Verdict } from "./permissions.ts";
export { plaintextConnect } from "./plaintext.ts";
export { runScript } from "./run-script.ts";
export { waitFor } from "./wait.ts";
