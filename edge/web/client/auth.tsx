/** @jsxImportSource hono/jsx/dom */
/** The first screen: log in, or sign up (one form, toggled). */
import { useState } from "hono/jsx/dom";
import { authenticate } from "./api.ts";
import { StatusLine, useAction } from "./status.tsx";

type Mode = "login" | "signup";

const PASSWORD_HINT = "At least 10 characters, mixing two of: lower-case, upper-case, digits, symbols.";

/** Sign up / log in; a successful answer starts the session and the page moves on by itself. */
export function AuthScreen() {
  const [mode, setMode] = useState<Mode>("login");
  const { busy, status, setStatus, run } = useAction();
  const signup = mode === "signup";

  function onSubmit(event: Event) {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const email = String(data.get("email") ?? "");
    const password = String(data.get("password") ?? "");
    const displayName = String(data.get("displayName") ?? "").trim();
    void run(async () => {
      await authenticate(mode, { email, password, ...(signup && displayName ? { displayName } : {}) });
      return null;
    });
  }

  function toggle() {
    setMode(signup ? "login" : "signup");
    setStatus(null);
  }

  return (
    <section class="card auth" aria-labelledby="auth-title">
      <h2 id="auth-title">{signup ? "Create your account" : "Log in"}</h2>
      <form onSubmit={onSubmit} aria-describedby="auth-status">
        <fieldset disabled={busy}>
          <legend class="vh">{signup ? "Sign up" : "Log in"}</legend>
          <label for="auth-email">Email</label>
          <input id="auth-email" name="email" type="email" autocomplete="email" required />
          {signup && (
            <>
              <label for="auth-name">Display name (optional)</label>
              <input id="auth-name" name="displayName" type="text" autocomplete="nickname" maxlength={80} />
            </>
          )}
          <label for="auth-password">Password</label>
          <input
            id="auth-password"
            name="password"
            type="password"
            autocomplete={signup ? "new-password" : "current-password"}
            required
            minlength={signup ? 10 : 1}
            aria-describedby={signup ? "auth-password-hint" : undefined}
          />
          {signup && (
            <p id="auth-password-hint" class="hint">
              {PASSWORD_HINT}
            </p>
          )}
          <button type="submit">{signup ? "Sign up" : "Log in"}</button>
        </fieldset>
      </form>
      <StatusLine id="auth-status" status={status} />
      <p>
        {signup ? "Already have an account? " : "New to Runnerly? "}
        <button type="button" class="link" onClick={toggle}>
          {signup ? "Log in instead" : "Create an account"}
        </button>
      </p>
    </section>
  );
}
