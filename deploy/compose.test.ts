/**
 * compose.yml as Debian's docker-compose (1.29, installed by .ci/run and by
 * `npm test` as root) reads it with `docker-compose config`, and the NATS
 * node configs it mounts, checked by nats-server itself (`-t`). No Docker
 * engine runs here, so nothing is started; deploy/cluster.test.ts runs the
 * same files as real processes.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findServices } from "../scripts/dev/services.ts";
import { NODES, natsServerBinary, nodeConfig, runCommand, writeDeploymentAuth } from "./testing.ts";

const repo = resolve(import.meta.dir, "..");
const services = findServices(join(repo, "services")).map((s) => s.name);

type Service = {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  ports?: { published?: string | number; target?: number }[];
  restart?: string;
  stop_signal?: string;
  stop_grace_period?: string;
  profiles?: string[];
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };

let normalised: Promise<Compose> | undefined;
/** `docker-compose -f compose.yml config`, run once: must exit 0; its output parsed. */
function composeConfig(): Promise<Compose> {
  normalised ??= (async () => {
    const bin = process.env.DOCKER_COMPOSE_BIN || Bun.which("docker-compose");
    if (!bin) {
      throw new Error(
        "docker-compose not found. Install Debian's docker-compose (sudo apt-get install -y docker-compose) " +
          "or set DOCKER_COMPOSE_BIN; .ci/run and `npm test` as root install it.",
      );
    }
    // A clean environment: no COMPOSE_*/EDGE_PORTS of the caller's shell changes what is read.
    const { out, err, code } = await runCommand([bin, "-f", "compose.yml", "config"], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
    });
    if (code !== 0) throw new Error(`docker-compose config exited ${code}:\n${err}`);
    return Bun.YAML.parse(out) as Compose;
  })();
  return normalised;
}

const seconds = (d: string | undefined) => {
  const m = /^(\d+)(s|m)$/.exec(d ?? "");
  return m ? Number(m[1]) * (m[2] === "m" ? 60 : 1) : Number.NaN;
};
const mountOf = (s: Service, target: string) =>
  s.volumes?.find((v) => v.split(":")[1] === target)?.split(":")[0];
const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command.join(" ") : (s.command ?? ""));

describe("compose.yml (docker-compose config)", () => {
  test("docker-compose config accepts it", async () => {
    const compose = await composeConfig();
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["nats-auth", ...NODES, "provision", ...services, "edge"]),
    );
  });

  test("three NATS nodes of the official image, 2.12.3 or later, each with its config and store", async () => {
    const { services: all, volumes } = await composeConfig();
    const nodes = Object.keys(all).filter((n) => all[n]?.image?.startsWith("nats:"));
    expect(nodes.sort()).toEqual([...NODES]);
    const stores = new Set<string>();
    for (const name of NODES) {
      const node = all[name]!;
      const version = /^nats:(\d+)\.(\d+)\.(\d+)(-alpine)?$/.exec(node.image ?? "");
      expect(version).not.toBeNull();
      const [major, minor, patch] = version!.slice(1, 4).map(Number) as [number, number, number];
      expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(2_012_003);
      expect(commandOf(node)).toBe(`--config /etc/nats/${name}.conf`);
      expect(mountOf(node, `/etc/nats/${name}.conf`)).toBe(join(repo, "deploy", "nats", `${name}.conf`));
      expect(mountOf(node, "/etc/nats/auth")).toBe("nats-auth");
      stores.add(mountOf(node, "/var/lib/nats") ?? "");
      // docker stop → lame-duck mode, with time for it to finish (30 s + 10 s grace).
      expect(node.stop_signal).toBe("SIGUSR2");
      expect(seconds(node.stop_grace_period)).toBeGreaterThan(40);
      expect(node.healthcheck?.test?.join(" ")).toContain(
        "http://127.0.0.1:8222/healthz?js-enabled-only=true",
      );
      expect(node.depends_on?.["nats-auth"]?.condition).toBe("service_completed_successfully");
    }
    expect(stores.size).toBe(3);
    expect([...stores].every((v) => v in volumes)).toBe(true);
  });

  test("every service runs twice with its own data volume, creds, R3 events and a health check", async () => {
    const { services: all, volumes } = await composeConfig();
    const dataVolumes = new Set<string>();
    for (const name of services) {
      const s = all[name];
      expect(s, `services/${name} is not in compose.yml`).toBeDefined();
      expect(s!.deploy?.replicas).toBe(2);
      expect(s!.environment?.SERVICE).toBe(name);
      expect(s!.environment?.EVENTS_REPLICAS).toBe("3");
      const data = mountOf(s!, "/var/lib/runnerly");
      expect(data && data in volumes).toBe(true);
      dataVolumes.add(data!);
      // Its own creds, read-only, written there by nats-auth for its user.
      expect(s!.volumes).toContain(`creds-${name}:/run/secrets/nats:ro`);
      expect(mountOf(all["nats-auth"]!, `/creds/${name}`)).toBe(`creds-${name}`);
      expect(s!.healthcheck?.test).toEqual([
        "CMD",
        "bun",
        "deploy/healthcheck.ts",
        `http://127.0.0.1:8080/api/${name}/healthz`,
      ]);
      expect(seconds(s!.stop_grace_period)).toBeGreaterThanOrEqual(15);
      expect(s!.depends_on?.provision?.condition).toBe("service_completed_successfully");
    }
    expect(dataVolumes.size).toBe(services.length);
  });

  test("the edge runs twice, published on 8787, ready on /readyz", async () => {
    const edge = (await composeConfig()).services.edge!;
    expect(edge.deploy?.replicas).toBe(2);
    expect(edge.environment?.SERVICE).toBe("edge");
    expect(edge.healthcheck?.test).toEqual([
      "CMD",
      "bun",
      "deploy/healthcheck.ts",
      "http://127.0.0.1:8787/readyz",
    ]);
    expect(edge.ports?.[0]?.target).toBe(8787);
    expect(String(edge.ports?.[0]?.published)).toMatch(/^8787(-\d+)?$/);
    expect(edge.volumes).toContain("creds-edge:/run/secrets/nats:ro");
  });

  test("users are written before the nodes start; streams are provisioned (R3) before the services", async () => {
    const { services: all } = await composeConfig();
    const auth = all["nats-auth"]!;
    expect(commandOf(auth)).toContain(`--url ${NODES.map((n) => `nats://${n}:4222`).join(",")}`);
    const provision = all.provision!;
    expect(commandOf(provision)).toContain("bun cli/main.ts provision");
    expect(provision.environment?.EVENTS_REPLICAS).toBe("3");
    expect(provision.volumes).toContain("creds-provisioner:/run/secrets/nats:ro");
    for (const node of NODES) expect(provision.depends_on?.[node]?.condition).toBe("service_healthy");
    expect(provision.restart).toBe("no");
  });

  test("every long-running container has a health check", async () => {
    const { services: all } = await composeConfig();
    const longRunning = Object.entries(all).filter(([, s]) => s.restart !== "no");
    expect(longRunning.map(([n]) => n).sort()).toEqual([...NODES, ...services, "edge"].sort());
    for (const [name, s] of longRunning) {
      expect(s.healthcheck?.test?.[0], `${name} has no health check`).toBe("CMD");
    }
  });
});

