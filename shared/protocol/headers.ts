/**
 * NATS message headers written and read by the kit itself.
 *
 * nats-core's `MsgHdrs` canonicalises every name character by character and
 * scans every key on each `get`/`set`/`append` (a `set` is a delete plus an
 * append), and decodes a received block line by line through the same path:
 * measured as the largest share of nats-core's time on the request path, at
 * the edge and in every service (BENCHMARKS.md). `MeshHeaders` keeps the
 * fields in two arrays and writes the `NATS/1.0` block in one string;
 * `headersOf` reads a received block in one pass. Both implement nats-core's
 * `MsgHdrs`, so they go wherever its headers go. Web standards only.
 */
import type { Match, Msg, MsgHdrs } from "@nats-io/nats-core";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// A field name: printable ASCII except the colon (what nats-server and nats-core accept).
const NAME = /^[!-9;-~]+$/;
const CR_OR_LF = /[\r\n]/;

/** How `get`/`has`/… compare names: exactly (the default), or regardless of case. */
type MatchMode = Match;

/**
 * Headers of one NATS message, in the order they were added. Names keep the
 * case they were given; `get` matches exactly unless asked otherwise, as
 * nats-core's headers do.
 *
 * @example
 * const h = new MeshHeaders();
 * h.append("Http-Method", "GET");
 * nc.publish("svc.runs.http", body, { headers: h });
 */
export class MeshHeaders implements MsgHdrs {
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  #code = 0;
  #description = "";

  /** Headers with a status line (`NATS/1.0 503 No Responders`); code 0: none. */
  static withStatus(code: number, description: string): MeshHeaders {
    const h = new MeshHeaders();
    h.#code = code;
    h.#description = description;
    return h;
  }

  get code(): number {
    return this.#code;
  }
  get description(): string {
    return this.#description;
  }
  get hasError(): boolean {
    return this.#code >= 300;
  }
  get status(): string {
    return `${this.#code} ${this.#description}`.trim();
  }

  /** Adds a field; throws on a name or value nats-server would not carry. */
  append(name: string, value: string): void {
    if (!NAME.test(name)) throw new TypeError(`'${name}' is not a valid NATS header name`);
    if (CR_OR_LF.test(value)) throw new TypeError(`the value of header ${name} contains CR or LF`);
    this.#names.push(name);
    this.#values.push(value.trim());
  }

  /** Adds a field the caller knows is valid (a name of the protocol, a number). */
  appendTrusted(name: string, value: string): void {
    this.#names.push(name);
    this.#values.push(value);
  }

  set(name: string, value: string, match: MatchMode = "exact"): void {
    this.delete(name, match);
    this.append(name, value);
  }

  get(name: string, match: MatchMode = "exact"): string {
    const i = this.#find(name, match);
    return i < 0 ? "" : this.#values[i]!;
  }

  last(name: string, match: MatchMode = "exact"): string {
    const values = this.values(name, match);
    return values.length > 0 ? values[values.length - 1]! : "";
  }

  has(name: string, match: MatchMode = "exact"): boolean {
    return this.#find(name, match) >= 0;
  }

  values(name: string, match: MatchMode = "exact"): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#names.length; i++) {
      if (same(this.#names[i]!, name, match)) out.push(this.#values[i]!);
    }
    return out;
  }

