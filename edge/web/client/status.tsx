/** @jsxImportSource hono/jsx/dom */
/**
 * What a form says back: one polite live region per form, always in the
 * page (screen readers only announce changes to a region that already
 * exists), and a hook that runs an action and fills it.
 */
import { useState } from "hono/jsx/dom";
import { ApiError } from "./api.ts";

export type Status = { kind: "info" | "ok" | "error"; text: string } | null;

/** The live region of a form; `id` lets the form point at it with `aria-describedby`. */
export function StatusLine({ id, status }: { id: string; status: Status }) {
  return (
    <output id={id} class={`status ${status?.kind ?? ""}`} aria-live="polite">
      {status?.text ?? ""}
    </output>
  );
}

/**
 * Runs one action at a time for a form: `busy` while it runs, then a success
 * text or the failure's detail (the problem+json `detail` for API errors).
 */
export function useAction(): {
  busy: boolean;
  status: Status;
  setStatus: (s: Status) => void;
  run: (action: () => Promise<string | null>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<Status>(null);
  async function run(action: () => Promise<string | null>): Promise<void> {
    setBusy(true);
    setStatus({ kind: "info", text: "Working…" });
    try {
      const done = await action();
      setStatus(done ? { kind: "ok", text: done } : null);
    } catch (err) {
      setStatus({ kind: "error", text: describe(err) });
    } finally {
      setBusy(false);
    }
  }
  return { busy, status, setStatus, run };
}

/** A message a person can act on for any failure. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError)
    return "The server could not be reached. Check your connection and try again.";
  return err instanceof Error ? err.message : String(err);
}
