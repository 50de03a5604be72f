/**
 * Where a store lives and which driver serves it, decided from the settings
 * alone (`DATABASE_URL`, `DATABASE_AUTH_TOKEN`, `DATABASE_DRIVER`) before
 * anything is opened. `openStore` follows it; tests and tools can ask it
 * without a database.
 */
import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../config/index.ts";

export type StoreDriver = "bun-sqlite" | "libsql";

/** What `storeTarget` reads: the store's URL, token and driver choice. */
export type StoreTargetOptions = {
  url: string;
  authToken?: string | undefined;
  driver?: "auto" | StoreDriver | undefined;
};

/** A local file, or a libSQL server (sqld, Turso) reached over HTTP or WebSocket. */
export type StoreTarget =
  | { kind: "file"; driver: StoreDriver; url: string; path: string }
  | { kind: "remote"; driver: "libsql"; url: string; authToken: string | undefined };

/** The URL schemes a store accepts; a libSQL server takes all but `file:`. */
const REMOTE = /^(libsql|https?|wss?):\/\/[^\s/?#]+/i;

/**
 * Resolves where the store is and which driver opens it: `file:` → bun:sqlite
 * (or @libsql/client with `driver: "libsql"`); `libsql://`, `http(s)://`,
 * `ws(s)://` → @libsql/client with the token. Anything else is a
 * `ConfigError` naming the key to fix.
 *
 * @example
 * storeTarget({ url: "libsql://db.example.turso.io", authToken: token });
 * // → { kind: "remote", driver: "libsql", url: "libsql://db.example.turso.io", authToken: token }
 */
export function storeTarget(options: StoreTargetOptions): StoreTarget {
  const { url, authToken } = options;
  const driver = options.driver ?? "auto";
  if (url.startsWith("file:")) {
    return { kind: "file", driver: driver === "auto" ? "bun-sqlite" : driver, url, path: filePath(url) };
  }
  if (!REMOTE.test(url)) {
    throw new ConfigError([
      {
        key: "DATABASE_URL",
        message: `expected file:<path>, libsql://host, http(s)://host or ws(s)://host; got "${redactUrl(url)}"`,
      },
    ]);
  }
  if (driver === "bun-sqlite") {
    throw new ConfigError([
      {
        key: "DATABASE_DRIVER",
        message: `bun-sqlite needs a file: URL, got ${redactUrl(url)}; use auto or libsql for a libSQL server`,
      },
    ]);
  }
  return { kind: "remote", driver: "libsql", url, authToken: authToken || undefined };
}

/** Local path of a `file:` URL (relative paths resolve against the working directory). */
export function filePath(url: string): string {
  const path = url.replace(/^file:(\/\/)?/, "");
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * The URL fit for a log line or an error: a password in it and an
 * `authToken` query parameter are replaced by `***`.
 *
 * @example
 * redactUrl("libsql://db.example?authToken=secret"); // "libsql://db.example?authToken=***"
 */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/@:]*:)[^/@]*@/, "$1***@").replace(/([?&]authToken=)[^&#]*/gi, "$1***");
}
