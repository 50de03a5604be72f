/**
 * Terminal output of the dev launcher: each child's lines under a coloured
 * `[name]` tag, its JSON log lines (pino) folded into one readable line, and
 * the launcher's own progress lines. Colour only on a terminal, never with
 * NO_COLOR; FORCE_COLOR turns it on for pipes.
 */

const useColour =
  !process.env.NO_COLOR && (Boolean(process.env.FORCE_COLOR) || Boolean(process.stdout.isTTY));

const ansi = (code: number) => (text: string) => (useColour ? `\x1b[${code}m${text}\x1b[0m` : text);

export const paint = {
  dim: ansi(2),
  bold: ansi(1),
  red: ansi(31),
  green: ansi(32),
  yellow: ansi(33),
} as const;

const tagColours = [36, 35, 34, 33, 32, 96, 95, 94].map(ansi);
let nextTagColour = 0;

/** A `[name]` prefix padded to `width`, in the next colour of the palette. */
export function makeTag(name: string, width: number): string {
  const colour = tagColours[nextTagColour++ % tagColours.length] ?? paint.bold;
  return colour(`[${name}]`.padEnd(width + 2));
}

/** Prints a launcher progress line (`› …`). */
export function step(text: string): void {
  console.log(`${paint.dim("›")} ${text}`);
}

const levelNames: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};
const levelPaint: Record<string, (s: string) => string> = {
  trace: paint.dim,
  debug: paint.dim,
  info: paint.green,
  warn: paint.yellow,
  error: paint.red,
  fatal: paint.red,
};
/** pino's bookkeeping fields, left out of the readable line. */
const hidden = new Set(["level", "time", "msg", "pid", "hostname", "service", "v", "err"]);
const maxFields = 6;
const maxValue = 80;

/**
 * Folds one pino JSON line into `level msg key=value …` (plus the error's
 * stack on the next lines); any other text is returned unchanged.
 *
 * @example
 * formatLogLine('{"level":"info","msg":"service ready","url":"http://127.0.0.1:4100"}')
 * // → "info  service ready url=http://127.0.0.1:4100"
 */
export function formatLogLine(line: string): string {
  const record = parseRecord(line);
  if (!record) return line;
  const raw = record.level;
  const level = typeof raw === "number" ? (levelNames[raw] ?? String(raw)) : String(raw ?? "log");
  const fields = Object.entries(record)
    .filter(([key]) => !hidden.has(key))
    .slice(0, maxFields)
    .map(([key, value]) => `${key}=${showValue(value)}`);
  const parts = [(levelPaint[level] ?? paint.bold)(level.padEnd(5)), String(record.msg ?? "")];
  if (fields.length > 0) parts.push(paint.dim(fields.join(" ")));
  const err = record.err;
  if (err && typeof err === "object") {
    const { message, stack } = err as { message?: unknown; stack?: unknown };
    if (typeof stack === "string") return `${parts.join(" ")}\n${stack}`;
    parts.push(paint.red(`err=${showValue(message ?? err)}`));
  }
  return parts.join(" ");
}

function parseRecord(line: string): Record<string, unknown> | null {
  if (!line.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === "object" && "msg" in value ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function showValue(value: unknown): string {
  const text = typeof value === "string" && !/\s/.test(value) ? value : JSON.stringify(value);
  return text.length > maxValue ? `${text.slice(0, maxValue - 1)}…` : text;
}

/**
 * Calls `onLine` for every line of a byte stream (a child's stdout or
 * stderr), including a last line without a newline.
 */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = stream.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let end = buffered.indexOf("\n");
    while (end >= 0) {
      onLine(buffered.slice(0, end).replace(/\r$/, ""));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered) onLine(buffered);
}
