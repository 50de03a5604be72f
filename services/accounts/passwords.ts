/**
 * Password hashing: argon2id through Bun.password (run off the event loop).
 * Pure of HTTP, NATS and the database.
 */

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): ~40 ms here. Bun's
 * default (64 MiB) costs ~160 ms and 64 MiB per concurrent login, which a
 * burst of logins turns into gigabytes.
 */
const PARAMS = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const;

/** NFKC, so the same password typed on two keyboards (composed é or not) matches (NIST 800-63B). */
const normalise = (password: string) => password.normalize("NFKC");

/**
 * Hashes a password into an argon2id PHC string.
 *
 * @example
 * const hash = await hashPassword("correct Horse 7"); // "$argon2id$v=19$m=19456,t=2,p=1$…"
 */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(normalise(password), PARAMS);
}

// Made once, with the same parameters as real hashes, so checking a password
// for an unknown email costs what checking a real one costs.
let decoy: Promise<string> | undefined;

/** Makes the decoy hash ahead of the first login, so even that one takes the usual time. */
export function prepareDecoy(): Promise<string> {
  decoy ??= Bun.password.hash(crypto.randomUUID(), PARAMS).catch((err) => {
    decoy = undefined; // try again next time rather than fail every later check
    throw err;
  });
  return decoy;
}

/**
 * Checks a password against a stored hash. With no hash (unknown email) it
 * still does the same work against a decoy and answers false, so response
 * time does not tell which emails have accounts.
 *
 * @example
 * const ok = await verifyPassword(input.password, user?.passwordHash ?? null);
 */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash === null) {
    await Bun.password.verify(normalise(password), await prepareDecoy());
    return false;
  }
  try {
    return await Bun.password.verify(normalise(password), hash);
  } catch {
    // A malformed stored hash is a failed check, never a 500 that tells the caller something.
    return false;
  }
}
