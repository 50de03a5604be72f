/**
 * Every arrow points down. The repository has four layers, top to bottom:
 *
 *   tests/                                   whole-stack tests (may import anything)
 *   scripts/, cli/, bench/, deploy/          tools (cli/ may use scripts/, never the reverse)
 *   edge/, services/<name>/                  apps
 *   shared/                                  the kit, `@runnerly/kit`
 *
 * An import may point down or stay in its own folder, never up. Outside
 * shared/ the kit is reached only through its package exports
 * (shared/package.json). The apps do not import each other, with two
 * exceptions: a service's `contract.ts` is its published interface, and a
 * test (`*.test.ts`, `test-support.ts`, `test-utils.ts`, `testdata/`,
 * `fixture/`) may start other services to test the stack. No import cycle,
 * between files or between top-level folders.
 *
 * Imports are read with TypeScript's own scanner (type-only imports count) and
 * resolved with Bun's resolver, so the check sees what runs.
 */
import { describe, expect, test } from "bun:test";
import { dirname, join, relative } from "node:path";
import ts from "typescript";

const root = join(import.meta.dir, "..");

type Edge = { from: string; to: string; spec: string };

const sourceFiles = async (): Promise<string[]> => {
  const listed = await Bun.$`git ls-files -co --exclude-standard`.cwd(root).quiet().text();
  return listed
    .split("\n")
    .filter((f) => /\.(ts|tsx|mts|mjs|js)$/.test(f) && !f.endsWith(".d.ts"))
    .filter((f) => !f.startsWith("contracts/") && !f.includes("node_modules/"))
    .filter((f) => Bun.file(join(root, f)).size > 0);
};

const readEdges = async (files: string[]): Promise<Edge[]> => {
  const edges: Edge[] = [];
  for (const from of files) {
    const source = await Bun.file(join(root, from)).text();
    const { importedFiles } = ts.preProcessFile(source, true, true);
    for (const { fileName: spec } of importedFiles) {
      if (!spec.startsWith(".") && !spec.startsWith("@runnerly/")) continue;
      let resolved: string;
      try {
        resolved = Bun.resolveSync(spec, dirname(join(root, from)));
      } catch {
        continue; // an unresolvable import fails its own file's tests and types
      }
      const to = relative(root, resolved);
      if (to.startsWith("..") || to.includes("node_modules/")) continue;
      edges.push({ from, to, spec });
    }
  }
  return edges;
};

const LAYERS = ["kit", "app", "tool", "stack"] as const;
type Layer = (typeof LAYERS)[number];

/** The top-level unit a file belongs to: `shared`, `edge`, `services/runs`, `cli`, … */
const unitOf = (file: string): string => {
  const [top, second] = file.split("/");
  return top === "services" ? `services/${second}` : (top ?? file);
};

const layerOf = (file: string): Layer | undefined => {
  const top = file.split("/")[0] ?? "";
  if (top === "shared") return "kit";
  if (top === "edge" || top === "services") return "app";
  if (["scripts", "cli", "bench", "deploy"].includes(top)) return "tool";
  if (top === "tests") return "stack";
  return undefined;
};

const isTestCode = (file: string): boolean =>
  /\.test\.tsx?$/.test(file) ||
  /(^|\/)(test-support|test-utils)\.ts$/.test(file) ||
  /(^|\/)(testdata|fixture)\//.test(file);

/** What is wrong with one import, with what to do about it; undefined when it is fine. */
const offence = ({ from, to, spec }: Edge): string | undefined => {
  const a = layerOf(from);
  const b = layerOf(to);
  if (!a || !b) return undefined;
  const arrow = `${from} imports "${spec}" (${to})`;
  if (b === "kit" && a !== "kit" && !spec.startsWith("@runnerly/kit")) {
    return `${arrow}: past the kit's exports. Import it from "@runnerly/kit" or one of its subpaths; if it is not exported, add an export to shared/package.json.`;
  }
  if (LAYERS.indexOf(b) > LAYERS.indexOf(a)) {
    const down = a === "kit" ? "the kit" : `the ${a} layer or the kit`;
    return `${arrow}: upward, from the ${a} layer to the ${b} layer. Move what both need down into ${down}, or move the importing file up (a test of the whole stack belongs in tests/).`;
  }
  const [ua, ub] = [unitOf(from), unitOf(to)];
  if (a === "app" && b === "app" && ua !== ub && !to.endsWith("/contract.ts") && !isTestCode(from)) {
    return `${arrow}: ${ua} and ${ub} are separate apps. Share through the kit, or through ${ub}'s contract.ts; only tests may start another app.`;
  }
  if (ua === "scripts" && ub === "cli") {
    return `${arrow}: scripts/ sits below cli/ (the CLI runs the launchers). Move what both need into scripts/ or the kit.`;
  }
  return undefined;
};

