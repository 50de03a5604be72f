/**
 * The dashboard page's script: follows `/_/events` (Server-Sent Events, one
 * snapshot a second) with EventSource, which reconnects by itself; a stream
 * the server refuses is opened again with a backoff. Each snapshot redraws
 * the overview table, the topology and one card per service.
 */
import type { InstanceView, ServiceView, Snapshot } from "../types.ts";
import { h } from "./dom.ts";
import { age, balanceText, millis, rate, share, shortId } from "./format.ts";
import { topologySvg } from "./topology.ts";
import "./styles.css";

const EVENTS_URL = "/_/events";
/** No snapshot for this long: the figures on screen are marked stale. */
const STALE_MS = 5000;

const byId = (id: string) => document.getElementById(id) as HTMLElement;
let lastAt = 0;
let retryMs = 1000;

function connect(): void {
  const source = new EventSource(EVENTS_URL);
  source.addEventListener("open", () => {
    retryMs = 1000;
    link("live", "Live");
  });
  source.addEventListener("snapshot", (e) => {
    lastAt = Date.now();
    render(JSON.parse((e as MessageEvent<string>).data) as Snapshot);
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (e.g. a 5xx while the edge restarts): EventSource gives up, so try again ourselves.
      link("down", `Disconnected; retrying in ${Math.round(retryMs / 1000)} s`);
      setTimeout(connect, retryMs);
      retryMs = Math.min(30_000, retryMs * 2);
    } else {
      link("reconnecting", "Reconnecting…");
    }
  });
}

function link(state: string, text: string): void {
  const el = byId("link");
  el.className = `link-state ${state}`;
  el.textContent = text;
}

setInterval(() => {
  if (lastAt && Date.now() - lastAt > STALE_MS) link("stale", `No update for ${age(Date.now() - lastAt)}`);
}, 1000);

function render(s: Snapshot): void {
  const counts = { healthy: 0, degraded: 0, down: 0 };
  for (const svc of s.services) counts[svc.status] += 1;
  byId("summary").textContent =
    `${s.services.length} services: ${counts.healthy} healthy, ${counts.degraded} degraded, ${counts.down} down · ` +
    `updated ${new Date(s.at).toLocaleTimeString()} · figures over the last ${s.windowSeconds} s`;
  const banner = byId("banner");
  banner.hidden = s.meshReachable;
  banner.textContent = s.meshReachable
    ? ""
    : "The edge gets no answer from NATS: figures below are the last known.";
  byId("overview").replaceChildren(...s.services.map(row));
  byId("topology").replaceChildren(topologySvg(s));
  byId("cards").replaceChildren(...s.services.map(card));
}

function badge(svc: ServiceView): HTMLElement {
  return h("span", { class: `badge ${svc.status}`, "data-field": "status" }, svc.status);
}

function lag(svc: ServiceView): string {
  if (svc.consumers.length === 0) return "–";
  return String(svc.consumers.reduce((n, c) => n + c.pending, 0));
}

function row(svc: ServiceView): HTMLTableRowElement {
  const versions = [...new Set(svc.instances.map((i) => i.version))].join(", ") || "–";
  const num = (field: string, text: string) => h("td", { class: "num", "data-field": field }, text);
  return h(
    "tr",
    { "data-service": svc.name, class: svc.status },
    h("th", { scope: "row" }, h("a", { href: `#svc-${svc.name}` }, svc.name)),
    h("td", {}, badge(svc)),
    num("instances", String(svc.instances.length)),
    h("td", { "data-field": "versions" }, versions),
    num("edge-rps", rate(svc.edge.requestsPerSecond)),
    num("edge-errors", share(svc.edge.errorRate)),
    num("edge-p99", millis(svc.edge.p99Ms)),
    num("service-rps", rate(svc.service.requestsPerSecond)),
    num("service-avg", millis(svc.service.averageMs)),
    h("td", { "data-field": "circuit", class: `circuit ${svc.circuit ?? ""}` }, svc.circuit ?? "–"),
    num("outbox", svc.outbox ? String(svc.outbox.backlog) : "–"),
    num("lag", lag(svc)),
  );
}

