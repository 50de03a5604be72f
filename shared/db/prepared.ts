/**
 * Compiles a query once per database handle and keeps it: drizzle builds a
 * statement's SQL text anew at every call (about 20 µs here), and the kit runs
 * some for every event, task and result (the outbox row, the inbox check). The
 * store's writer hands every transaction the same handle, so these are built
 * once per process; a driver that gives each transaction a handle of its own
 * builds them per transaction, as before.
 *
 * @example
 * const byId = preparedPer((db) => db.select().from(runs).where(eq(runs.id, sql.placeholder("id"))).prepare());
 * const row = await byId(tx).get({ id });
 */
export function preparedPer<D extends object, Q>(build: (db: D) => Q): (db: D) => Q {
  const compiled = new WeakMap<D, Q>();
  return (db) => {
    let query = compiled.get(db);
    if (query === undefined) {
      query = build(db);
      compiled.set(db, query);
    }
    return query;
  };
}
