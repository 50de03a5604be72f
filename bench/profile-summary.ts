/**
 * Summarises a `.cpuprofile` written by `bun --cpu-prof`: where the busy time
 * went, by function (self time) and by package (`@nats-io/nats-core`, `hono`,
 * the kit, the edge…). Start-up work is included; it is small next to a
 * loaded run of several seconds.
 *
 *   bun bench/profile-summary.ts .data/bench/profiles/edge-worker.cpuprofile [--top 25]
 */
import { parseArgs } from "node:util";
import { median } from "./lib/stats.ts";

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** Self time per function and per package, in ms and as a share of busy time. */
export type ProfileSummary = {
  busyMs: number;
  idleMs: number;
  functions: { name: string; where: string; ms: number; share: number }[];
  packages: { name: string; ms: number; share: number }[];
  /** Inclusive time of the repository's own functions (edge/, shared/, bench/): what each call costs in all. */
  ownInclusive: { name: string; where: string; ms: number; share: number }[];
};

const IDLE = new Set(["(idle)", "(program)", "(garbage collector)"]);

/**
 * Adds each sample's time to the function it was taken in.
 *
 * @example
 * const s = summariseProfile(JSON.parse(await Bun.file(path).text()));
 */
export function summariseProfile(profile: CpuProfile, root = process.cwd()): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Bun's sampler takes no samples while the thread waits in the event loop, so
  // the gap before the next sample is idle time, not the sampled frame's: count
  // samples, each worth the nominal interval, instead of summing time deltas.
  const intervalUs = median(profile.timeDeltas.slice(1)) || 1000;
  const selfUs = new Map<number, number>();
  for (const id of profile.samples) selfUs.set(id, (selfUs.get(id) ?? 0) + intervalUs);
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const packages = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || "(anonymous)";
    if (IDLE.has(name) && name !== "(garbage collector)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = frame.url ? `${shortPath(frame.url, root)}:${frame.lineNumber + 1}` : "(native)";
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const pkg = packageOf(frame.url, name);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0);
  const ownInclusive = inclusiveOwn(profile, byId, selfUs, root);
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
    packages: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
    ownInclusive: ownInclusive.map((f) => ({ ...f, ms: f.us / 1000, share: share(f.us) })),
  };
}

/** Inclusive time of each of our own functions: every sample whose stack passes through it, once. */
function inclusiveOwn(
  profile: CpuProfile,
  byId: Map<number, ProfileNode>,
  selfUs: Map<number, number>,
  root: string,
): { name: string; where: string; us: number }[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map<string, { name: string; where: string; us: number }>();
  for (const [leaf, us] of selfUs) {
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      const path = frame?.url.replace(/^file:\/\//, "") ?? "";
      if (!frame || !path.startsWith(`${root}/`) || path.includes("/node_modules/")) continue;
      const where = `${path.slice(root.length + 1)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName} ${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { name: frame.functionName || "(anonymous)", where, us: 0 };
      entry.us += us;
      totals.set(key, entry);
    }
  }
  return [...totals.values()].sort((a, b) => b.us - a.us);
}

/** The package a frame belongs to: an npm package, the repository folder, or Bun's runtime. */
export function packageOf(url: string, functionName = ""): string {
  if (!url) return functionName === "(garbage collector)" ? "(garbage collector)" : "bun runtime (native)";
  const path = url.replace(/^file:\/\//, "");
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (nm) return nm[1]!;
  if (!path.startsWith("/")) return `bun runtime (${path.split("/")[0]})`;
  const repo = /\/(shared|edge|services|bench)\/([^/]+)/.exec(path);
  return repo ? `${repo[1]}/${repo[2]!.replace(/\.ts$/, "")}` : path;
}

function shortPath(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm + "node_modules/".length);
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** The summary as text: a package table, then the top functions. */
export function formatSummary(s: ProfileSummary, top = 20): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `busy ${s.busyMs.toFixed(0)} ms (idle ${s.idleMs.toFixed(0)} ms)`,
    "",
    "by package (self time):",
  ];
  for (const p of s.packages.slice(0, 15)) lines.push(`  ${pct(p.share)}  ${p.name}`);
  lines.push("", `top ${top} functions (self time):`);
  for (const f of s.functions.slice(0, top)) lines.push(`  ${pct(f.share)}  ${f.name}  ${f.where}`);
  lines.push("", "our own functions (inclusive time):");
  for (const f of s.ownInclusive.slice(0, 12)) lines.push(`  ${pct(f.share)}  ${f.name}  ${f.where}`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "20" } },
  });
  for (const path of positionals) {
    console.log(`== ${path}`);
    console.log(formatSummary(summariseProfile(JSON.parse(await Bun.file(path).text())), Number(values.top)));
  }
}