function card(svc: ServiceView): HTMLElement {
  const title = `${svc.name}${svc.prefix ? ` · ${svc.prefix}` : ""}`;
  return h(
    "section",
    { class: `card ${svc.status}`, id: `svc-${svc.name}`, "data-service": svc.name, "aria-label": svc.name },
    h("h3", {}, title, " ", badge(svc)),
    svc.description ? h("p", { class: "muted" }, svc.description) : null,
    svc.reasons.length ? h("ul", { class: "reasons" }, ...svc.reasons.map((r) => h("li", {}, r))) : null,
    h("h4", {}, "Instances"),
    svc.instances.length
      ? h("ul", { class: "instances" }, ...svc.instances.map(instance))
      : h(
          "p",
          { class: "muted" },
          svc.lastSeen ? `none since ${new Date(svc.lastSeen).toLocaleTimeString()}` : "none",
        ),
    svc.lost.length
      ? h(
          "p",
          { class: "muted" },
          `Lost: ${svc.lost.map((l) => `${shortId(l.id)} v${l.version}`).join(", ")}`,
        )
      : null,
    h("h4", {}, "Endpoints"),
    endpoints(svc),
    svc.outbox
      ? h(
          "p",
          {},
          `Outbox: ${svc.outbox.backlog} unsent`,
          svc.outbox.oldestAgeMs !== null ? `, oldest ${age(svc.outbox.oldestAgeMs)}` : "",
          svc.stream ? ` → ${svc.stream}` : "",
        )
      : null,
    svc.consumers.length ? consumers(svc) : null,
    svc.slo ? levels(svc.slo) : null,
  );
}

/** One instance: id, version, uptime, and how the edge's balancer sees it (in words; the colour only repeats it). */
function instance(i: InstanceView): HTMLElement {
  const state = i.balance?.state;
  const classes = [i.missed ? "silent" : "", state === "ejected" || state === "probing" ? state : ""];
  return h(
    "li",
    { title: i.id, class: classes.filter(Boolean).join(" "), "data-instance": i.id },
    h("code", {}, shortId(i.id)),
    ` v${i.version}`,
    i.started ? ` · up ${age(Date.now() - Date.parse(i.started))}` : "",
    i.missed ? " · not answering" : "",
    i.balance
      ? h(
          "span",
          { "data-field": "balance", class: `balance ${i.balance.state}` },
          ` · ${balanceText(i.balance)}`,
        )
      : null,
  );
}

/** Declared availability against the edge's measurement, and the error budget left. */
function levels(slo: NonNullable<ServiceView["slo"]>): HTMLElement {
  const measured = slo.availability === null ? "no requests yet" : `${slo.availability.toFixed(3)} %`;
  return h(
    "p",
    { "data-field": "slo", class: slo.burning ? "burning" : "" },
    `Service level (${slo.window}): ${measured}`,
    slo.objective !== null ? ` of ${slo.objective} % promised` : "",
    slo.budgetRemaining !== null ? ` · budget left ${Math.round(slo.budgetRemaining)} %` : "",
    slo.burning ? ` · burning ${slo.burnRate}× too fast` : "",
  );
}

function endpoints(svc: ServiceView): HTMLElement {
  // The kit's operator endpoints (outbox, dead letters, replay, rebuild) share one line.
  const admin = svc.endpoints.filter((e) => e.kind === "admin");
  const items = svc.endpoints
    .filter((e) => e.kind !== "admin")
    .map((e) =>
      h(
        "li",
        {},
        h("code", {}, e.name),
        e.kind ? h("span", { class: "kind" }, e.kind) : null,
        ` ${e.subject} · ${e.requests} requests, ${e.errors} errors`,
      ),
    );
  if (admin.length) {
    const names = admin.map((e) => e.name.replace(/^admin-/, "")).join(", ");
    const requests = admin.reduce((n, e) => n + e.requests, 0);
    items.push(
      h("li", {}, h("code", {}, names), h("span", { class: "kind" }, "admin"), ` · ${requests} requests`),
    );
  }
  return h("ul", { class: "endpoints" }, ...items);
}

function consumers(svc: ServiceView): HTMLElement {
  const table = h(
    "table",
    { class: "consumers" },
    h("caption", {}, "Consumers"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Consumer ← stream", "Pending", "Unacked", "Redelivered", "Dead"].map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      ...svc.consumers.map((c) =>
        h(
          "tr",
          { "data-consumer": c.name },
          h("td", {}, c.name, h("br"), h("small", { class: "muted" }, `← ${c.stream}`)),
          h("td", { class: "num" }, c.pending),
          h("td", { class: "num" }, c.ackPending),
          h("td", { class: "num" }, c.redelivered),
          h("td", { class: c.dead ? "num dead" : "num" }, c.dead),
        ),
      ),
    ),
  );
  return h("div", { class: "consumers-wrap" }, table);
}

connect();
