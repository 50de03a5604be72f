/**
 * The bootstrap's Node check with the machine's real `node`: below 22.15 it
 * warns that npm will print engine warnings and names the version to install,
 * and goes on; from 22.15 on it just names the version.
 */
import { expect, test } from "bun:test";

const node = Bun.which("node");
const script = new URL("./bootstrap.mjs", import.meta.url).pathname;

test("names the Node version it runs on; below 22.15 it says which to install for an install without warnings", () => {
  if (!node) throw new Error("node is not on PATH");
  const version = Bun.spawnSync([node, "--version"]).stdout.toString().trim().slice(1);
  // Without a mode it stops at the usage line, after the check and before installing anything.
  const run = Bun.spawnSync([node, script], { stdout: "pipe", stderr: "pipe" });
  const stdout = run.stdout.toString();
  const stderr = run.stderr.toString();
  expect(run.exitCode).toBe(1);
  expect(stderr).toContain("usage: node scripts/bootstrap.mjs");
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 15)) {
    expect(stderr).toContain(`Node ${version}: npm prints EBADENGINE warnings`);
    expect(stderr).toContain("install Node 22.15 or newer");
  } else {
    expect(stdout).toContain(`› node ${version}`);
    expect(stderr).not.toContain("EBADENGINE");
  }
});
