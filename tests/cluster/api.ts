/** Calls of Runnerly's API that the cluster and rolling-restart tests share. */

/**
 * Every run id in a runner's list, page by page (`get` sends one GET with the
 * runner's token and returns the response).
 *
 * @example
 * const ids = await listRunIds((path) => fetch(`${edge}${path}`, { headers: { authorization } }));
 */
export async function listRunIds(get: (path: string) => Promise<Response>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const query: string = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : "?limit=100";
    const res = await get(`/api/runs/runs${query}`);
    if (res.status !== 200) throw new Error(`listing runs: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
    ids.push(...body.items.map((r) => r.id));
    cursor = body.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error("more than 100 pages of runs");
}
