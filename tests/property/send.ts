/**
 * Sends a generated request through fetch with a hard time bound, so a
 * server that never answers fails the property instead of stalling the run.
 */
import type { Answer } from "./expectations.ts";
import type { HostileRequest } from "./openapi-arbitraries.ts";

/** The answer, or why there was none (`hang` when the bound passed, `error` when the connection failed). */
export type Outcome =
  | { kind: "answer"; answer: Answer; ms: number }
  | { kind: "hang" | "error"; detail: string; ms: number };

/**
 * Sends `req` to `base` and reads the whole answer within `timeoutMs`.
 *
 * @example
 * const outcome = await send("http://127.0.0.1:8787", req, 5000);
 */
export async function send(base: string, req: HostileRequest, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const headers = new Headers();
  // append, not set: a name given twice reaches the server as one joined value, as fetch allows.
  for (const [name, value] of req.headers) headers.append(name, value);
  try {
    const res = await fetch(`${base}${req.target}`, {
      method: req.method,
      headers,
      body: req.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    const answer = {
      status: res.status,
      contentType: res.headers.get("content-type"),
      body,
      method: req.method,
    };
    return { kind: "answer", answer, ms: ms() };
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { kind: name === "TimeoutError" || name === "AbortError" ? "hang" : "error", detail, ms: ms() };
  }
}
