/**
 * The signed-in session: tokens kept in memory and in sessionStorage, so a
 * reload keeps the person signed in but closing the tab ends it. Nothing goes
 * to localStorage or a cookie: the refresh token is a secret.
 */
/** The person as accounts describes them in a token response. */
export type User = { id: string; email: string; displayName: string };

/** What `/api/accounts/login` and `/refresh` answer (the fields the page uses). */
export type TokenResponse = { accessToken: string; refreshToken: string; expiresIn: number; user: User };

export type Session = { accessToken: string; refreshToken: string; user: User };

const KEY = "runnerly.session";
let current: Session | null = load();
const listeners = new Set<(session: Session | null) => void>();

/** The current session, or null when signed out. */
export function getSession(): Session | null {
  return current;
}

/** Starts (or renews) the session from a token response of accounts. */
export function startSession(tokens: TokenResponse): Session {
  const session = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, user: tokens.user };
  save(session);
  return session;
}

/** Forgets the tokens and tells the page (it shows the sign-in screen). */
export function endSession(): void {
  save(null);
}

/** Calls `listener` whenever the session starts, renews or ends; returns the unsubscribe function. */
export function onSessionChange(listener: (session: Session | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function save(session: Session | null): void {
  current = session;
  try {
    if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage may be unavailable (private modes, quotas): memory alone still works for this tab.
  }
  for (const listener of listeners) listener(session);
}

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    const parsed = raw ? (JSON.parse(raw) as Partial<Session>) : null;
    return parsed?.accessToken && parsed.refreshToken && parsed.user ? (parsed as Session) : null;
  } catch {
    return null;
  }
}
