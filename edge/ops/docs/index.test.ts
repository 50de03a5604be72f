import { describe, expect, test } from "bun:test";
import { DOCS_ASSETS } from "./assets.gen.ts";
import { assetPath, DOCS_CSP, docsPage } from "./index.ts";

const app = docsPage();
const names = Object.keys(DOCS_ASSETS) as (keyof typeof DOCS_ASSETS)[];

describe("GET /docs", () => {
  test("is an HTML page with its own policy, revalidated, loading only the edge's own files", async () => {
    const res = await app.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(res.headers.get("content-security-policy")).toBe(DOCS_CSP);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const html = await res.text();
    for (const name of names) expect(html).toContain(`"${assetPath(name)}"`);
    expect(html).toContain('<a href="/openapi.json">/openapi.json</a>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test("its policy allows nothing from elsewhere, no inline script or style, no eval, no framing", () => {
    expect(DOCS_CSP).toContain("default-src 'none'");
    expect(DOCS_CSP).toContain("script-src 'self'");
    expect(DOCS_CSP).toContain("frame-ancestors 'none'");
    expect(DOCS_CSP).not.toContain("unsafe-");
    expect(DOCS_CSP).not.toMatch(/https?:/);
  });
});

describe("GET /docs/assets/<hash>/<name>", () => {
  test.each(names)("%s: gzipped as embedded to a client that takes gzip, cached for good", async (name) => {
    const res = await app.request(assetPath(name), { headers: { "accept-encoding": "gzip, br" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(DOCS_ASSETS[name].type);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(res.headers.get("etag")).toBe(`"${DOCS_ASSETS[name].hash}"`);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(body).toString("base64")).toBe(DOCS_ASSETS[name].gzip);
  });

  test.each(names)("%s: unpacked for a client that does not take gzip", async (name) => {
    const res = await app.request(assetPath(name));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBeNull();
    const text = await res.text();
    const expected = new TextDecoder().decode(Bun.gunzipSync(Buffer.from(DOCS_ASSETS[name].gzip, "base64")));
    expect(text).toBe(expected);
  });

  test("the ETag it was sent earns a 304 with no body", async () => {
    const path = assetPath("swagger-ui.css");
    const etag = `"${DOCS_ASSETS["swagger-ui.css"].hash}"`;
    const res = await app.request(path, { headers: { "if-none-match": `W/"x", ${etag}` } });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
  });

  test.each([
    ["an old hash", "/docs/assets/0000000000000000/swagger-ui.css"],
    ["a file it does not have", `/docs/assets/${DOCS_ASSETS["init.js"].hash}/index.html`],
    ["a name of Object's prototype", `/docs/assets/${DOCS_ASSETS["init.js"].hash}/constructor`],
  ])("%s is a 404 problem", async (_, path) => {
    const res = await app.request(path);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toStartWith("application/problem+json");
  });
});
