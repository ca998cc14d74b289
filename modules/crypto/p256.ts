/**
 * ECDSA verification on NIST P-256 (FIPS 186-4, SEC 1 §4.1.4) over BigInt: the
 * firmware update checks a manifest's signature against the public key
 * provisioned at manufacture. Verification only: the terminal never holds the
 * signing key (docs/update.md). It runs once per update, so clarity wins over
 * speed here: Jacobian coordinates, one joint double-and-add (Shamir's trick),
 * inversions by Fermat's little theorem.
 *
 * Public keys are SEC 1 uncompressed points (04 ‖ X ‖ Y, 65 bytes), signatures
 * raw r ‖ s (64 bytes), digests 32 bytes (SHA-256).
 */
import { CryptoInputError } from "./errors";
import { sha256 } from "./sha256";

export const P256_PUBLIC_KEY_BYTES = 65;
export const P256_SIGNATURE_BYTES = 64;
const SCALAR_BYTES = 32;

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

/** A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is the point at infinity. */
interface Jacobian {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

/**
 * The point at infinity, made fresh at each use: XS 8.2.3's `===` answers false between a BigInt kept in
 * the preload image and an equal one made at run time, so a preloaded `{ z: 0n }` failed `p.z === 0n` and
 * an addition that met infinity computed garbage (the Linux terminal refused valid signatures).
 */
function infinity(): Jacobian {
  return { x: 1n, y: 1n, z: 0n };
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function powMod(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exponent;
  while (e > 0n) {
    if ((e & 1n) === 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

/** a⁻¹ mod m for prime m and a ≠ 0. */
function invert(a: bigint, m: bigint): bigint {
  return powMod(a, m - 2n, m);
}

function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return infinity();
  const yy = (p.y * p.y) % P;
  const s = (4n * p.x * yy) % P;
  const zz = (p.z * p.z) % P;
  const m = mod(3n * p.x * p.x + A * ((zz * zz) % P), P);
  const x = mod(m * m - 2n * s, P);
  const y = mod(m * (s - x) - 8n * ((yy * yy) % P), P);
  const z = (2n * p.y * p.z) % P;
  return { x, y, z };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q;
  if (q.z === 0n) return p;
  const pz2 = (p.z * p.z) % P;
  const qz2 = (q.z * q.z) % P;
  const u1 = (p.x * qz2) % P;
  const u2 = (q.x * pz2) % P;
  const s1 = (((p.y * qz2) % P) * q.z) % P;
  const s2 = (((q.y * pz2) % P) * p.z) % P;
  if (u1 === u2) return s1 === s2 ? double(p) : infinity();
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hh = (h * h) % P;
  const hhh = (hh * h) % P;
  const v = (u1 * hh) % P;
  const x = mod(r * r - hhh - 2n * v, P);
  const y = mod(r * (v - x) - s1 * hhh, P);
  const z = (((p.z * q.z) % P) * h) % P;
  return { x, y, z };
}

function affineX(p: Jacobian): bigint {
  const zInverse = invert(p.z, P);
  return (p.x * ((zInverse * zInverse) % P)) % P;
}

function toBigInt(bytes: Uint8Array, offset: number, length: number): bigint {
  let value = 0n;
  for (let i = offset; i < offset + length; i++) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function onCurve(x: bigint, y: bigint): boolean {
  return mod(y * y - (x * x * x + A * x + B), P) === 0n;
}

/** u1·G + u2·Q with one pass over the bits (Shamir's trick). */
function jointMultiply(u1: bigint, u2: bigint, q: Jacobian): Jacobian {
  const g: Jacobian = { x: GX, y: GY, z: 1n };
  const gq = add(g, q);
  let r = infinity();
  for (let bit = 255n; bit >= 0n; bit--) {
    r = double(r);
    const b1 = (u1 >> bit) & 1n;
    const b2 = (u2 >> bit) & 1n;
    if (b1 === 1n && b2 === 1n) r = add(r, gq);
    else if (b1 === 1n) r = add(r, g);
    else if (b2 === 1n) r = add(r, q);
  }
  return r;
}

/**
 * True when `signature` (r ‖ s) is a valid ECDSA P-256 signature of the 32-byte `digest` under
 * `publicKey` (04 ‖ X ‖ Y). Wrong lengths or a public key off the curve are a CryptoInputError (a
 * provisioning fault, not a bad signature); any other mismatch is false.
 */
export function verifyP256(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  checkPublicKeyShape(publicKey);
  if (digest.length !== SCALAR_BYTES) throw new CryptoInputError("digest", `digest must be 32 bytes, got ${digest.length}`);
  const q = publicPoint(publicKey, signature);
  const r = toBigInt(signature, 0, SCALAR_BYTES);
  const s = toBigInt(signature, SCALAR_BYTES, SCALAR_BYTES);
  if (r === 0n || r >= N || s === 0n || s >= N) return false;
  const e = toBigInt(digest, 0, SCALAR_BYTES);
  const w = invert(s, N);
  const point = jointMultiply((e * w) % N, (r * w) % N, q);
  if (point.z === 0n) return false;
  return affineX(point) % N === r;
}

/**
 * ECDSA P-256 over the SHA-256 of `message`, with verifyP256's verdicts and errors: what the updater
 * checks a release signature with. The core's is `verifyP256Sha256`; a V8 host may hand one on its own
 * crypto (tools/host/tms-signing.ts `nodeP256Check`), as the BigInt arithmetic costs about 1.5 ms a
 * check there (a chaos seed with updates makes two), while OpenSSL takes tens of microseconds.
 */
export type P256Check = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export function verifyP256Sha256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyP256(publicKey, sha256(message), signature);
}

/** verifyP256's input checks (key shape, signature length, key on the curve), for another P256Check to throw the same errors. */
export function checkP256Inputs(publicKey: Uint8Array, signature: Uint8Array): void {
  checkPublicKeyShape(publicKey);
  publicPoint(publicKey, signature);
}

function checkPublicKeyShape(publicKey: Uint8Array): void {
  if (publicKey.length !== P256_PUBLIC_KEY_BYTES || publicKey[0] !== 0x04)
    throw new CryptoInputError("publicKey", `P-256 public key must be 65 bytes starting 04, got ${publicKey.length} bytes`);
}

/** The public key as a point, after the signature's length (the order verifyP256 has always checked them in). */
function publicPoint(publicKey: Uint8Array, signature: Uint8Array): Jacobian {
  if (signature.length !== P256_SIGNATURE_BYTES)
    throw new CryptoInputError("signature", `signature must be 64 bytes (r ‖ s), got ${signature.length}`);
  const qx = toBigInt(publicKey, 1, SCALAR_BYTES);
  const qy = toBigInt(publicKey, 1 + SCALAR_BYTES, SCALAR_BYTES);
  if (qx >= P || qy >= P || !onCurve(qx, qy)) throw new CryptoInputError("publicKey", "P-256 public key is not a point on the curve");
  return { x: qx, y: qy, z: 1n };
}
