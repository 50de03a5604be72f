/**
 * The key ring: Ed25519 signing keys kept in the service's own database, so
 * every instance on the same file signs with the same current key and serves
 * the same JWKS. Rotation overlaps: a retired key stays published until an
 * operator removes it, so the tokens it signed keep verifying meanwhile.
 */
import { type Db, type Logger, MeshError, type Store } from "@runnerly/kit";
import { desc, eq, isNull, sql } from "drizzle-orm";
import type { Jwks, SigningKey } from "./contract.ts";
import * as schema from "./db/schema.ts";
import { generateSigningKey, importPrivateKey, publishedJwk } from "./tokens.ts";

type Schema = typeof schema;
const { signingKeys } = schema;
type KeyRow = schema.SigningKeyRow;

/** The key that signs now. */
export type CurrentKey = { kid: string; key: CryptoKey };

const readCurrent = (db: Db<Schema>) =>
  db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).get();

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toSigningKey(row: KeyRow): SigningKey {
  return {
    kid: row.kid,
    createdAt: new Date(row.createdAt).toISOString(),
    retiredAt: iso(row.retiredAt),
    removedAt: iso(row.removedAt),
    current: row.retiredAt === null,
  };
}

// Current key first, then the newest retired ones.
const newestFirst = [sql`${signingKeys.retiredAt} is null desc`, desc(signingKeys.createdAt)];

export class KeyRing {
  /**
   * The current private key, imported: importing costs more than the database
   * read that finds the kid. Only one is kept, so a retired key leaves memory too.
   */
  private imported: { kid: string; key: Promise<CryptoKey> } | null = null;
  private warming: Promise<unknown> | null = null;

  constructor(
    private readonly store: Store<Schema>,
    private readonly logger: Logger,
  ) {}

  /** Makes sure a signing key exists as the instance starts (a background task of the service). */
  start(): void {
    this.warming = this.current().catch((err) =>
      this.logger.error({ err: String(err) }, "could not prepare a signing key"),
    );
  }

  async stop(): Promise<void> {
    await this.warming;
  }

  /**
   * The current signing key, created on first use. The key is read from the
   * database each time, so a rotation made through any instance takes effect
   * in all of them at once.
   */
  async current(): Promise<CurrentKey> {
    let row = await readCurrent(this.store.db);
    if (!row) {
      // Generated outside the transaction to keep the write lock short; if
      // another instance inserted one meanwhile, that one wins and ours is dropped.
      const fresh = await generateSigningKey();
      row = await this.store.write(async (tx) => {
        const existing = await readCurrent(tx);
        if (existing) return existing;
        this.logger.info({ kid: fresh.kid }, "signing key created");
        return tx
          .insert(signingKeys)
          .values({ ...fresh, createdAt: Date.now() })
          .returning()
          .get();
      });
    }
    const { kid, privateJwk } = row;
    if (privateJwk === null) throw new Error(`signing key ${kid} has no private half`);
    if (this.imported?.kid !== kid) this.imported = { kid, key: importPrivateKey(privateJwk) };
    return { kid, key: await this.imported.key };
  }

  /** The published keys: the current one and every retired one not yet removed. */
  async jwks(): Promise<Jwks> {
    await this.current();
    const rows = await this.store.db
      .select()
      .from(signingKeys)
      .where(isNull(signingKeys.removedAt))
      .orderBy(...newestFirst);
    return { keys: rows.map((r) => publishedJwk(r.kid, r.publicJwk)) };
  }

  /** Every key, removed ones included, newest first. */
  async list(): Promise<SigningKey[]> {
    await this.current();
    const rows = await this.store.db
      .select()
      .from(signingKeys)
      .orderBy(...newestFirst);
    return rows.map(toSigningKey);
  }

  /**
   * Retires the current key and makes a new one current, in one transaction.
   * The retired key's private half is erased: it never signs again.
   */
  async rotate(): Promise<SigningKey> {
    const fresh = await generateSigningKey();
    const row = await this.store.write(async (tx) => {
      const now = Date.now();
      await tx
        .update(signingKeys)
        .set({ retiredAt: now, privateJwk: null })
        .where(isNull(signingKeys.retiredAt))
        .run();
      return tx
        .insert(signingKeys)
        .values({ ...fresh, createdAt: now })
        .returning()
        .get();
    });
    this.logger.info({ kid: row.kid }, "signing key rotated");
    return toSigningKey(row);
  }

  /**
   * Takes a retired key out of the JWKS; tokens it signed stop verifying once
   * verifiers refresh their copy. Refuses the current key (409). Removing a
   * removed key again changes nothing.
   */
  async remove(kid: string): Promise<SigningKey> {
    const row = await this.store.write(async (tx) => {
      const found = await tx.select().from(signingKeys).where(eq(signingKeys.kid, kid)).get();
      if (!found) throw new MeshError(404, { detail: `no signing key ${kid}` });
      if (found.retiredAt === null) {
        throw new MeshError(409, {
          detail: `${kid} is the current signing key; rotate first, then remove it once its tokens have expired`,
        });
      }
      if (found.removedAt !== null) return found;
      const removedAt = Date.now();
      await tx.update(signingKeys).set({ removedAt }).where(eq(signingKeys.kid, kid)).run();
      this.logger.info({ kid }, "signing key removed from the JWKS");
      return { ...found, removedAt };
    });
    return toSigningKey(row);
  }
}
