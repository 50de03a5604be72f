import { describe, expect, test } from "bun:test";
import { ALLOCATOR_ENV, withAllocatorDefaults } from "./allocator.ts";

describe("withAllocatorDefaults", () => {
  test("adds the allocator settings to an environment without them, keeping the rest", () => {
    const env = withAllocatorDefaults({ NATS_URL: "nats://127.0.0.1:4222" });
    expect(env).toEqual({ NATS_URL: "nats://127.0.0.1:4222", ...ALLOCATOR_ENV });
    expect(env.MIMALLOC_PURGE_DELAY).toBe("-1");
  });

  test("a value the environment already sets wins", () => {
    expect(withAllocatorDefaults({ MIMALLOC_PURGE_DELAY: "10" }).MIMALLOC_PURGE_DELAY).toBe("10");
  });

  test("a child process started with it sees the setting", async () => {
    const proc = Bun.spawn(
      [process.execPath, "-e", "console.log(process.env.MIMALLOC_PURGE_DELAY ?? 'unset')"],
      {
        env: withAllocatorDefaults({ PATH: process.env.PATH }),
        stdout: "pipe",
      },
    );
    expect((await new Response(proc.stdout).text()).trim()).toBe("-1");
    expect(await proc.exited).toBe(0);
  });
});
