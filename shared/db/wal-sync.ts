/**
 * Durability of a WAL-mode SQLite file without stalling the event loop.
 *
 * With `synchronous = FULL`, SQLite fsyncs the WAL inside `COMMIT`: the
 * process's one thread waits for the disk (0.2 ms on a quiet disk, 1–2 ms
 * with three processes syncing at once) and serves nothing meanwhile. The
 * store instead commits with `synchronous = NORMAL` (the frames are written
 * to the WAL, not synced) and then syncs the WAL itself, here, on Bun's
 * file-system thread pool. A write is reported committed only after a sync
 * that began after its `COMMIT` has completed, so what a caller is told is
 * durable is exactly what `FULL` would have made durable; the event loop
 * runs the next group of writes while the disk works, and one sync covers
 * every commit made while the one before it ran.
 *
 * fdatasync applies to the file, not to the descriptor: syncing our own
 * read-only descriptor of the `-wal` file flushes the frames SQLite's
 * connection wrote. The WAL file is not removed while a connection of this
 * process is open (SQLite deletes it only when its last connection closes),
 * so the descriptor stays the WAL's for the store's life. Checkpoints are
 * SQLite's own: with `NORMAL` they sync the WAL and the database file.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";

type Waiter = { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void };

export class WalSync {
  #fd: number | null = null;
  /** The sync in progress; it may have begun before the latest commit. */
  #running: Promise<void> | null = null;
  /** The sync that starts when the running one ends: every commit made meanwhile waits for it. */
  #queued: Waiter | null = null;
  /** Set when a sync failed: from then on the file's durability is unknown and every write fails. */
  #failed: Error | null = null;
  /** What `version` read when the latest sync was asked for (null: none asked for yet). */
  #askedAt: number | null = null;
  /** Syncs begun, for tests and metrics. */
  syncs = 0;

  /**
   * `version` tells whether the file changed: a number that moves whenever a
   * transaction commits, by this process or another (SQLite's `PRAGMA
   * data_version` on a connection that does not write). Without it every
   * `covered()` is a new sync.
   */
  constructor(
    private readonly dbPath: string,
    private readonly version?: () => number,
  ) {}

  /**
   * Makes the database's directory entry (and so its `-wal` file's) durable.
   * Called once after the store opened: SQLite syncs a new WAL's directory
   * only at the WAL's first sync of its own, which with NORMAL is the first
   * checkpoint.
   */
  syncDirectory(): void {
    const fd = openSync(dirname(this.dbPath), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Why the store may no longer write: a sync failed (null while none has). */
  get failure(): Error | null {
    return this.#failed;
  }

  /** Resolves once a sync of the WAL that began after this call has completed. */
  sync(): Promise<void> {
    return this.#ask(this.version?.() ?? null);
  }

  /**
   * Resolves once every transaction committed to the file before this call,
   * by any connection, is durable: a new sync when the file changed since the
   * latest sync was asked for, else that sync's end. The outbox relay asks
   * this before it publishes what it read; when nothing was committed since
   * the last commit's own sync, no fdatasync is spent (each costs about
   * 0.1 ms of CPU in the kernel).
   */
  covered(): Promise<void> {
    const now = this.version?.() ?? null;
    if (now === null || now !== this.#askedAt) return this.#ask(now);
    return this.settled();
  }

  /** Asks for a sync that begins now or later, noting the file's version at the asking. */
  #ask(version: number | null): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    this.#askedAt = version;
    if (this.#running === null) {
      this.#running = this.#start();
      return this.#running;
    }
    this.#queued ??= Promise.withResolvers<void>();
    return this.#queued.promise;
  }

  /** Resolves once the syncs asked for so far have completed. */
  settled(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return this.#queued?.promise ?? this.#running ?? Promise.resolve();
  }

  /** Waits for the syncs asked for, then releases the descriptor. */
  async close(): Promise<void> {
    await this.settled().catch(() => {});
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #start(): Promise<void> {
    this.syncs++;
    const done = new Promise<void>((resolve, reject) => {
      try {
        this.#fd ??= openSync(`${this.dbPath}-wal`, "r");
      } catch (err) {
        reject(err);
        return;
      }
      fdatasync(this.#fd, (err) => (err ? reject(err) : resolve()));
    }).catch((err: unknown) => {
      // As with a failed fsync in FULL mode, what the disk holds is unknown now; no later
      // sync could tell which of the earlier frames made it. Every later write fails too.
      this.#failed = new Error(
        `Syncing ${this.dbPath}-wal to disk failed (${String(err)}); the store no longer accepts writes. Check the disk and restart the service.`,
      );
      throw this.#failed;
    });
    done.then(
      () => this.#next(),
      () => this.#next(),
    );
    return done;
  }

  /** Starts the queued sync, if any, once the running one ended. */
  #next(): void {
    const queued = this.#queued;
    this.#queued = null;
    this.#running = null;
    if (queued === null) return;
    if (this.#failed) {
      queued.reject(this.#failed);
      return;
    }
    this.#running = this.#start();
    this.#running.then(queued.resolve, queued.reject);
  }
}