describe("deploy/nats/nats-<n>.conf", () => {
  const configs = NODES.map((n) => ({ name: n, text: nodeConfig(n) }));

  test.each(
    NODES.map((n) => [n]),
  )("%s: JetStream fsyncs always, lame duck, routes to all three, the users", (name) => {
    const text = nodeConfig(name);
    expect(text).toMatch(new RegExp(`^server_name: ${name}$`, "m"));
    const jetstream = /^jetstream \{([^}]*)\}/m.exec(text)?.[1] ?? "";
    expect(jetstream).toMatch(/^\s*sync_interval: always$/m);
    expect(jetstream).toMatch(/^\s*store_dir: \/var\/lib\/nats\/jetstream$/m);
    expect(seconds(/^lame_duck_duration: (\S+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(30);
    expect(text).toMatch(/^lame_duck_grace_period: \d+s$/m);
    expect(text).toMatch(/^http: 0\.0\.0\.0:8222$/m);
    const cluster = /^cluster \{([\s\S]*?)^\}/m.exec(text)?.[1] ?? "";
    for (const n of NODES) expect(cluster).toContain(`nats-route://${n}:6222`);
    expect(text).toMatch(/^include "auth\/auth\.conf"$/m);
  });

  test("the three differ only in the node's name", () => {
    const generic = (text: string) =>
      text.replace(/^# nats-\d of/m, "# nats-N of").replace(/^server_name: nats-\d$/m, "server_name: nats-N");
    const [first, ...rest] = configs.map((c) => generic(c.text));
    for (const other of rest) expect(other).toBe(first!);
  });

  test("nats-server -t accepts each, with the users deploy/nats-auth.ts writes", async () => {
    const bin = natsServerBinary();
    const dir = mkdtempSync(join(tmpdir(), "runnerly-nats-conf-"));
    try {
      await writeDeploymentAuth(
        join(dir, "auth"),
        NODES.map((n) => `nats://${n}:4222`),
      );
      for (const { name, text } of configs) {
        const file = join(dir, `${name}.conf`);
        writeFileSync(file, text);
        let check = Bun.spawnSync([bin, "-t", "-c", file], { stderr: "pipe", stdout: "pipe" });
        const said = `${check.stdout.toString()}${check.stderr.toString()}`;
        if (check.exitCode !== 0 && /unknown field "sync_interval"/.test(said)) {
          // nats-server before 2.10 (Debian bookworm has 2.9.10) does not know sync_interval; the
          // image compose runs (2.12.3+) does. Everything else must still be valid for this one.
          console.warn(
            `note: ${bin} does not know sync_interval (older than the 2.12.3 compose runs); checked ${name}.conf without that line`,
          );
          writeFileSync(file, text.replace(/^\s*sync_interval: always\n/m, ""));
          check = Bun.spawnSync([bin, "-t", "-c", file], { stderr: "pipe", stdout: "pipe" });
        }
        expect(`${check.stdout.toString()}${check.stderr.toString()}`).toContain("is valid");
        expect(check.exitCode).toBe(0);
      }
      expect(readFileSync(join(dir, "auth", "auth.conf"), "utf8")).toContain("authorization {");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
