/**
 * NATS security for a mesh: least-privilege users and their credentials, and
 * TLS with a development CA. See docs/protocol.md for the permission table.
 */
export {
  AUTH_FILE,
  type NatsAuthFiles,
  type NatsAuthState,
  readCredentials,
  readNatsAuthState,
  writeNatsAuth,
} from "./credentials.ts";
export { describeService } from "./describe.ts";
export type { StreamReader } from "./jetstream-access.ts";
export {
  EDGE_USER,
  edgePermissions,
  type NatsPermissions,
  type NatsUser,
  natsUsers,
  OPERATOR_USER,
  operatorPermissions,
  renderAuthorization,
  type ServiceAccess,
  servicePermissions,
} from "./nats-auth.ts";
export { ensureClientCertificate, ensureDevCertificates, renderTls, type TlsFiles } from "./tls.ts";