  delete(name: string, match: MatchMode = "exact"): void {
    for (let i = this.#names.length - 1; i >= 0; i--) {
      if (same(this.#names[i]!, name, match)) {
        this.#names.splice(i, 1);
        this.#values.splice(i, 1);
      }
    }
  }

  keys(): string[] {
    return [...new Set(this.#names)];
  }

  /** Each name once, with all its values, in first-seen order (as nats-core iterates). */
  *[Symbol.iterator](): Iterator<[string, string[]]> {
    for (const name of this.keys()) yield [name, this.values(name)];
  }

  /** Calls `fn` for each field in order, without grouping (the cheap way to copy them). */
  forEach(fn: (value: string, name: string) => void): void {
    for (let i = 0; i < this.#names.length; i++) fn(this.#values[i]!, this.#names[i]!);
  }

  /** The `NATS/1.0` block as nats-server expects it (nats-core calls this when publishing). */
  encode(): Uint8Array {
    let s = this.#code > 0 ? `NATS/1.0 ${this.#code} ${this.#description}\r\n` : "NATS/1.0\r\n";
    for (let i = 0; i < this.#names.length; i++) s += `${this.#names[i]}: ${this.#values[i]}\r\n`;
    return encoder.encode(`${s}\r\n`);
  }

  #find(name: string, match: MatchMode): number {
    for (let i = 0; i < this.#names.length; i++) if (same(this.#names[i]!, name, match)) return i;
    return -1;
  }

  /**
   * Reads a `NATS/1.0` block (the bytes before a message's payload). Lines
   * without a colon are skipped, as nats-core does.
   *
   * @example
   * MeshHeaders.decode(new TextEncoder().encode("NATS/1.0\r\nHttp-Status: 200\r\n\r\n")).get("Http-Status"); // "200"
   */
  static decode(block: Uint8Array): MeshHeaders {
    const text = decoder.decode(block);
    const h = new MeshHeaders();
    let end = text.indexOf("\r\n");
    if (end < 0) end = text.length;
    const statusLine = text.slice(8, end).trim();
    if (statusLine) {
      const space = statusLine.indexOf(" ");
      const code = Number.parseInt(space < 0 ? statusLine : statusLine.slice(0, space), 10);
      if (Number.isInteger(code)) {
        h.#code = code;
        h.#description = space < 0 ? "" : statusLine.slice(space + 1).trim();
      }
    }
    let start = end + 2;
    while (start < text.length) {
      let next = text.indexOf("\r\n", start);
      if (next < 0) next = text.length;
      const colon = text.indexOf(":", start);
      if (colon > start && colon < next) {
        h.#names.push(text.slice(start, colon));
        h.#values.push(text.slice(colon + 1, next).trim());
      }
      start = next + 2;
    }
    return h;
  }
}

function same(a: string, b: string, match: MatchMode): boolean {
  return match === "exact" ? a === b : a.toLowerCase() === b.toLowerCase();
}

/**
 * Calls `fn` for every field of any `MsgHdrs`, in order: straight through the
 * arrays of a `MeshHeaders`, else through nats-core's grouped iteration.
 *
 * @example
 * forEachHeader(headersOf(msg), (value, name) => headers.append(name, value));
 */
export function forEachHeader(hdrs: MsgHdrs, fn: (value: string, name: string) => void): void {
  if (hdrs instanceof MeshHeaders) hdrs.forEach(fn);
  else for (const [name, values] of hdrs) for (const value of values) fn(value, name);
}

type RawMsg = { _msg?: { hdr?: unknown }; _rdata?: unknown; msg?: RawMsg };

/**
 * A received message's headers, read in one pass from its raw header block
 * when the client keeps one where nats-core 3.x does (`_rdata` up to
 * `_msg.hdr`; a ServiceMsg wraps that message), else nats-core's own
 * decoding. shared/protocol/headers.test.ts checks the fast path is taken.
 *
 * @example
 * const status = headersOf(reply)?.get("Http-Status");
 */
export function headersOf(msg: Msg): MsgHdrs | undefined {
  const raw = rawHeaderBlock(msg);
  if (raw === null) return msg.headers;
  return raw === undefined ? undefined : MeshHeaders.decode(raw);
}

/** The header bytes of a message; undefined: it has none; null: this client keeps them elsewhere. */
export function rawHeaderBlock(msg: Msg): Uint8Array | undefined | null {
  let m = msg as unknown as RawMsg;
  if (!m._msg && m.msg) m = m.msg;
  const hdr = m._msg?.hdr;
  if (typeof hdr !== "number" || !(m._rdata instanceof Uint8Array)) return null;
  return hdr > -1 ? m._rdata.subarray(0, hdr) : undefined;
}
