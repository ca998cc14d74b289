/**
 * Test certificates for the host simulator, made once with the `openssl` CLI
 * (Node has no X.509 generation API) and cached on disk:
 *
 *   DIR/ca.pem, ca.key                     test CA the terminals pin
 *   DIR/server.pem, server.key             CN=localhost, SAN DNS:localhost, IP:127.0.0.1
 *   DIR/terminals/TID.pem, TID.key         client certificates (CN=TID) for registered terminals
 *   DIR/bad/wrong-ca.pem, wrong-ca.key     server certificate from another CA (bad/other-ca.pem)
 *   DIR/bad/expired.pem, expired.key       server certificate of the test CA, expired in 2021
 *   DIR/bad/wrong-name.pem, wrong-name.key server certificate of the test CA for wrong.example
 *   DIR/bad/other-ca-client.pem, .key      client certificate CN=10000001 from the other CA
 *   DIR/bad/self-signed-client.pem, .key   self-signed client certificate CN=10000001
 *
 * Keys are EC P-256: handshakes stay cheap when hundreds of terminals connect.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly dir: string;
  readonly ca: KeyPair;
  readonly server: KeyPair;
  readonly terminals: Readonly<Record<string, KeyPair>>;
  readonly bad: {
    readonly wrongCa: KeyPair;
    readonly expired: KeyPair;
    readonly wrongName: KeyPair;
    /** Client certificates mutual TLS must refuse (the abuse suite). */
    readonly otherCaClient: KeyPair;
    readonly selfSignedClient: KeyPair;
  };
}

export class PkiError extends Error {
  override readonly name = "PkiError";
  constructor(
    readonly step: string,
    detail: string,
  ) {
    super(`certificate step ${step} failed: ${detail}`);
  }
}

const SERVER_NAMES = "subjectAltName=DNS:localhost,IP:127.0.0.1";
const TERMINALS_MAX = 10_000;

function openssl(step: string, args: readonly string[], cwd?: string): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], cwd });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split("\n")[0];
    throw new PkiError(step, stderr || (error as Error).message);
  }
}

