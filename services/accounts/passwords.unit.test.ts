import { describe, expect, test } from "bun:test";
import { passwordProblem } from "./contract.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

describe("password rule", () => {
  const cases: [string, string, boolean][] = [
    ["10 characters, two classes", "abcdefghi1", true],
    ["a lower-case passphrase with spaces", "correct horse battery", true],
    ["9 characters", "abcdefgh1", false],
    ["one class: lower-case", "abcdefghijk", false],
    ["one class: digits", "12345678901", false],
    ["one class: upper-case", "ABCDEFGHIJK", false],
    ["non-Latin letters and digits", "пароль12345", true],
    ["128 characters", `A${"a".repeat(127)}`, true],
    ["129 characters", `A${"a".repeat(128)}`, false],
    ["counted in code points, not UTF-16 units", `😀${"a".repeat(9)}`, true],
  ];
  for (const [label, password, ok] of cases) {
    test(label, () => expect(passwordProblem(password) === null).toBe(ok));
  }
});

describe("password hashing", () => {
  test("argon2id with the chosen cost; the right password verifies, another does not", async () => {
    const hash = await hashPassword("correct Horse 7");
    expect(hash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    expect(await verifyPassword("correct Horse 7", hash)).toBe(true);
    expect(await verifyPassword("correct horse 7", hash)).toBe(false);
  });

  test("the same password in another Unicode form verifies (NFKC)", async () => {
    const hash = await hashPassword("caf\u00e9 Latte 1");
    expect(await verifyPassword("cafe\u0301 Latte 1", hash)).toBe(true);
  });

  test("no hash (unknown email) and a malformed hash are failures, not errors", async () => {
    expect(await verifyPassword("anything at all", null)).toBe(false);
    expect(await verifyPassword("anything at all", "not-a-hash")).toBe(false);
  });
});
