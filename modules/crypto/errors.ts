/**
 * Typed errors of the crypto module. None of them carries key material, a
 * PIN or a PIN block: messages name what was wrong (a length, a field), never
 * the secret value.
 */

/** Input with the wrong shape: a key of the wrong length, a PIN that is not 4-12 digits. */
export class CryptoInputError extends Error {
  override readonly name = "CryptoInputError";
  /** What was wrong, e.g. "key", "pin", "pan", "data", "nonce". */
  readonly what: string;

  constructor(what: string, message: string) {
    super(message);
    this.what = what;
  }
}

/** A working key from F62 whose check value does not match after decryption under the TMK. */
export class KeyCheckError extends Error {
  override readonly name = "KeyCheckError";
  readonly keyName: "PIK" | "MAK" | "TDK";

  constructor(keyName: "PIK" | "MAK" | "TDK") {
    super(`${keyName} check value does not match: the key is rejected (wrong TMK or corrupted F62)`);
    this.keyName = keyName;
  }
}

/** Sealed data whose tag does not verify: wrong key, nonce or associated data, or tampering. */
export class AuthenticationError extends Error {
  override readonly name = "AuthenticationError";

  constructor() {
    super("sealed data failed authentication");
  }
}
