/**
 * TEMPORARY, test-only: a stand-in for the edge's token check, used by the
 * journey test only while the edge does not verify `Authorization: Bearer`
 * itself (the stack probes that first). It verifies the access token the way
 * the edge is to (jose, accounts' JWKS, pinned alg/issuer/audience/typ) and
 * then calls the service over NATS with `Mesh-User` set, as the edge would.
 * Delete this file once the edge's auth has landed.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import {
  ACCESS_TOKEN_TYP,
  type Jwks,
  TOKEN_ALG,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "@runnerly/accounts/contract.ts";
import { MeshError } from "@runnerly/kit";
import { meshFetch } from "@runnerly/kit/testing";
import { createLocalJWKSet, jwtVerify } from "jose";

type Fetch = (req: Request) => Response | Promise<Response>;

/**
 * Wraps `edgeFetch`: a request under `/api/<service>/` (accounts excepted)
 * carrying a bearer token is verified here and sent straight to the service
 * with the token's subject as the caller; everything else goes to the edge.
 */
export function standInAuth(nc: NatsConnection, edgeFetch: Fetch): Fetch {
  let jwks: Promise<Jwks> | null = null;
  const keys = async () => {
    jwks ??= Promise.resolve(edgeFetch(new Request("http://edge/api/accounts/.well-known/jwks.json"))).then(
      (res) => res.json() as Promise<Jwks>,
    );
    return createLocalJWKSet(await jwks);
  };
  return async function standInAuthFetch(req) {
    const url = new URL(req.url);
    const [, api, service] = url.pathname.split("/");
    const token = req.headers.get("authorization")?.match(/^Bearer (.+)$/)?.[1];
    if (api !== "api" || !service || service === "accounts" || !token) return edgeFetch(req);
    let user: string;
    try {
      const { payload } = await jwtVerify(token, await keys(), {
        algorithms: [TOKEN_ALG],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        typ: ACCESS_TOKEN_TYP,
      });
      user = String(payload.sub);
    } catch {
      return new MeshError(401, { detail: "The access token is not valid." }).toResponse(url.pathname);
    }
    const headers = Object.fromEntries(
      [...req.headers].filter(([name]) => name !== "authorization" && name !== "host"),
    );
    const body =
      req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer());
    try {
      return await meshFetch(nc, service, `${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        user,
        ...(body ? { body } : {}),
      });
    } catch {
      // What the edge answers when no instance replies (no responders, timeout).
      return new MeshError(503, { detail: `Service ${service} is unavailable.` }).toResponse(url.pathname);
    }
  };
}
