/**
 * A JSON document as a tree that can say what JSON.stringify cannot: raw
 * number tokens (`NaN`, `1e400`), duplicated keys and a `__proto__` key,
 * and text that is not JSON at all. The generators build these trees; the
 * request builders turn them into body bytes with `toJsonText`.
 */
import { RawJson } from "./hostile-values.ts";

/** An object whose members are kept in order, duplicates and `__proto__` included. */
export class JsonObject {
  constructor(readonly entries: readonly (readonly [string, JsonTree])[]) {}

  /** The value of the first member named `key` (as a server keeping the first would see it). */
  get(key: string): JsonTree | undefined {
    return this.entries.find(([k]) => k === key)?.[1];
  }
}

export type JsonTree = null | boolean | number | string | RawJson | JsonObject | JsonTree[];

/**
 * Writes a tree as JSON text. Numbers JSON cannot hold (NaN, ±Infinity) are
 * written as the bare tokens, which is invalid JSON on purpose; lone
 * surrogates are escaped (`\ud800`) as JSON.stringify does.
 *
 * @example
 * toJsonText(new JsonObject([["a", 1], ["a", new RawJson("NaN")]])) // '{"a":1,"a":NaN}'
 */
export function toJsonText(tree: JsonTree): string {
  if (tree instanceof RawJson) return tree.text;
  if (tree instanceof JsonObject) {
    return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(",")}}`;
  }
  if (Array.isArray(tree)) return `[${tree.map(toJsonText).join(",")}]`;
  if (typeof tree === "number" && !Number.isFinite(tree)) return String(tree);
  if (typeof tree === "number" && Object.is(tree, -0)) return "-0";
  return JSON.stringify(tree);
}

/** Nesting so deep that a recursive parser or validator could run out of stack. */
export function deeplyNested(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? "[".repeat(depth) + "]".repeat(depth)
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}
