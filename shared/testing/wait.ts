/**
 * Waits for a condition instead of sleeping: polls `check` until it returns a
 * truthy value (returned) or `timeoutMs` passes (throws, naming `what`).
 *
 * @example
 * await waitFor(() => edge.routes.has("/api/runs"), { what: "runs routed" });
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${options.what ?? "a condition"}${last ? `: ${String(last)}` : ""}`,
  );
}
