/**
 * A Logger that keeps what it is told, for tests that assert on log lines
 * without parsing a process's output.
 */
import type { Logger } from "../log/logger.ts";

/** One recorded entry: its level, message and fields (the child bindings included). */
export type LogEntry = { level: string; msg: string | undefined; fields: Record<string, unknown> };

/**
 * A Logger that records every entry (with its bindings) for assertions.
 *
 * @example
 * const logs = recordingLogger();
 * const running = await startService(service, { logger: logs });
 * expect(logs.entries.find((e) => e.msg === "service ready")?.fields.service).toBe("runs");
 */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  function make(bindings: Record<string, unknown>): Logger {
    const at = (level: string) => (obj: object | string, msg?: string) => {
      const fields = typeof obj === "string" ? bindings : { ...bindings, ...obj };
      entries.push({ level, msg: typeof obj === "string" ? obj : msg, fields });
    };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => make({ ...bindings, ...more }),
    };
  }
  return Object.assign(make({}), { entries });
}
