/** Progress lines while the benchmark runs: `[m:ss] what is running`. */

/**
 * A progress printer whose clock starts now.
 *
 * @example
 * const progress = createProgress(); progress.step("edge hello, run 2/3");
 */
export function createProgress(write: (line: string) => void = console.log) {
  const t0 = performance.now();
  const clock = () => {
    const s = Math.floor((performance.now() - t0) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  return {
    /** Prints one line prefixed with the elapsed time. */
    step(text: string): void {
      write(`[${clock().padStart(5)}] ${text}`);
    },
    /** Seconds since the start. */
    elapsedSeconds(): number {
      return (performance.now() - t0) / 1000;
    },
  };
}

export type Progress = ReturnType<typeof createProgress>;
