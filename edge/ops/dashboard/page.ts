/**
 * The dashboard's HTML: one self-contained page (script and styles inline,
 * nothing from another origin, so it works offline), allowed by a policy
 * that trusts only this response's nonce. The script (client/, hono/jsx/dom
 * and uPlot) renders it from `/_/events`. Web standards only.
 */
import { DASHBOARD_CSS, DASHBOARD_JS } from "./assets.gen.ts";

// Inlined text must not close its own element early.
for (const [text, tag] of [
  [DASHBOARD_JS, "script"],
  [DASHBOARD_CSS, "style"],
] as const) {
  if (text.toLowerCase().includes(`</${tag}`)) throw new Error(`the dashboard's ${tag} contains </${tag}`);
}

/** The policy of a page rendered with `nonce`: its own inline script and style, and `/_/` for data. */
export function dashboardCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A fresh nonce: 128 random bits, base64. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The page, with the script and styles carrying `nonce`.
 *
 * @example
 * const nonce = newNonce();
 * new Response(dashboardHtml(nonce), { headers: { "content-security-policy": dashboardCsp(nonce) } });
 */
export function dashboardHtml(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Runnerly edge · dashboard</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${DASHBOARD_CSS}</style>
</head>
<body>
<div id="app">
<main>
<h1>Runnerly mesh</h1>
<p class="muted">Waiting for the first snapshot…</p>
<noscript><p>This page needs JavaScript; the same figures are at <a href="/_/api/snapshot">/_/api/snapshot</a>.</p></noscript>
</main>
</div>
<script nonce="${nonce}">${DASHBOARD_JS}</script>
</body>
</html>`;
}
