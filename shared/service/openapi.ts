/**
 * The pieces every service's route descriptions repeat (@hono/zod-openapi's
 * `createRoute`): a problem+json error response, a JSON request body and a
 * JSON response.
 *
 * @example
 * createRoute({
 *   method: "post",
 *   path: "/runs",
 *   request: { body: jsonBody(RunInput) },
 *   responses: {
 *     201: jsonResponse("The run", Run),
 *     ...problemResponses({ 400: "Invalid input", 401: "No authenticated caller" }),
 *   },
 * });
 */
import { z } from "@hono/zod-openapi";

/** The problem+json body (RFC 9457) of an error response, as OpenAPI content. */
export const problemContent = {
  "application/problem+json": { schema: z.object({ title: z.string(), status: z.number() }) },
};

type ProblemResponse = { description: string; content: typeof problemContent };

/** Error responses by status, each described and with a problem+json body. */
export function problemResponses<const R extends Record<number, string>>(
  descriptions: R,
): { [K in keyof R]: ProblemResponse } {
  return Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [
      status,
      { description, content: problemContent },
    ]),
  ) as { [K in keyof R]: ProblemResponse };
}

/** A required JSON request body of `schema`, for a route's `request.body`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

/** A JSON response of `schema`. */
export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

/**
 * A status resource's response (`taskStatusResponse`): `schema` as JSON, or,
 * with `Accept: text/event-stream`, `status` events whose data is `schema`
 * (named `name` in the description).
 *
 * @example
 * responses: { 200: statusResponse("The report", Report, "Report") }
 */
export const statusResponse = <T extends z.ZodType>(description: string, schema: T, name: string) => ({
  description,
  content: {
    "application/json": { schema },
    "text/event-stream": {
      schema: z.string().openapi({ description: `\`status\` events, data = ${name}` }),
    },
  },
});
