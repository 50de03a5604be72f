/**
 * The `/docs` page: an HTML shell that loads Swagger UI's stylesheet and
 * bundle from the edge itself (`/docs/assets/…`, never a CDN) and the start
 * script that mounts it on `/openapi.json`. Until Swagger UI has rendered,
 * the page says what it is doing and links the document; without JavaScript,
 * or when the bundle does not load, it says so. Web standards only.
 */
import { DOCS_ASSETS } from "./assets.gen.ts";

/** A file the page may load: `swagger-ui-bundle.js`, `swagger-ui.css`, `init.js`. */
export type DocsAssetName = keyof typeof DOCS_ASSETS;

/**
 * The page's policy: scripts, styles and calls to this origin only, no inline
 * script or style, no eval. Swagger UI draws its icons as `data:` images,
 * hence `img-src data:`; "Try it out" calls the API here (`connect-src 'self'`).
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * The URL of an embedded file, named by its content: `/docs/assets/<hash>/<name>`
 * (so it may be cached for good).
 *
 * @example
 * assetPath("swagger-ui.css"); // "/docs/assets/7eb9f5a125e4bc9b/swagger-ui.css"
 */
export function assetPath(name: DocsAssetName): string {
  return `/docs/assets/${DOCS_ASSETS[name].hash}/${name}`;
}

/** The page's HTML (the same for every request). */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runnerly API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetPath("swagger-ui.css")}">
<script defer src="${assetPath("swagger-ui-bundle.js")}"></script>
<script defer src="${assetPath("init.js")}"></script>
</head>
<body>
<main id="docs-status" data-state="loading">
<h1>Runnerly API</h1>
<p id="docs-message">Loading the interactive API docs…</p>
<noscript><p>The interactive API docs need JavaScript.</p></noscript>
<p>The OpenAPI document of every service behind this gateway: <a href="/openapi.json">/openapi.json</a>.</p>
</main>
<div id="swagger-ui"></div>
</body>
</html>
`;
