/**
 * Connections to a test nats-server as its generated users, each with its
 * own password, made through the kit (so each one's inbox is
 * `_INBOX.<user>`, as its permissions allow) and closed together.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { silentLogger } from "../log/logger.ts";
import { connectNats } from "../nats/index.ts";

export class NatsUsers {
  /** Each user's password (render the server's authorization block from these). */
  readonly passwords = new Map<string, string>();
  readonly #open: NatsConnection[] = [];

  /** `url` is read at each connection: the server may start after this is made. */
  constructor(private readonly url: () => string) {}

  /**
   * A connection as `user`, closed by `close()`.
   *
   * @example
   * const probe = new PermissionProbe(await users.as("stats"));
   */
  async as(user: string): Promise<NatsConnection> {
    const nc = await connectNats({
      servers: this.url(),
      name: `test-${user}`,
      user,
      pass: this.passwords.get(user),
      logger: silentLogger,
    });
    this.#open.push(nc);
    return nc;
  }

  /** Closes every connection made so far. */
  async close(): Promise<void> {
    for (const nc of this.#open.splice(0)) await nc.close().catch(() => {});
  }
}
