/**
 * An OTLP/HTTP trace receiver for tests: `POST /v1/traces` with a JSON
 * `ExportTraceServiceRequest`, kept as a flat list of spans with their
 * service names. Answers 415 to protobuf, so a wrong exporter shows.
 */
import type { Server } from "bun";

/** One received span, ids in hex. */
export type ReceivedSpan = {
  service: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
};

/** OTLP span kinds by name, as `ReceivedSpan.kind` holds them. */
export const OtlpKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValue = { key: string; value: AnyValue };
type OtlpSpan = {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number };
};
type ExportRequest = {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
};

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server: Server<undefined> | null = null;

  /** Starts listening on a free loopback port. */
  static start(): OtlpReceiver {
    const receiver = new OtlpReceiver();
    receiver.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => receiver.receive(req),
    });
    return receiver;
  }

  /** The base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` takes it. */
  get url(): string {
    return `http://127.0.0.1:${this.server?.port}`;
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /**
   * One span of `traceId` for each wanted service and kind, or null while any
   * has not arrived yet (for `waitFor`).
   *
   * @example
   * const spans = await waitFor(() => receiver.spansOf(traceId, { request: ["runs", OtlpKind.server] }));
   */
  spansOf<K extends string>(
    traceId: string,
    wanted: Record<K, [service: string, kind: number]>,
  ): Record<K, ReceivedSpan> | null {
    const all = this.trace(traceId);
    const found = {} as Record<K, ReceivedSpan>;
    for (const [key, [service, kind]] of Object.entries(wanted) as [K, [string, number]][]) {
      const span = all.find((s) => s.service === service && s.kind === kind);
      if (!span) return null;
      found[key] = span;
    }
    return found;
  }

  async stop(): Promise<void> {
    await this.server?.stop(true);
  }

  private async receive(req: Request): Promise<Response> {
    const { pathname } = new URL(req.url);
    if (req.method !== "POST" || pathname !== "/v1/traces") return new Response(null, { status: 404 });
    if (!req.headers.get("content-type")?.includes("json")) return new Response(null, { status: 415 });
    const body = (await req.json()) as ExportRequest;
    for (const rs of body.resourceSpans ?? []) {
      const service = String(attributes(rs.resource?.attributes)["service.name"]);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service,
            name: s.name,
            kind: s.kind,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            attributes: attributes(s.attributes),
            status: s.status?.code ?? 0,
          });
        }
      }
    }
    return Response.json({ partialSuccess: {} });
  }
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
  }
  return out;
}
