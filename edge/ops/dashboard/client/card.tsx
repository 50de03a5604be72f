/** @jsxImportSource hono/jsx/dom */
/** One service in detail: why it is not healthy, its instances, endpoints, outbox, consumers, tasks and service level. */
import type { InstanceView, ServiceView } from "../types.ts";
import { age, ago, balanceText, budget, count, percentage, shortId, times } from "./format.ts";

export function Badge({ svc }: { svc: ServiceView }) {
  return (
    <span class={`badge ${svc.status}`} data-field="status">
      {svc.status}
    </span>
  );
}

/** A service's card; `now` moves the ages on between snapshots. */
export function Card({ svc, now }: { svc: ServiceView; now: number }) {
  const title = `${svc.name}${svc.prefix ? ` · ${svc.prefix}` : ""}`;
  return (
    <section
      class={`card ${svc.status}`}
      id={`svc-${svc.name}`}
      data-service={svc.name}
      aria-label={svc.name}
    >
      <h3>
        {title} <Badge svc={svc} />
      </h3>
      {svc.description && <p class="muted">{svc.description}</p>}
      {svc.reasons.length > 0 && (
        <ul class="reasons">
          {svc.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      <h4>Instances</h4>
      {svc.instances.length ? (
        <ul class="instances">
          {svc.instances.map((i) => (
            <Instance key={i.id} i={i} now={now} />
          ))}
        </ul>
      ) : (
        <p class="muted">{svc.lastSeen ? `none since ${ago(svc.lastSeen, now)}` : "none"}</p>
      )}
      {svc.lost.length > 0 && (
        <p class="muted">
          Lost: {svc.lost.map((l) => `${shortId(l.id)} v${l.version} ${ago(l.at, now)}`).join(", ")}
        </p>
      )}
      <h4>Endpoints</h4>
      <Endpoints svc={svc} />
      {svc.outbox && (
        <p>
          {`Outbox: ${svc.outbox.backlog} unsent`}
          {svc.outbox.oldestAgeMs !== null ? `, oldest ${age(svc.outbox.oldestAgeMs)}` : ""}
          {svc.stream ? ` → ${svc.stream}` : ""}
        </p>
      )}
      {svc.consumers.length > 0 && <Consumers svc={svc} />}
      {svc.tasks && <Tasks tasks={svc.tasks} />}
      {svc.slo && <Levels slo={svc.slo} />}
    </section>
  );
}

/** One instance: id, version, uptime, and how the edge's balancer sees it (in words; the colour only repeats it). */
function Instance({ i, now }: { i: InstanceView; now: number }) {
  const state = i.balance?.state;
  const classes = [i.missed ? "silent" : "", state === "ejected" || state === "probing" ? state : ""];
  return (
    <li title={i.id} class={classes.filter(Boolean).join(" ")} data-instance={i.id}>
      <code>{shortId(i.id)}</code>
      {` v${i.version}`}
      {i.started ? ` · up ${age(now - Date.parse(i.started))}` : ""}
      {i.missed ? " · not answering" : ""}
      {i.balance && (
        <span data-field="balance" class={`balance ${i.balance.state}`}>
          {` · ${balanceText(i.balance)}`}
        </span>
      )}
    </li>
  );
}

/** Declared availability against the edge's measurement, and the error budget left. */
function Levels({ slo }: { slo: NonNullable<ServiceView["slo"]> }) {
  const measured = slo.availability === null ? "no requests yet" : percentage(slo.availability);
  const left = slo.budgetRemaining === null ? "" : budget(slo.budgetRemaining);
  return (
    <p data-field="slo" class={slo.burning ? "burning" : ""}>
      {`Service level (${slo.window}): ${measured}`}
      {slo.objective !== null ? ` of ${slo.objective} % promised` : ""}
      {left === "exhausted" ? " · error budget exhausted" : left ? ` · budget left ${left}` : ""}
      {slo.burning ? ` · burning ${times(slo.burnRate)} too fast` : ""}
    </p>
  );
}

function Endpoints({ svc }: { svc: ServiceView }) {
  // The kit's operator endpoints (outbox, dead letters, replay, rebuild) share one line.
  const admin = svc.endpoints.filter((e) => e.kind === "admin");
  const names = admin.map((e) => e.name.replace(/^admin-/, "")).join(", ");
  const adminRequests = admin.reduce((n, e) => n + e.requests, 0);
  return (
    <ul class="endpoints">
      {svc.endpoints
        .filter((e) => e.kind !== "admin")
        .map((e) => (
          <li key={e.name}>
            <code>{e.name}</code>
            {e.kind && <span class="kind">{e.kind}</span>}
            {` ${e.subject} · ${count(e.requests, "request")}, ${count(e.errors, "error")}`}
          </li>
        ))}
      {admin.length > 0 && (
        <li key="admin">
          <code>{names}</code>
          <span class="kind">admin</span>
          {` · ${count(adminRequests, "request")}`}
        </li>
      )}
    </ul>
  );
}

/** The queue it works (waiting, in progress, oldest, per task) and the tasks it submits. */
function Tasks({ tasks }: { tasks: NonNullable<ServiceView["tasks"]> }) {
  const q = tasks.queue;
  return (
    <div data-field="tasks">
      {q && (
        <p>
          {`Tasks: ${q.pending} waiting, ${q.inProgress} in progress in ${q.stream}`}
          {q.oldestAgeMs !== null ? `, oldest ${age(q.oldestAgeMs)}` : ""}
          {q.tasks.some((t) => t.depth > 0)
            ? ` (${q.tasks
                .filter((t) => t.depth > 0)
                .map((t) => `${t.task} ${t.depth}`)
                .join(", ")})`
            : ""}
        </p>
      )}
      {tasks.submits.length > 0 && (
        <p>{`Submits ${tasks.submits.join(", ")} · ${count(tasks.sentPending, "task")} waiting for a result`}</p>
      )}
    </div>
  );
}

function Consumers({ svc }: { svc: ServiceView }) {
  return (
    <div class="consumers-wrap">
      <table class="consumers">
        <caption>Consumers</caption>
        <thead>
          <tr>
            {["Consumer ← stream", "Pending", "Unacked", "Redelivered", "Dead"].map((t) => (
              <th key={t} scope="col">
                {t}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {svc.consumers.map((c) => (
            <tr key={`${c.stream}/${c.name}`} data-consumer={c.name}>
              <td>
                {c.name}
                <br />
                <small class="muted">{`← ${c.stream}`}</small>
              </td>
              <td class="num">{c.pending}</td>
              <td class="num">{c.ackPending}</td>
              <td class="num">{c.redelivered}</td>
              <td class={c.dead ? "num dead" : "num"}>{c.dead}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
