/**
 * A Logger for runtimes without pino (Deno, workerd): one JSON object per
 * line on the console, the same shape pino writes on Bun, so one log pipeline
 * reads every edge.
 */
import type { Logger } from "@runnerly/kit/web";

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

/**
 * Builds a console logger bound to `service`; lines below `level` are dropped.
 * Warnings and errors go to stderr, the rest to stdout.
 *
 * @example
 * const log = consoleLogger("edge", Deno.env.get("LOG_LEVEL"));
 * log.child({ requestId }).info({ status: 200 }, "proxied");
 */
export function consoleLogger(service: string, level: string | undefined = "info"): Logger {
  const min = LEVELS[(level in LEVELS ? level : "info") as Level];
  function make(bindings: Record<string, unknown>): Logger {
    const at = (name: Level) =>
      function write(obj: object | string, msg?: string): void {
        if (LEVELS[name] < min) return;
        const fields = typeof obj === "string" ? { msg: obj } : { ...obj, msg };
        const line = JSON.stringify({ level: name, time: new Date().toISOString(), ...bindings, ...fields });
        if (LEVELS[name] >= LEVELS.warn) console.error(line);
        else console.log(line);
      };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => make({ ...bindings, ...more }),
    };
  }
  return make({ service });
}
