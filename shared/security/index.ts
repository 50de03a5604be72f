/**
 * NATS security for a mesh: least-privilege users and their credentials
 * (nats-auth.ts, credentials.ts; tasks in task-access.ts), described from
 * service definitions (describe.ts), and TLS with a development CA (tls.ts).
 */
export {
  AUTH_FILE,
  generatePassword,
  hashPassword,
  type NatsAuthFiles,
  type NatsAuthState,
  readCredentials,
  readNatsAuthState,
  writeNatsAuth,
} from "./credentials.ts";
export { describeService, meshProvision } from "./describe.ts";
export type { StreamReader } from "./jetstream-access.ts";
export { natsUsers, renderAuthorization, servicePermissions } from "./nats-auth.ts";
export { edgePermissions, operatorPermissions } from "./roles.ts";
export { taskQueuesOf, taskSubjectsOf } from "./task-access.ts";
export { ensureClientCertificate, ensureDevCertificates, renderTls, type TlsFiles } from "./tls.ts";
export {
  EDGE_USER,
  type EdgeAccess,
  type NatsPermissions,
  type NatsUser,
  type NatsUsersOptions,
  OPERATOR_USER,
  PROVISIONER_USER,
  type ServiceAccess,
  type TaskAccess,
} from "./types.ts";
