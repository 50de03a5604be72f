import { describe, expect, test } from "bun:test";
import { APP_CSS, APP_CSS_HASH, APP_JS, APP_JS_HASH } from "./assets.gen.ts";
import { PAGE_CSP, webPage } from "./page.tsx";

const page = webPage();

describe("webPage", () => {
  test("GET / is an HTML shell for the app under a strict policy", async () => {
    const res = await page.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(PAGE_CSP);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const html = await res.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
    expect(html).toContain('<main id="app">');
    expect(html).toContain("<noscript>");
    expect(html).toContain(`<script type="module" src="/app.js?v=${APP_JS_HASH}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="/app.css?v=${APP_CSS_HASH}"/>`);
    // No inline script or style: everything comes from this origin's files.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  test("the policy allows only this origin and nothing inline", () => {
    expect(PAGE_CSP).toContain("default-src 'self'");
    expect(PAGE_CSP).toContain("script-src 'self'");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(PAGE_CSP).not.toContain("unsafe-inline");
    expect(PAGE_CSP).not.toContain("unsafe-eval");
  });

  test.each([
    ["/app.js", APP_JS, APP_JS_HASH, "text/javascript; charset=utf-8"],
    ["/app.css", APP_CSS, APP_CSS_HASH, "text/css; charset=utf-8"],
  ])("%s: its content type, a year of caching for its current hash, 304 for a known ETag", async (path, body, hash, type) => {
    const current = await page.request(`${path}?v=${hash}`);
    expect(current.status).toBe(200);
    expect(current.headers.get("content-type")).toBe(type);
    expect(current.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(current.headers.get("etag")).toBe(`"${hash}"`);
    expect(await current.text()).toBe(body);

    // Without the current hash in the URL, the copy must be checked again before use.
    const bare = await page.request(path);
    expect(bare.headers.get("cache-control")).toBe("no-cache");
    const stale = await page.request(`${path}?v=0123456789abcdef`);
    expect(stale.headers.get("cache-control")).toBe("no-cache");

    const again = await page.request(path, { headers: { "if-none-match": `W/"other", "${hash}"` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const changed = await page.request(path, { headers: { "if-none-match": '"other"' } });
    expect(changed.status).toBe(200);
  });

  test("HEAD answers without a body; other paths are not the page's", async () => {
    const head = await page.request("/app.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await page.request("/api/runs/runs")).status).toBe(404);
    expect((await page.request("/", { method: "POST" })).status).toBe(404);
  });

  test("the bundle stays light", () => {
    expect(new TextEncoder().encode(APP_JS).length).toBeLessThan(60 * 1024);
  });
});
