/**
 * `/docs`: interactive API docs (Swagger UI, from swagger-ui-dist, pinned)
 * served entirely by the edge, so they work offline. The files are embedded
 * at build time (assets.gen.ts, by build.ts) gzipped: sent as they are to a
 * client that accepts gzip, unpacked with `DecompressionStream` for one that
 * does not. Web standards only, the same on Bun, Deno and workerd.
 */
import { MeshError } from "@runnerly/kit/web";
import { type Context, Hono } from "hono";
import { DOCS_ASSETS } from "./assets.gen.ts";
import { DOCS_CSP, DOCS_HTML, type DocsAssetName } from "./page.ts";

export { assetPath, DOCS_CSP } from "./page.ts";

const decoded = new Map<DocsAssetName, Uint8Array<ArrayBuffer>>();

/** An asset's gzipped bytes, decoded from base64 once, on first use (not at every worker's start). */
function gzipped(name: DocsAssetName): Uint8Array<ArrayBuffer> {
  let bytes = decoded.get(name);
  if (!bytes) {
    bytes = Uint8Array.from(atob(DOCS_ASSETS[name].gzip), (c) => c.charCodeAt(0));
    decoded.set(name, bytes);
  }
  return bytes;
}

function isAsset(name: string): name is DocsAssetName {
  return Object.hasOwn(DOCS_ASSETS, name);
}

function acceptsGzip(c: Context): boolean {
  return /\bgzip\b/i.test(c.req.header("accept-encoding") ?? "");
}

function serveAsset(c: Context, name: DocsAssetName): Response {
  const asset = DOCS_ASSETS[name];
  const etag = `"${asset.hash}"`;
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "cache-control": "public, max-age=31536000, immutable",
    etag,
    vary: "Accept-Encoding",
  };
  if (c.req.header("if-none-match")?.includes(etag)) return new Response(null, { status: 304, headers });
  if (acceptsGzip(c)) {
    // workerd would compress the body again unless told it already is (Bun and Deno ignore the field).
    const init = { status: 200, headers: { ...headers, "content-encoding": "gzip" }, encodeBody: "manual" };
    return new Response(gzipped(name), init as ResponseInit);
  }
  const body = new Blob([gzipped(name)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(body, { status: 200, headers });
}

/**
 * The docs' routes, to mount on the edge before its proxy: `GET /docs`, the
 * page (revalidated each time), and `GET /docs/assets/<hash>/<name>`, its
 * files, cached for a year and immutable since the URL names the content. A
 * name or hash that is not the current one is a 404 problem.
 *
 * @example
 * app.route("/", docsPage());
 */
export function docsPage(): Hono {
  const app = new Hono();
  app.get("/docs", (c) =>
    c.html(DOCS_HTML, 200, { "cache-control": "no-cache", "content-security-policy": DOCS_CSP }),
  );
  app.get("/docs/assets/:hash/:name", (c) => {
    const { hash, name } = c.req.param();
    if (!isAsset(name) || DOCS_ASSETS[name].hash !== hash) {
      return new MeshError(404, { detail: `The docs have no file ${c.req.path}.` }).toResponse(c.req.path);
    }
    return serveAsset(c, name);
  });
  return app;
}
