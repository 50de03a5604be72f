/**
 * The check and the update over snapshot files in a temporary folder, with
 * the real runs and stats definitions and a runs variant whose run events
 * lost a field (one stats can do without) without a new version.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineEvent } from "@runnerly/kit";
import {
  type AnyServiceDefinition,
  checkContracts,
  formatReport,
  snapshotFile,
  updateContracts,
} from "@runnerly/kit/contract";
import { RunEventData, runDeleted, runUpdated } from "../../services/runs/contract.ts";
import { service as runs } from "../../services/runs/service.ts";
import { service as stats } from "../../services/stats/service.ts";

const dir = mkdtempSync(join(tmpdir(), "runnerly-contracts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runsChanged = (version = runs.version): AnyServiceDefinition => ({
  ...runs,
  version,
  events: [
    defineEvent("runs", "run.logged", 1, RunEventData.omit({ elevationGainM: true })),
    runUpdated,
    runDeleted,
  ],
});
const CHANGE =
  'runs: event run.logged v1: schema changed without a new version (data field "elevationGainM" removed)';

describe("check and update", () => {
  test("without snapshots the check fails, saying how to make them", async () => {
    const report = await checkContracts([runs, stats], dir);
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    expect(text).toContain(`✘ runs: no snapshot (`);
    expect(text).toContain("create it with `npx runnerly contracts update` and commit it");
    expect(formatReport(report, { updateCommand: "bun scripts/contracts.ts update" })).toContain(
      "create it with `bun scripts/contracts.ts update` and commit it",
    );
  });

  test("update writes them; the check then passes", async () => {
    const { written } = await updateContracts([runs, stats], dir);
    expect(written).toEqual(["runs", "stats"]);
    const report = await checkContracts([runs, stats], dir);
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toBe("✔ runs: unchanged\n✔ stats: unchanged");
  });

  test("a breaking change fails the check, named; update refuses to record it", async () => {
    const before = readFileSync(snapshotFile(dir, "runs"), "utf8");
    const report = await checkContracts([runsChanged(), stats], dir);
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    expect(text).toContain(`✘ runs: 1 breaking change\n    ✘ ${CHANGE}`);
    expect(text).toContain("breaking changes need a new major version of runs (snapshot 1.0.0, now 1.0.0)");
    const { refused, written } = await updateContracts([runsChanged(), stats], dir);
    expect({ refused, written }).toEqual({ refused: ["runs"], written: [] });
    expect(readFileSync(snapshotFile(dir, "runs"), "utf8")).toBe(before);
  });

  test("with a new major version the check passes, reporting it, and update records it", async () => {
    const report = await checkContracts([runsChanged("2.0.0"), stats], dir);
    expect(report.ok).toBe(true);
    expect(formatReport(report)).toContain(
      `✔ runs: 1 breaking change (allowed: new major version)\n    ! ${CHANGE}`,
    );
    expect((await updateContracts([runsChanged("2.0.0"), stats], dir)).written).toEqual(["runs"]);
    expect((await checkContracts([runsChanged("2.0.0"), stats], dir)).ok).toBe(true);
  });

  test("--accept-breaking records a breaking change without a new major version", async () => {
    expect((await checkContracts([runs, stats], dir)).ok).toBe(false); // the field came back: v1 changed again
    const { written } = await updateContracts([runs, stats], dir, { acceptBreaking: true });
    expect(written).toEqual(["runs"]);
    expect((await checkContracts([runs, stats], dir)).ok).toBe(true);
  });

  test("a new major version doesn't excuse a consumer that can no longer decode the events", async () => {
    const withoutUser = { ...runs, version: "2.0.0" } as AnyServiceDefinition;
    withoutUser.events = [
      defineEvent("runs", "run.logged", 1, RunEventData.omit({ user: true })),
      runUpdated,
      runDeleted,
    ];
    const report = await checkContracts([withoutUser, stats], dir);
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain(
      "✘ stats: consumer stats-update-totals: does not decode a minimal run.logged v1: invalid run.logged data",
    );
  });

  test("a snapshot whose service is gone fails the check", async () => {
    const report = await checkContracts([runs], dir);
    expect(report.ok).toBe(false);
    expect(formatReport(report)).toContain("✘ stats: service removed but");
  });
});
