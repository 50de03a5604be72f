/** @jsxImportSource hono/jsx/dom */
/** Entry of the dashboard's browser bundle (built by ../build.ts into ../assets.gen.ts). */
import { render } from "hono/jsx/dom";
import { App } from "./app.tsx";
import "./styles.css";

const root = document.getElementById("app");
if (root) {
  // The server's shell holds a waiting note and <noscript>: the app replaces them.
  root.replaceChildren();
  render(<App />, root);
}