function pair(dir: string, name: string): KeyPair {
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

function exists(p: KeyPair): boolean {
  return fs.existsSync(p.cert) && fs.existsSync(p.key);
}

function newKey(step: string, key: string): void {
  openssl(step, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  fs.chmodSync(key, 0o600);
}

function makeCa(p: KeyPair, name: string): void {
  newKey(`${name} key`, p.key);
  openssl(`${name} certificate`, [
    "req",
    "-x509",
    "-new",
    "-key",
    p.key,
    "-out",
    p.cert,
    "-days",
    "3650",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

/** A self-signed client certificate (not a CA) for `subject`. */
function makeSelfSignedClient(p: KeyPair, subject: string): void {
  newKey(`self-signed ${subject}`, p.key);
  openssl(`self-signed ${subject}`, [
    "req",
    "-x509",
    "-new",
    "-key",
    p.key,
    "-out",
    p.cert,
    "-days",
    "3650",
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=clientAuth",
  ]);
}

/** A leaf signed by `ca`, valid for ten years from now. */
function makeLeaf(p: KeyPair, ca: KeyPair, subject: string, extensions: string): void {
  const step = `leaf ${subject}`;
  newKey(step, p.key);
  const csr = `${p.cert}.csr`;
  const ext = `${p.cert}.ext`;
  fs.writeFileSync(ext, `basicConstraints=CA:FALSE\n${extensions}\n`);
  try {
    openssl(step, ["req", "-new", "-key", p.key, "-out", csr, "-subj", subject]);
    openssl(step, [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-days",
      "3650",
      "-extfile",
      ext,
      "-out",
      p.cert,
    ]);
  } finally {
    fs.rmSync(csr, { force: true });
    fs.rmSync(ext, { force: true });
  }
}

/** A server leaf of `ca` whose validity ended in 2021: only `openssl ca` takes explicit dates. */
function makeExpired(relative: KeyPair, relativeCa: KeyPair): void {
  // openssl runs in a scratch directory here: every path it is given must be absolute.
  const p: KeyPair = { key: path.resolve(relative.key), cert: path.resolve(relative.cert) };
  const ca: KeyPair = { key: path.resolve(relativeCa.key), cert: path.resolve(relativeCa.cert) };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-pki-"));
  try {
    newKey("expired key", p.key);
    fs.writeFileSync(path.join(work, "index.txt"), "");
    fs.writeFileSync(path.join(work, "serial"), "1000\n");
    fs.writeFileSync(
      path.join(work, "ca.cnf"),
      [
        "[ca]",
        "default_ca = test",
        "[test]",
        "dir = .",
        "database = ./index.txt",
        "serial = ./serial",
        "new_certs_dir = .",
        "default_md = sha256",
        "policy = any",
        "x509_extensions = leaf",
        "[any]",
        "commonName = supplied",
        "[leaf]",
        "basicConstraints = CA:FALSE",
        SERVER_NAMES,
        "",
      ].join("\n"),
    );
    openssl("expired request", ["req", "-new", "-key", p.key, "-out", "req.csr", "-subj", "/CN=localhost"], work);
    openssl(
      "expired certificate",
      ["ca", "-batch", "-config", "ca.cnf", "-cert", ca.cert, "-keyfile", ca.key, "-in", "req.csr", "-out", p.cert, "-notext"].concat([
        "-startdate",
        "200101000000Z",
        "-enddate",
        "210101000000Z",
      ]),
      work,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Creates what is missing under `dir` and returns the paths. Existing files are kept as they are. */
export function ensurePki(dir: string, terminalIds: readonly string[]): Pki {
  if (terminalIds.length > TERMINALS_MAX) throw new PkiError("terminals", `at most ${TERMINALS_MAX} client certificates`);
  for (const tid of terminalIds)
    if (!/^[0-9A-Za-z]{8}$/.test(tid)) throw new PkiError("terminals", `terminal id must be 8 letters or digits`);
  const badDir = path.join(dir, "bad");
  const terminalDir = path.join(dir, "terminals");
  fs.mkdirSync(badDir, { recursive: true });
  fs.mkdirSync(terminalDir, { recursive: true });

  const ca = pair(dir, "ca");
  if (!exists(ca)) makeCa(ca, "xspos test CA");
  const server = pair(dir, "server");
  if (!exists(server)) makeLeaf(server, ca, "/CN=localhost", `${SERVER_NAMES}\nextendedKeyUsage=serverAuth`);

  const terminals: Record<string, KeyPair> = {};
  for (const tid of terminalIds) {
    const p = pair(terminalDir, tid);
    if (!exists(p)) makeLeaf(p, ca, `/CN=${tid}`, "extendedKeyUsage=clientAuth");
    terminals[tid] = p;
  }

  const otherCa = pair(badDir, "other-ca");
  if (!exists(otherCa)) makeCa(otherCa, "xspos other CA");
  const wrongCa = pair(badDir, "wrong-ca");
  if (!exists(wrongCa)) makeLeaf(wrongCa, otherCa, "/CN=localhost", SERVER_NAMES);
  const expired = pair(badDir, "expired");
  if (!exists(expired)) makeExpired(expired, ca);
  const wrongName = pair(badDir, "wrong-name");
  if (!exists(wrongName)) makeLeaf(wrongName, ca, "/CN=wrong.example", "subjectAltName=DNS:wrong.example");

  const otherCaClient = pair(badDir, "other-ca-client");
  if (!exists(otherCaClient)) makeLeaf(otherCaClient, otherCa, "/CN=10000001", "extendedKeyUsage=clientAuth");
  const selfSignedClient = pair(badDir, "self-signed-client");
  if (!exists(selfSignedClient)) makeSelfSignedClient(selfSignedClient, "/CN=10000001");

  return { dir, ca, server, terminals, bad: { wrongCa, expired, wrongName, otherCaClient, selfSignedClient } };
}
