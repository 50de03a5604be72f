/**
 * Group commit for a SQLite write connection: writes that queue up while one
 * transaction is open join it, each in a savepoint of its own, and the group
 * ends with one `COMMIT` — one fsync for all of them instead of one each.
 * Every write still resolves only once its rows are committed (durable), and
 * a write that throws leaves nothing behind and takes nobody else with it.
 */
import { AsyncResource } from "node:async_hooks";

/** What group commit needs of a connection (bun:sqlite's `Database` has it). */
export type WriteConnection = {
  run(sql: string): unknown;
  readonly inTransaction: boolean;
};

export type GroupCommitOptions = {
  /** Starts the group's transaction (`BEGIN IMMEDIATE`, waiting out other processes' locks). */
  begin(): Promise<void>;
  /** Most writes in one transaction (default 64): bounds how long the first one waits for its commit. */
  maxWrites?: number;
  /**
   * Makes a commit durable when `COMMIT` itself does not (wal-sync.ts): the
   * group's writes are told their outcome once it resolves, while the next
   * group already runs. Without it, a write is settled as `COMMIT` returns.
   */
  durable?: () => Promise<void>;
};

type Write<D> = {
  fn: (db: D) => Promise<unknown> | unknown;
  /** The caller's async context, which `fn` runs in. */
  scope: AsyncResource;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
};

type Done = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Serialises a connection's write transactions and commits concurrent ones
 * together. Writes run one after another, in arrival order, as before; only
 * the commit is shared.
 *
 * @example
 * const commits = new GroupCommit(writer, drizzleDb, { begin: () => beginImmediate(writer) });
 * await Promise.all([commits.write((db) => insertA(db)), commits.write((db) => insertB(db))]); // one COMMIT
 */
export class GroupCommit<D> {
  readonly #queue: Write<D>[] = [];
  readonly #maxWrites: number;
  #running = false;
  #drained: Promise<void> = Promise.resolve();
  /** Committed groups waiting for `durable` before their writes are told. */
  readonly #settling = new Set<Promise<void>>();
  /** Transactions committed (a group counts once) and writes committed, for metrics and tests. */
  commits = 0;
  writes = 0;

  constructor(
    private readonly conn: WriteConnection,
    private readonly db: D,
    private readonly options: GroupCommitOptions,
  ) {
    this.#maxWrites = options.maxWrites ?? 64;
  }

  /** Runs `fn` in a transaction; resolves with its result once committed, rejects with what it threw. */
  write<T>(fn: (db: D) => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // `fn` runs in its caller's async context (trace, logger, nested writes), not the group's first.
      // (A scope entered when it runs, not `AsyncResource.bind`: a bound function is defined property by property.)
      this.#queue.push({
        fn,
        scope: new AsyncResource("runnerly.write"),
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (!this.#running) {
        this.#running = true;
        this.#drained = this.#drain();
      }
    });
  }

  /** Settles when no write is queued, running or waiting to be durable. */
  async idle(): Promise<void> {
    while (this.#running || this.#settling.size > 0) {
      await this.#drained;
      await Promise.all(this.#settling);
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) await this.#group();
    } finally {
      // Cleared in the same turn as the last check of the queue: a write pushed later starts a new drain.
      this.#running = false;
    }
  }

  /** One transaction: the writes queued now and those that arrive while it runs, up to `maxWrites`. */
  async #group(): Promise<void> {
    const group: Write<D>[] = [];
    const done: Done[] = [];
    try {
      await this.options.begin();
    } catch (err) {
      // Nothing ran: the first write fails alone, the rest get their own try.
      this.#queue.shift()?.reject(err);
      return;
    }
    try {
      while (this.#queue.length > 0 && group.length < this.#maxWrites) {
        const w = this.#queue.shift() as Write<D>;
        group.push(w);
        this.conn.run("SAVEPOINT w");
        try {
          done.push({ ok: true, value: await w.scope.runInAsyncScope(w.fn, null, this.db) });
          this.conn.run("RELEASE w");
        } catch (err) {
          done.push({ ok: false, err });
          // SQLite may have rolled the whole transaction back (e.g. a full disk): the group's earlier writes went too.
          if (!this.conn.inTransaction) return this.#settle(group, done, err);
          this.conn.run("ROLLBACK TO w");
          this.conn.run("RELEASE w");
        }
      }
      this.conn.run("COMMIT");
    } catch (err) {
      // A savepoint or the commit failed: nothing of the group is kept.
      try {
        if (this.conn.inTransaction) this.conn.run("ROLLBACK");
      } catch {
        // The connection is broken; every write of the group is told below.
      }
      return this.#settle(group, done, err);
    }
    this.commits++;
    this.writes += done.filter((d) => d.ok).length;
    if (this.options.durable === undefined) return this.#settle(group, done, null);
    const settling = this.options.durable().then(
      () => this.#settle(group, done, null),
      (err: unknown) => this.#settle(group, done, err),
    );
    this.#settling.add(settling);
    settling.finally(() => this.#settling.delete(settling));
  }

  /** Tells each write its outcome; with `lost`, every write that had not failed is not known to be kept. */
  #settle(group: Write<D>[], done: Done[], lost: unknown): void {
    group.forEach((w, i) => {
      const d = done[i];
      if (d === undefined) w.reject(lost);
      else if (!d.ok) w.reject(d.err);
      else if (lost !== null) w.reject(lost);
      else w.resolve(d.value);
    });
  }
}
