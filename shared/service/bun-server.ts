/**
 * The plain-HTTP side of a service on Bun (its own port, for health checks and
 * direct use). Requests arriving here did not pass the edge, so any mesh
 * headers they carry are dropped: only the edge may vouch for a caller.
 */
import { MeshError } from "../errors/index.ts";
import { isReservedHeader } from "../protocol/index.ts";

export type HttpServer = { url: string; stop(): Promise<void> };

export function serveDirectHttp(
  fetch: (request: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
): HttpServer {
  const server = Bun.serve({
    hostname,
    port,
    fetch(request) {
      // Bun hands over a relative URL when Host is missing (HTTP/1.0) or is not a host.
      if (!URL.canParse(request.url)) {
        return new MeshError(400, { detail: "The request needs a valid Host header." }).toResponse();
      }
      let tainted = false;
      for (const name of request.headers.keys()) if (isReservedHeader(name)) tainted = true;
      if (!tainted) return fetch(request);
      const headers = new Headers();
      for (const [k, v] of request.headers) if (!isReservedHeader(k)) headers.append(k, v);
      return fetch(new Request(request, { headers }));
    },
  });
  return {
    url: `http://${hostname}:${server.port}`,
    async stop() {
      await server.stop();
    },
  };
}
