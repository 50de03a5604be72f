/** @jsxImportSource hono/jsx */
/**
 * The Runnerly web page as a Hono sub-app: `GET /` is an HTML shell rendered
 * with Hono JSX on the server, `GET /app.js` and `GET /app.css` the bundle
 * from `assets.gen.ts`. Web standards only (no file reads), so the edge
 * serves it the same on Bun, Deno and workerd.
 */

import type { Context } from "hono";
import { Hono } from "hono";
import { APP_CSS, APP_CSS_HASH, APP_JS, APP_JS_HASH } from "./assets.gen.ts";

/**
 * The page's policy: everything from this origin, no inline script or style,
 * no plugins, no framing, forms and `<base>` pinned. The bundle sets sizes as
 * SVG attributes, never style attributes, so `style-src 'self'` holds.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SHELL_HASH = `${APP_JS_HASH}${APP_CSS_HASH}`;

function Shell() {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta
          name="description"
          content="Runnerly: log your runs, see your weekly totals, train for a race."
        />
        <title>Runnerly</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`/app.css?v=${APP_CSS_HASH}`} />
        <script type="module" src={`/app.js?v=${APP_JS_HASH}`} />
      </head>
      <body>
        <main id="app">
          <h1>Runnerly</h1>
          <noscript>
            <p>Runnerly's page needs JavaScript. The API works without it: see /openapi.json.</p>
          </noscript>
          <p>Loading…</p>
        </main>
      </body>
    </html>
  );
}

const SHELL = `<!doctype html>${(<Shell />).toString()}`;

/**
 * The web page's routes, to mount on the edge before its proxy:
 * `app.route("/", webPage())`. Assets are cached for a year when asked for
 * with their current `?v=` hash (the shell links them so), and revalidated
 * by ETag otherwise; the shell itself is always revalidated.
 *
 * @example
 * const app = new Hono();
 * app.route("/", webPage());
 * app.all("*", proxy(...));
 */
export function webPage(): Hono {
  const app = new Hono();
  app.get("/", (c) =>
    serve(c, SHELL, "text/html; charset=utf-8", SHELL_HASH, {
      "cache-control": "no-cache",
      "content-security-policy": PAGE_CSP,
    }),
  );
  app.get("/app.js", (c) =>
    serve(c, APP_JS, "text/javascript; charset=utf-8", APP_JS_HASH, caching(c, APP_JS_HASH)),
  );
  app.get("/app.css", (c) =>
    serve(c, APP_CSS, "text/css; charset=utf-8", APP_CSS_HASH, caching(c, APP_CSS_HASH)),
  );
  return app;
}

function caching(c: Context, hash: string): Record<string, string> {
  // Only a URL naming this very content may be kept without asking again.
  const current = c.req.query("v") === hash;
  return { "cache-control": current ? "public, max-age=31536000, immutable" : "no-cache" };
}

function serve(
  c: Context,
  body: string,
  type: string,
  hash: string,
  headers: Record<string, string>,
): Response {
  const etag = `"${hash}"`;
  const all = { etag, "content-type": type, "x-content-type-options": "nosniff", ...headers };
  const known = c.req
    .header("if-none-match")
    ?.split(",")
    .some((t) => t.trim().replace(/^W\//, "") === etag);
  if (known) return new Response(null, { status: 304, headers: all });
  return new Response(body, { status: 200, headers: all });
}
