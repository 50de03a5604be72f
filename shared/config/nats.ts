/**
 * The keys every program on the mesh reads (where NATS is, how to log in to
 * it, how much to log), defined once: the services' schema and the edge's
 * both extend `meshConfigKeys`. Web-standard, so the edge on Deno and workerd
 * uses the same rules as Bun.
 *
 * How a runtime reaches NATS decides which addresses it can use:
 * - TCP (Bun: every service, the CLI and the edge on Bun): `NATS_URL`, a list
 *   of `nats://host:port`, `tls://host:port` or plain `host:port`;
 * - WebSocket (the edge on Deno and workerd, which have no TCP client for
 *   NATS): `NATS_WS_URL`, a list of `ws://` or `wss://` URLs of
 *   nats-server's websocket listener.
 */
import { z } from "zod";

/** How a runtime connects to NATS; see the module's comment. */
export type NatsTransport = "tcp" | "websocket";

const SCHEMES: Record<NatsTransport, string[]> = { tcp: ["nats:", "tls:"], websocket: ["ws:", "wss:"] };
const HOST_PORT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/**
 * Whether `value` is a comma-separated list of NATS servers a runtime with
 * this transport can connect to.
 *
 * @example
 * isNatsServerList("nats://a:4222, b:4222", "tcp"); // true
 * isNatsServerList("ws://a:8080", "tcp"); // false: a WebSocket address goes in NATS_WS_URL
 */
export function isNatsServerList(value: string, transport: NatsTransport): boolean {
  return value.split(",").every((part) => {
    const s = part.trim();
    const hostPort = HOST_PORT.exec(s);
    if (hostPort) return transport === "tcp" && Number(hostPort[1]) <= 65535;
    try {
      const url = new URL(s);
      return SCHEMES[transport].includes(url.protocol) && url.hostname !== "";
    } catch {
      return false;
    }
  });
}

const SERVER_LIST_MESSAGE: Record<NatsTransport, string> = {
  tcp: "must be nats:// or tls:// URLs or host:port, comma-separated (ws:// and wss:// are for NATS_WS_URL on Deno and workerd)",
  websocket: "must be ws:// or wss:// URLs of nats-server's websocket listener, comma-separated",
};

/**
 * A key holding NATS servers for `transport`, checked by `isNatsServerList`.
 *
 * @example
 * z.object({ NATS_WS_URL: natsServers("websocket") });
 */
export const natsServers = (transport: NatsTransport) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined ? `required: ${SERVER_LIST_MESSAGE[transport]}` : undefined,
    })
    .refine((v) => isNatsServerList(v, transport), SERVER_LIST_MESSAGE[transport]);

const optionalText = z.string().min(1).optional();

/**
 * NATS (servers, credentials, TLS files) and LOG_LEVEL: the keys the services'
 * and the edge's schemas share. Extend it, then add `natsCredentialRules`:
 *
 * @example
 * const schema = meshConfigKeys
 *   .extend({ PORT: z.coerce.number() })
 *   .superRefine(natsCredentialRules, alongsideBadKeys);
 */
export const meshConfigKeys = z.object({
  NATS_URL: natsServers("tcp").default("nats://127.0.0.1:4222"),
  NATS_USER: optionalText,
  NATS_PASS: optionalText,
  NATS_TOKEN: optionalText,
  /** Path to a `.creds` file (JWT + nkey seed). */
  NATS_CREDS: optionalText,
  /** TLS to NATS: the CA's PEM file and, for servers that verify clients, a client certificate and key. */
  NATS_TLS_CA: optionalText,
  NATS_TLS_CERT: optionalText,
  NATS_TLS_KEY: optionalText,
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

/**
 * Options for a refinement over keys that cannot themselves be malformed
 * (optional text): run it even when other keys are bad, so one message names
 * every problem (zod skips refinements after a bad key by default).
 *
 * @example
 * schema.superRefine(natsCredentialRules, alongsideBadKeys);
 */
export const alongsideBadKeys: z.core.$ZodSuperRefineParams = { when: () => true };

/**
 * Credentials that come in pairs: a password with its user (and a pull user
 * with the password it shares), a client certificate with its key (each names
 * the missing one).
 *
 * @example
 * meshConfigKeys.extend({ … }).superRefine(natsCredentialRules, alongsideBadKeys);
 */
export function natsCredentialRules(
  cfg: {
    NATS_USER?: string | undefined;
    NATS_PASS?: string | undefined;
    /** A service's pull user (shared/config/index.ts) shares NATS_PASS. */
    NATS_PULL_USER?: string | undefined;
    NATS_TLS_CERT?: string | undefined;
    NATS_TLS_KEY?: string | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const pairs = [
    ["NATS_USER", "NATS_PASS"],
    ["NATS_PASS", "NATS_USER"],
    ["NATS_PULL_USER", "NATS_PASS"],
    ["NATS_TLS_CERT", "NATS_TLS_KEY"],
    ["NATS_TLS_KEY", "NATS_TLS_CERT"],
  ] as const;
  for (const [given, missing] of pairs) {
    if (cfg[given] && !cfg[missing]) {
      ctx.addIssue({ code: "custom", path: [missing], message: `required with ${given}` });
    }
  }
}
