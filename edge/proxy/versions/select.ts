/**
 * Which subject a request goes to when several major versions of a service
 * run side by side. A client may ask for one major with `Api-Version: 2`
 * (`v2` also reads); it then reaches only instances of that major, on their
 * `svc.<name>.http.v<major>` endpoint. An unversioned request goes by the
 * service's canary setting, when it has one: `percent` % to the canary major,
 * the rest to the stable major (the highest other major running); without a
 * setting it goes to the shared `svc.<name>.http` group (every instance, as
 * during a rolling upgrade). The ADR-32 `version` of each instance decides
 * which major it belongs to. Web standards only.
 */
import { type Canary, MeshError } from "@runnerly/kit/web";
import type { Route } from "../../discovery/route-table.ts";

/** A service's canary: `percent` (0–100) of unversioned requests go to `major`. */
export type { Canary };

export type Destination = { subject: string; major: number | null };

/**
 * The destination of one request, or a problem: 400 for a malformed
 * `Api-Version`, 404 when that major does not run (naming the ones that do).
 *
 * @example
 * chooseDestination(route, req.headers.get("api-version"), canaries.get(route.service));
 */
export function chooseDestination(
  route: Route,
  requested: string | null | undefined,
  canary: Canary | undefined,
  random: () => number = Math.random,
): Destination | MeshError {
  if (requested !== null && requested !== undefined && requested.trim() !== "") {
    const m = /^v?(\d{1,6})$/i.exec(requested.trim());
    if (!m) {
      return new MeshError(400, {
        detail: `Api-Version must be a major version number like 2 (got ${JSON.stringify(requested.slice(0, 40))})`,
      });
    }
    const major = Number(m[1]);
    const group = route.versions.find((v) => v.major === major);
    if (group?.subject) return { subject: group.subject, major };
    // The only major running, though not addressable on its own: the shared group is that major.
    if (group && route.versions.length === 1) return { subject: route.subject, major };
    const running = route.versions.map((v) => v.major).join(", ") || "none";
    return new MeshError(404, {
      detail: `${route.service} has no running instance of major version ${major} (running: ${running})`,
    });
  }
  if (!canary) return { subject: route.subject, major: null };
  const target = route.versions.find((v) => v.major === canary.major && v.subject);
  const stable = [...route.versions].reverse().find((v) => v.major !== canary.major && v.subject);
  if (!stable)
    return target && canary.percent > 0 ? { subject: target.subject!, major: target.major } : shared(route);
  if (target && random() * 100 < canary.percent) return { subject: target.subject!, major: target.major };
  return { subject: stable.subject!, major: stable.major };
}

function shared(route: Route): Destination {
  return { subject: route.subject, major: null };
}
