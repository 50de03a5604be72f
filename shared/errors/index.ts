/**
 * One error type for the whole mesh. A `MeshError` becomes a problem+json
 * response (RFC 9457) over HTTP, an ADR-32 service error over NATS, and is
 * rebuilt from either on the calling side. Web standards only.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import type { ZodError } from "zod";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** One invalid input: where it is (dotted path, `body.distance`) and what is wrong. */
export type FieldError = { path: string; message: string };

/** The JSON body of a problem response. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export type MeshErrorOptions = {
  detail?: string;
  type?: string;
  title?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  cause?: unknown;
};

/**
 * An error that knows its HTTP status and how to travel.
 *
 * @example
 * throw new MeshError(404, { detail: `run ${id} not found` });
 * // over HTTP: 404 application/problem+json {"type":"about:blank","title":"Not Found",...}
 */
export class MeshError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, options: MeshErrorOptions = {}) {
    const title = options.title ?? TITLES[status] ?? (status >= 500 ? "Server Error" : "Client Error");
    super(options.detail ?? title, { cause: options.cause });
    this.name = "MeshError";
    this.status = status >= 400 && status <= 599 ? status : 500;
    this.type = options.type ?? "about:blank";
    this.title = title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }

  /** The RFC 9457 body. */
  toProblem(instance?: string): Problem {
    const p: Problem = { ...this.extensions, type: this.type, title: this.title, status: this.status };
    if (this.detail !== undefined) p.detail = this.detail;
    if (instance !== undefined) p.instance = instance;
    if (this.errors !== undefined) p.errors = this.errors;
    return p;
  }

  /** A problem+json `Response`. */
  toResponse(instance?: string): Response {
    return problemResponse(this.toProblem(instance), this.headers);
  }

  /** Rebuilds a MeshError from a problem body (e.g. one received over NATS or HTTP). */
  static fromProblem(problem: Partial<Problem>, fallbackStatus = 500): MeshError {
    const { type, title, status, detail, errors, instance: _i, ...extensions } = problem;
    return new MeshError(typeof status === "number" ? status : fallbackStatus, {
      ...(typeof type === "string" ? { type } : {}),
      ...(typeof title === "string" ? { title } : {}),
      ...(typeof detail === "string" ? { detail } : {}),
      ...(Array.isArray(errors) ? { errors: errors as FieldError[] } : {}),
      extensions,
    });
  }

  /**
   * Rebuilds the error carried by an ADR-32 error reply: status from
   * `Nats-Service-Error-Code`, details from the JSON problem body when present.
   * Returns null when the message is not a service error.
   */
  static fromServiceReply(hdrs: MsgHdrs | undefined, body: Uint8Array): MeshError | null {
    const code = hdrs?.get("Nats-Service-Error-Code");
    if (!code) return null;
    const status = Number.isInteger(Number(code)) ? Number(code) : 500;
    const description = hdrs?.get("Nats-Service-Error") ?? "";
    const parsed = parseProblem(body);
    // The ADR-32 code is the status; the body adds the details.
    if (parsed) return MeshError.fromProblem({ ...parsed, status }, status);
    return new MeshError(status, description ? { detail: description } : {});
  }
}

function parseProblem(body: Uint8Array): Partial<Problem> | null {
  if (body.length === 0) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(body));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Partial<Problem>) : null;
  } catch {
    return null;
  }
}

/** Makes a problem+json response from a problem body. */
export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { ...headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}

/**
 * A 400 naming every invalid field of a zod failure, each path prefixed with
 * where the input came from (`body`, `query`, `param`, `header`).
 *
 * @example
 * const r = schema.safeParse(json);
 * if (!r.success) throw validationError(r.error, "body");
 */
export function validationError(error: ZodError, source = "body"): MeshError {
  const errors = error.issues.map((issue) => ({
    path: [source, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  const detail = `Invalid ${source}: ${errors.map((e) => `${e.path} (${e.message})`).join("; ")}`;
  return new MeshError(400, { detail, errors, type: "https://runnerly.dev/problems/validation" });
}

/** Normalises anything thrown into a MeshError; unknown errors become a 500 without leaking internals. */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  if (err && typeof err === "object" && "name" in err && (err as { name: unknown }).name === "ZodError") {
    return validationError(err as ZodError);
  }
  return new MeshError(500, { detail: "The service failed to handle the request.", cause: err });
}
