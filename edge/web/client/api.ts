/**
 * Calls to the Runnerly API through the edge, as the signed-in person. A 401
 * is answered by one refresh of the tokens (shared by every call that got it,
 * because a refresh token works once) and one retry; if that fails too the
 * session ends and the page goes back to the sign-in screen.
 */
import { endSession, getSession, type Session, startSession, type TokenResponse } from "./session.ts";

/** A failed call, with the problem's `detail` (RFC 9457) as its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type ApiInit = {
  method?: string;
  json?: unknown;
  form?: FormData;
  signal?: AbortSignal;
  accept?: string;
};

let refreshing: Promise<Session | null> | null = null;

/**
 * Sends a request as the current person and returns its JSON body (undefined
 * for 204); throws `ApiError` with the problem's detail otherwise.
 *
 * @example
 * const page = await api<RunPage>("/api/runs/runs?limit=10");
 */
export async function api<T>(path: string, init: ApiInit = {}): Promise<T> {
  return read<T>(await authorized(path, init));
}

/**
 * Opens a server-sent event stream as the current person (a `fetch`, since
 * `EventSource` cannot send the access token) and returns its body; throws
 * `ApiError` like `api` when the answer is not a stream.
 *
 * @example
 * const body = await apiStream("/api/plans/plans/1/report", controller.signal);
 */
export async function apiStream(path: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const res = await authorized(path, { accept: "text/event-stream", ...(signal ? { signal } : {}) });
  if (!res.ok) await read(res);
  if (!res.body) throw new ApiError(res.status, "The server answered without a stream.");
  return res.body;
}

/** Sends as the current person; a 401 gets one refresh of the tokens and one retry. */
async function authorized(path: string, init: ApiInit): Promise<Response> {
  const session = getSession();
  let res = await send(path, init, session);
  if (res.status === 401 && session) {
    const renewed = await refreshOnce(session);
    if (renewed) res = await send(path, init, renewed);
    if (res.status === 401) {
      endSession();
      throw new ApiError(401, "Your session has ended. Please log in again.");
    }
  }
  return res;
}

/**
 * Logs in and starts the session; for `signup`, creates the account first
 * (sign-up answers alike whether the email is new or taken, and gives no
 * tokens, so the log-in that follows is what tells the person it worked).
 */
export async function authenticate(
  action: "signup" | "login",
  body: { email: string; password: string; displayName?: string },
): Promise<Session> {
  if (action === "signup")
    await read(await send("/api/accounts/signup", { method: "POST", json: body }, null));
  const credentials = { email: body.email, password: body.password };
  const res = await send("/api/accounts/login", { method: "POST", json: credentials }, null);
  if (action === "signup" && res.status === 401) {
    await res.body?.cancel();
    throw new ApiError(401, "This email already has an account: log in with its password instead.");
  }
  return startSession(await read<TokenResponse>(res));
}

/** Ends the session here and at accounts (the refresh token is revoked). */
export async function logOut(): Promise<void> {
  const session = getSession();
  endSession();
  if (!session) return;
  // Best effort: the tokens are forgotten here whatever accounts answers.
  await send("/api/accounts/logout", { method: "POST", json: { refreshToken: session.refreshToken } }, null)
    .then((res) => res.body?.cancel())
    .catch(() => {});
}

function refreshOnce(stale: Session): Promise<Session | null> {
  // Another call may have renewed the tokens while this one waited for its 401.
  const current = getSession();
  if (current && current.accessToken !== stale.accessToken) return Promise.resolve(current);
  refreshing ??= (async () => {
    try {
      const body = { refreshToken: stale.refreshToken };
      const res = await send("/api/accounts/refresh", { method: "POST", json: body }, null);
      return res.ok ? startSession((await res.json()) as TokenResponse) : null;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function send(path: string, init: ApiInit, session: Session | null): Promise<Response> {
  const headers = new Headers({ accept: init.accept ?? "application/json, application/problem+json" });
  if (session) headers.set("authorization", `Bearer ${session.accessToken}`);
  let body: BodyInit | undefined;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  } else if (init.form) {
    body = init.form; // the browser sets the multipart boundary
  }
  return fetch(path, { method: init.method ?? "GET", headers, body, signal: init.signal ?? null });
}

async function read<T>(res: Response): Promise<T> {
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
  throw new ApiError(res.status, await problemDetail(res));
}

async function problemDetail(res: Response): Promise<string> {
  try {
    const problem = (await res.json()) as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === "string" && problem.detail) return problem.detail;
    if (typeof problem.title === "string" && problem.title) return problem.title;
  } catch {
    // Not JSON (a proxy's error page): fall through to the status line.
  }
  return `The server answered ${res.status} ${res.statusText}.`.replace(" .", ".");
}
