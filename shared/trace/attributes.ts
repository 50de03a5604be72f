/**
 * Span attribute names the kit sets, as the OpenTelemetry semantic
 * conventions spell them (HTTP, RPC and messaging), plus the mesh's own.
 * Plain strings, so web-standard code (the edge) needs no package for them:
 * the messaging and RPC names are still "incubating" upstream.
 */
export const Attr = {
  HttpMethod: "http.request.method",
  HttpRoute: "http.route",
  HttpStatus: "http.response.status_code",
  UrlPath: "url.path",
  RpcSystem: "rpc.system",
  RpcService: "rpc.service",
  RpcMethod: "rpc.method",
  RpcStatus: "rpc.response.status_code",
  MessagingSystem: "messaging.system",
  MessagingDestination: "messaging.destination.name",
  MessagingOperation: "messaging.operation.type",
  MessagingMessageId: "messaging.message.id",
  MessagingConsumerGroup: "messaging.consumer.group.name",
  MessagingDeliveries: "messaging.nats.delivery_count",
  /** The mesh's request id (`Mesh-Request-Id`), to find a request's spans from its logs. */
  RequestId: "mesh.request_id",
  /** Which service a proxied request went to. */
  Service: "mesh.service",
  /** What became of an event: `applied`, `skipped`, `retry`, `dead`. */
  EventOutcome: "mesh.event.outcome",
} as const;
