import { describe, expect, test } from "bun:test";
import { parseEvent, sseData } from "./follow.ts";

/** A stream that delivers `text` in the given chunk sizes, as a network would split it. */
function chunked(text: string, sizes: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      let at = 0;
      for (let i = 0; at < bytes.length; i++) {
        const size = sizes[i % sizes.length] as number;
        controller.enqueue(bytes.slice(at, at + size));
        at += size;
      }
      controller.close();
    },
  });
}

const collect = async (body: ReadableStream<Uint8Array>, event = "status") => {
  const out: string[] = [];
  for await (const data of sseData(body, event)) out.push(data);
  return out;
};

describe("reading server-sent events", () => {
  test.each([
    ["a named event", "event: status\ndata: {}", { event: "status", data: "{}" }],
    ["no name is message", "data: x", { event: "message", data: "x" }],
    ["data lines join with newlines", "event: s\ndata: a\ndata: b", { event: "s", data: "a\nb" }],
    ["one space after the colon is dropped, no more", "data:  two", { event: "message", data: " two" }],
    ["ids and retries are not data", "id: 3\nretry: 10\ndata: y", { event: "message", data: "y" }],
    ["a comment alone is no event", ": still pending", null],
  ])("%s", (_, block, parsed) => expect(parseEvent(block)).toEqual(parsed));

  test("events split anywhere across chunks, CRLF or LF, keep their order; comments and other events are skipped", async () => {
    const text =
      'event: status\r\ndata: {"n":1}\r\nid: 1\r\n\r\n: still pending\n\nevent: other\ndata: no\n\nevent: status\ndata: {"n":2}\n\n';
    for (const sizes of [[1], [3, 7], [1000]]) {
      expect(await collect(chunked(text, sizes))).toEqual(['{"n":1}', '{"n":2}']);
    }
  });

  test("the last event counts even when the stream closes without its blank line", async () => {
    expect(await collect(chunked("event: status\ndata: last", [5]))).toEqual(["last"]);
  });
});
