/**
 * Mounts Swagger UI on /docs with the gateway's merged /openapi.json. Runs
 * after swagger-ui-bundle.js (both deferred, in order); when that script did
 * not load, it says so on the page, beside the link to the document.
 */
(() => {
  const status = document.getElementById("docs-status");
  const message = document.getElementById("docs-message");
  const SwaggerUIBundle = window.SwaggerUIBundle;
  if (typeof SwaggerUIBundle !== "function") {
    status.dataset.state = "failed";
    message.textContent = "The interactive API docs could not be loaded: their script did not arrive.";
    return;
  }
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    onComplete: () => {
      status.dataset.state = "ready";
      status.hidden = true;
    },
  });
})();
