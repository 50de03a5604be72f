/** The greeter service's public contract: the only file other services may import. */
import { z } from "@hono/zod-openapi";

/** Who to greet: `GET /api/greeter/hello?name=Ann`. */
export const HelloQuery = z.object({ name: z.string().trim().min(1).max(100).default("world") });

/** A greeting, and how often this name has been greeted. */
export const Greeting = z
  .object({
    message: z.string(),
    name: z.string(),
    times: z.number().int().positive(),
  })
  .openapi("Greeting");
export type Greeting = z.infer<typeof Greeting>;
