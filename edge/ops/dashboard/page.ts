/**
 * The dashboard's HTML: one self-contained page (script and styles inline,
 * nothing from another origin, so it works offline), allowed by a policy
 * that trusts only this response's nonce. The script fills it in from
 * `/_/events`. Web standards only.
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
<main>
<header>
<h1>Runnerly mesh</h1>
<span id="link" class="link-state" role="status">Connecting…</span>
</header>
<p id="summary" class="muted">Waiting for the first snapshot…</p>
<p id="banner" class="banner" role="alert" hidden></p>
<noscript><p>This page needs JavaScript; the same figures are at <a href="/_/api/snapshot">/_/api/snapshot</a>.</p></noscript>
<h2>Services</h2>
<div class="scroll">
<table aria-label="Services">
<thead><tr><th scope="col">Service</th><th scope="col">Status</th><th scope="col">Instances</th><th scope="col">Versions</th><th scope="col" title="Requests per second through this edge">Edge req/s</th><th scope="col" title="5xx share at this edge">Edge errors</th><th scope="col" title="99th percentile at this edge">Edge p99</th><th scope="col" title="Requests per second the service counted ($SRV.STATS, every caller)">Service req/s</th><th scope="col" title="Mean processing time at the service">Service avg</th><th scope="col">Circuit</th><th scope="col" title="Events waiting in the outbox">Outbox</th><th scope="col" title="Events not yet delivered to its consumers">Consumer lag</th></tr></thead>
<tbody id="overview"></tbody>
</table>
</div>
<h2>Topology</h2>
<div id="topology" class="scroll"></div>
<h2>Details</h2>
<div id="cards" class="cards"></div>
</main>
<script nonce="${nonce}">${DASHBOARD_JS}</script>
</body>
</html>`;
}
