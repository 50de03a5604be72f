/** @jsxImportSource hono/jsx/dom */
/**
 * The dashboard page: follows `/_/events` (Server-Sent Events, one snapshot
 * a second) with EventSource, which reconnects by itself; a stream the
 * server refuses is opened again with a backoff. Each snapshot is rendered
 * by hono/jsx/dom, which changes only what changed, so a reader's focus,
 * selection and typing survive every refresh. Ages move on each second.
 */
import { useEffect, useState } from "hono/jsx/dom";
import type { ServiceView, Snapshot } from "../types.ts";
import { Badge, Card } from "./card.tsx";
import { Charts } from "./charts.tsx";
import { age, ago, count, millis, rate, share } from "./format.ts";
import { Topology } from "./topology.tsx";

const EVENTS_URL = "/_/events";
/** No snapshot for this long: the figures on screen are marked stale. */
const STALE_MS = 5000;

type Link = { state: string; text: string };

export function App() {
  const [snap, setSnap] = useState<Snapshot | null>(null);
  const [link, setLink] = useState<Link>({ state: "", text: "Connecting…" });
  const [received, setReceived] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [filter, setFilter] = useState("");

  useEffect(() => {
    let source: EventSource | null = null;
    let retryMs = 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      source = new EventSource(EVENTS_URL);
      const s = source;
      s.addEventListener("open", () => {
        retryMs = 1000;
        setLink({ state: "live", text: "Live" });
      });
      s.addEventListener("snapshot", (e) => {
        setReceived(Date.now());
        setSnap(JSON.parse((e as MessageEvent<string>).data) as Snapshot);
      });
      s.addEventListener("error", () => {
        if (s.readyState === EventSource.CLOSED) {
          // Refused (e.g. a 5xx while the edge restarts): EventSource gives up, so try again ourselves.
          setLink({ state: "down", text: `Disconnected; retrying in ${Math.round(retryMs / 1000)} s` });
          timer = setTimeout(connect, retryMs);
          retryMs = Math.min(30_000, retryMs * 2);
        } else {
          setLink({ state: "reconnecting", text: "Reconnecting…" });
        }
      });
    };
    connect();
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      source?.close();
      clearTimeout(timer);
      clearInterval(tick);
    };
  }, []);

  const stale = received > 0 && now - received > STALE_MS;
  const shown = stale ? { state: "stale", text: `No update for ${age(now - received)}` } : link;
  const wanted = filter.trim().toLowerCase();
  const services = (snap?.services ?? []).filter((s) => !wanted || s.name.toLowerCase().includes(wanted));
  return (
    <>
      <header>
        <h1>Runnerly mesh</h1>
        <output id="link" class={`link-state ${shown.state}`}>
          {shown.text}
        </output>
      </header>
      <main>
        <p id="summary" class="muted" data-through={snap?.figuresThrough ?? ""}>
          {snap ? summary(snap, now) : "Waiting for the first snapshot…"}
        </p>
        <p id="banner" class="banner" role="alert" hidden={!snap || snap.meshReachable}>
          {snap && !snap.meshReachable
            ? "The edge gets no answer from NATS: figures below are the last known."
            : ""}
        </p>
        <p class="filter">
          <label for="filter">Show services named</label>{" "}
          <input
            id="filter"
            type="search"
            autocomplete="off"
            placeholder="all"
            onInput={(e: Event) => setFilter((e.target as HTMLInputElement).value)}
          />
        </p>
        <h2 id="services-heading">Services</h2>
        <div class="scroll">
          <table aria-labelledby="services-heading">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Status</th>
                <th scope="col">Instances</th>
                <th scope="col">Versions</th>
                <th scope="col" title="Requests per second through this edge">
                  Edge req/s
                </th>
                <th scope="col" title="5xx share at this edge">
                  Edge errors
                </th>
                <th scope="col" title="99th percentile at this edge">
                  Edge p99
                </th>
                <th scope="col" title="Requests per second the service counted ($SRV.STATS, every caller)">
                  Service req/s
                </th>
                <th scope="col" title="Mean processing time at the service">
                  Service avg
                </th>
                <th scope="col">Circuit</th>
                <th scope="col" title="Events waiting in the outbox">
                  Outbox
                </th>
                <th scope="col" title="Events not yet delivered to its consumers">
                  Consumer lag
                </th>
              </tr>
            </thead>
            <tbody id="overview">
              {services.map((svc) => (
                <Row key={svc.name} svc={svc} />
              ))}
            </tbody>
          </table>
        </div>
        <h2>Over time</h2>
        {snap && <Charts charts={snap.charts} />}
        <h2>Topology</h2>
        <div id="topology" class="scroll">
          {snap && <Topology topology={snap.topology} />}
        </div>
        <h2>Details</h2>
        <div id="cards" class="cards">
          {services.map((svc) => (
            <Card key={svc.name} svc={svc} now={now} />
          ))}
        </div>
      </main>
    </>
  );
}

function summary(s: Snapshot, now: number): string {
  const counts = { healthy: 0, degraded: 0, down: 0 };
  for (const svc of s.services) counts[svc.status] += 1;
  const workers =
    s.workers.answeredBy === null
      ? ""
      : ` · ${count(s.workers.merged, "worker")} summed, answered by worker ${s.workers.answeredBy}`;
  return (
    `${count(s.services.length, "service")}: ${counts.healthy} healthy, ${counts.degraded} degraded, ${counts.down} down · ` +
    `updated ${ago(s.at, now)} · figures over the last ${s.windowSeconds} s${workers}`
  );
}

function lag(svc: ServiceView): string {
  if (svc.consumers.length === 0) return "–";
  return String(svc.consumers.reduce((n, c) => n + c.pending, 0));
}

function Row({ svc }: { svc: ServiceView }) {
  const versions = [...new Set(svc.instances.map((i) => i.version))].join(", ") || "–";
  return (
    <tr data-service={svc.name} class={svc.status}>
      <th scope="row">
        <a href={`#svc-${svc.name}`}>{svc.name}</a>
      </th>
      <td>
        <Badge svc={svc} />
      </td>
      <td class="num" data-field="instances">
        {String(svc.instances.length)}
      </td>
      <td data-field="versions">{versions}</td>
      <td class="num" data-field="edge-rps">
        {rate(svc.edge.requestsPerSecond)}
      </td>
      <td class="num" data-field="edge-errors">
        {share(svc.edge.errorRate)}
      </td>
      <td class="num" data-field="edge-p99">
        {millis(svc.edge.p99Ms)}
      </td>
      <td class="num" data-field="service-rps">
        {rate(svc.service.requestsPerSecond)}
      </td>
      <td class="num" data-field="service-avg">
        {millis(svc.service.averageMs)}
      </td>
      <td data-field="circuit" class={`circuit ${svc.circuit ?? ""}`}>
        {svc.circuit ?? "–"}
      </td>
      <td class="num" data-field="outbox">
        {svc.outbox ? String(svc.outbox.backlog) : "–"}
      </td>
      <td class="num" data-field="lag">
        {lag(svc)}
      </td>
    </tr>
  );
}