/** Strongly connected components of more than one node (Tarjan), each as a closed path. */
const cycles = (pairs: Array<[string, string]>): string[][] => {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)?.add(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(pathThrough(component, next));
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
};

/** The shortest closed path through a cycle's first member, for a message a person can follow. */
const pathThrough = (members: string[], next: Map<string, Set<string>>): string[] => {
  const inside = new Set(members);
  const start = [...members].sort()[0] as string;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (const at of queue) {
    for (const n of next.get(at) ?? []) {
      if (n === start) {
        const path = [at];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start];
      }
      if (inside.has(n) && !cameFrom.has(n)) {
        cameFrom.set(n, at);
        queue.push(n);
      }
    }
  }
  return [start];
};

const files = await sourceFiles();
const edges = await readEdges(files);

describe("imports", () => {
  test("the scan sees the repository (guards against a check that passes on nothing)", () => {
    expect(files.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === "edge/app.ts")).toBe(true);
  });

  test("every arrow points down, and the kit is reached only through its exports", () => {
    const found = edges.map(offence).filter((o): o is string => o !== undefined);
    expect(found).toEqual([]);
  });

  test("no file imports itself through a cycle", () => {
    const found = cycles(edges.map((e) => [e.from, e.to])).map(
      (c) => `${c.join(" → ")}: break the cycle, e.g. move what both sides need into a module of its own.`,
    );
    expect(found).toEqual([]);
  });

  test("no top-level folder imports itself through another", () => {
    const found = cycles(edges.map((e) => [unitOf(e.from), unitOf(e.to)])).map(
      (c) => `${c.join(" → ")}: these folders import each other; one must sit below the other.`,
    );
    expect(found).toEqual([]);
  });
});

describe("the rules themselves", () => {
  test.each([
    ["shared/db/index.ts", "edge/app.ts", "../../edge/app.ts", "upward"],
    ["edge/main.ts", "shared/log/index.ts", "../shared/log/index.ts", "past the kit's exports"],
    ["edge/ops/dashboard/build.ts", "scripts/build-assets.ts", "../../../scripts/build-assets.ts", "upward"],
    ["edge/app.ts", "services/runs/service.ts", "../services/runs/service.ts", "separate apps"],
    ["scripts/dev/x.test.ts", "cli/events.ts", "../../cli/events.ts", "below cli/"],
  ])("%s → %s is refused (%s)", (from, to, spec, says) => {
    expect(offence({ from, to, spec })).toContain(says);
  });

  test.each([
    ["edge/app.ts", "shared/web.ts", "@runnerly/kit/web"],
    ["edge/web/client/use-stats.ts", "services/stats/contract.ts", "@runnerly/stats/contract.ts"],
    [
      "edge/middleware/auth/auth.test.ts",
      "services/accounts/service.ts",
      "../../../services/accounts/service.ts",
    ],
    ["cli/commands.ts", "scripts/dev/services.ts", "../scripts/dev/services.ts"],
    ["tests/sla/sla.test.ts", "edge/app.ts", "../../edge/app.ts"],
  ])("%s → %s is allowed", (from, to, spec) => {
    expect(offence({ from, to, spec })).toBeUndefined();
  });

  test("a cycle is found and named as a path", () => {
    expect(
      cycles([
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
        ["c", "d"],
      ]),
    ).toEqual([["a", "b", "c", "a"]]);
  });
});
