/** @jsxImportSource hono/jsx/dom */
/** The page's root: the sign-in screen or the dashboard, following the session. */
import { useEffect, useState } from "hono/jsx/dom";
import { logOut } from "./api.ts";
import { AuthScreen } from "./auth.tsx";
import { Dashboard } from "./dashboard.tsx";
import { getSession, onSessionChange } from "./session.ts";

/** Header, then the screen for the current session. */
export function App() {
  const [session, setSession] = useState(getSession());
  useEffect(() => onSessionChange(setSession), []);
  const who = session?.user.id ?? null;
  useEffect(() => {
    document.title = who ? "Your runs · Runnerly" : "Log in · Runnerly";
  }, [who]);
  return (
    <>
      <header class="top">
        <h1>Runnerly</h1>
        {session && (
          <div class="who">
            <span>
              Signed in as <strong>{session.user.displayName || session.user.email}</strong>
            </span>
            <button type="button" class="small" onClick={() => void logOut()}>
              Log out
            </button>
          </div>
        )}
      </header>
      {/* Keyed by person: someone who signs in after another never sees the last one's state. */}
      {session ? <Dashboard key={session.user.id} /> : <AuthScreen />}
    </>
  );
}
