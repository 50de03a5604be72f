/** A worker for the pool's tests: burns CPU for `ms`, fails when asked, or never answers. */
import { serveWork } from "../worker.ts";

class Refused extends Error {
  override name = "Refused";
}

serveWork((input: { ms: number; fail?: string; hang?: boolean; bytes?: ArrayBuffer }) => {
  if (input.fail) throw new Refused(input.fail);
  if (input.hang) while (true) {}
  const end = performance.now() + input.ms;
  while (performance.now() < end) {}
  return { ms: input.ms, bytes: input.bytes?.byteLength ?? 0 };
});
