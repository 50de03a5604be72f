export { type MeshFetchInit, meshFetch } from "./mesh-fetch.ts";
export { NatsCluster, type NatsClusterOptions } from "./nats-cluster.ts";
export { freePort, NatsServer, type NatsServerOptions, natsServerBin } from "./nats-server.ts";
export { NatsUsers } from "./nats-users.ts";
export { PermissionProbe, type Verdict } from "./permissions.ts";
export { plaintextConnect } from "./plaintext.ts";
export { type LogEntry, recordingLogger } from "./recording-logger.ts";
export { runScript, type StartedScript, startScript } from "./run-script.ts";
export { waitFor } from "./wait.ts";
