/**
 * The host over real TLS on loopback: a terminal-side client with the pinned
 * test CA, the certificates a terminal must refuse, connection and message
 * faults as a terminal sees them, and the HTTP control API.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startHost, type HostApp } from "../../../tools/host/app";
import type { HostDecision } from "../../../tools/host/decision";
import { parseFault } from "../../../tools/host/faults";
import { HostServer } from "../../../tools/host/server";
import { DEFAULT_TERMINALS } from "../../../tools/host/terminals";
import { connectLink, TestTerminal, type Link, type SaleInput } from "../../../tools/host/test-terminal";

const VISA: Omit<SaleInput, "stan"> = { amount: 1234, pan: "4761730000000011", expiry: "3012", pin: "1234" };
const TID = DEFAULT_TERMINALS[0].tid;
/** How long a test waits for an answer the host is not supposed to send (not a timing assertion). */
const SILENCE_MS = 300;

let varDir: string;
let app: HostApp;
let ca: Buffer;
let stan = 0;

function nextStan(): string {
  stan += 1;
  return String(stan).padStart(6, "0");
}

function link(): Promise<Link> {
  return connectLink({ port: app.address.port, ca, servername: "localhost" });
}

async function signedOnTerminal(): Promise<{ terminal: TestTerminal; connection: Link }> {
  const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
  const connection = await link();
  terminal.acceptSignOn((await connection.exchange(terminal.signOn(nextStan())))!);
  return { terminal, connection };
}

async function control(method: string, resource: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${app.controlUrl}${resource}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  varDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-net-"));
  app = await startHost({ varDir, db: ":memory:" });
  ca = fs.readFileSync(app.pki!.ca.cert);
});

afterAll(async () => {
  await app.close();
  fs.rmSync(varDir, { recursive: true, force: true });
});

afterEach(() => app.core.faults.clear());

describe("TLS with the pinned test CA", () => {
  test("sign-on and an approved sale with a valid response MAC", async () => {
    const { terminal, connection } = await signedOnTerminal();
    const sale = { ...VISA, stan: nextStan() };
    const response = (await connection.exchange(terminal.sale(sale)))!;
    expect(terminal.decode(response).fields[39]).toBe("00");
    expect(terminal.macValid(response)).toBe(true);
    expect(app.ledger.find(TID, terminal.batch, sale.stan)!.state).toBe("approved");
    connection.close();
  });

  const bad: [string, (app: HostApp) => { cert: string; key: string }, RegExp][] = [
    ["a server certificate from another CA", (a) => a.pki!.bad.wrongCa, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/],
    ["an expired server certificate", (a) => a.pki!.bad.expired, /CERT_HAS_EXPIRED|expired/],
    ["a server certificate for another name", (a) => a.pki!.bad.wrongName, /ERR_TLS_CERT_ALTNAME_INVALID|does not match/],
  ];
  test.each(bad)("the terminal refuses %s", async (_name, pick, reason) => {
    const files = pick(app);
    const server = new HostServer({ handler: app.core, tls: { cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) } });
    const { port } = await server.listen();
    try {
      const error = await connectLink({ port, ca, servername: "localhost" }).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(error).toBeDefined();
      expect(`${error!.code} ${error!.message}`).toMatch(reason);
    } finally {
      await server.close();
    }
  });

  test("with mutual TLS required, a terminal certificate of the test CA is accepted and no certificate is refused", async () => {
    const mtlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-mtls-"));
    fs.cpSync(path.join(varDir, "pki"), path.join(mtlsDir, "pki"), { recursive: true });
    const mtls = await startHost({ varDir: mtlsDir, db: ":memory:", requireClientCertificate: true });
    try {
      const files = mtls.pki!.terminals[TID];
      const good = await connectLink({ port: mtls.address.port, ca, cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) });
      const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
      expect(terminal.decode((await good.exchange(terminal.signOn("000001")))!).fields[39]).toBe("00");
      good.close();
      // TLS 1.3 reports a missing client certificate after the handshake: the host closes without an answer.
      const outcome = await connectLink({ port: mtls.address.port, ca }).then(
        (anonymous) => anonymous.exchange(terminal.signOn("000002"), 5000),
        () => undefined,
      );
      expect(outcome).toBeUndefined();
    } finally {
      await mtls.close();
      fs.rmSync(mtlsDir, { recursive: true, force: true });
    }
  });
});

describe("plain TCP (--plain, for captures)", () => {
  test("the same protocol without TLS, and no PKI is made", async () => {
    const plainDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-plain-"));
    const plain = await startHost({ varDir: plainDir, db: ":memory:", plain: true });
    try {
      expect(plain.pki).toBeUndefined();
      expect(fs.existsSync(path.join(plainDir, "pki"))).toBe(false);
      const connection = await connectLink({ port: plain.address.port });
      const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
      terminal.acceptSignOn((await connection.exchange(terminal.signOn("000001")))!);
      expect(terminal.decode((await connection.exchange(terminal.sale({ ...VISA, stan: "000002" })))!).fields[39]).toBe("00");
      connection.close();
    } finally {
      await plain.close();
      fs.rmSync(plainDir, { recursive: true, force: true });
    }
  });
});

describe("the message hook (the simulator page's log of a terminal it cannot tap)", () => {
  test("every whole message the host read and wrote, unframed, a duplicated answer twice; nothing for a silent fault", async () => {
    const hookDir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-host-hook-"));
    const seen: { direction: string; mti: string }[] = [];
    const mtiOf = (message: Uint8Array) => Buffer.from(message.subarray(11, 13)).toString("hex");
    const hooked = await startHost({
      varDir: hookDir,
      db: ":memory:",
      plain: true,
      onMessage: (direction, message) => seen.push({ direction, mti: mtiOf(message) }),
    });
    try {
      const connection = await connectLink({ port: hooked.address.port });
      const terminal = new TestTerminal(DEFAULT_TERMINALS[0]);
      terminal.acceptSignOn((await connection.exchange(terminal.signOn("000001")))!);
      hooked.core.faults.add(parseFault({ kind: "duplicateResponse", count: 1 }));
      await connection.exchange(terminal.sale({ ...VISA, stan: "000002" }));
      await connection.next(10_000);
      hooked.core.faults.add(parseFault({ kind: "noResponse", count: 1 }));
      connection.send(terminal.sale({ ...VISA, stan: "000003" }));
      await expect(connection.next(SILENCE_MS)).resolves.toBeUndefined();
      connection.close();
      expect(seen).toEqual([
        { direction: "received", mti: "0800" },
        { direction: "sent", mti: "0810" },
        { direction: "received", mti: "0200" },
        { direction: "sent", mti: "0210" },
        { direction: "sent", mti: "0210" },
        { direction: "received", mti: "0200" },
      ]);
    } finally {
      await hooked.close();
      fs.rmSync(hookDir, { recursive: true, force: true });
    }
  });
});

describe("ledger truths over the network", () => {
  test("the same 0400 sent five times changes the ledger once", async () => {
    const { terminal, connection } = await signedOnTerminal();
    const sale = terminal.saleMessage({ ...VISA, stan: nextStan() });
    await connection.exchange(terminal.encode(sale));
    const reversal = terminal.reversal(sale, "98");
    const codes: string[] = [];
    const views = [];
    for (let i = 0; i < 5; i++) {
      codes.push(terminal.decode((await connection.exchange(reversal))!).fields[39]!);
      views.push(app.ledger.view(TID));
    }
    expect(codes).toEqual(["00", "00", "00", "00", "00"]);
    expect(app.ledger.find(TID, terminal.batch, sale.fields[11]!)!.state).toBe("reversed");
    for (const view of views) expect(view).toEqual(views[0]);
    connection.close();
  });

  test("an unknown terminal gets a well-formed decline, not silence", async () => {
    const stranger = new TestTerminal({ tid: "99999999", mid: "898100012340001", tmk: DEFAULT_TERMINALS[0].tmk });
    const connection = await link();
    const response = await connection.exchange(stranger.signOn(nextStan()));
    expect(stranger.decode(response!)).toMatchObject({ mti: "0810", fields: { 39: "97", 41: "99999999" } });
    connection.close();
  });

  test("malformed bytes close that connection and nothing else", async () => {
    const { terminal, connection } = await signedOnTerminal();
    const victim = await link();
    victim.send(new Uint8Array([0x60, 0x00, 0x03, 0x00, 0x00, 0x99, 0x99]));
    await victim.closed;
    const oversized = await link();
    oversized.sendRaw(new Uint8Array([0x13, 0x88, 0x60]));
    await oversized.closed;
    const response = await connection.exchange(terminal.sale({ ...VISA, stan: nextStan() }));
    expect(terminal.decode(response!).fields[39]).toBe("00");
    connection.close();
  });
});

describe("faults as a terminal sees them", () => {
  async function saleUnderFault(
    fault: Record<string, unknown>,
  ): Promise<{ terminal: TestTerminal; connection: Link; stan: string; first: Uint8Array | undefined; decisions: HostDecision[] }> {
    const { terminal, connection } = await signedOnTerminal();
    expect((await control("POST", "/faults", { ...fault, mti: "0200" })).status).toBe(201);
    const saleStan = nextStan();
    const first = await connection.exchange(terminal.sale({ ...VISA, stan: saleStan }), SILENCE_MS);
    return { terminal, connection, stan: saleStan, first, decisions: [] };
  }

  test.each(["noResponse", "closeAfterRead", "closeMidResponse"])(
    "%s: no usable answer, yet the host approved (the terminal must reverse)",
    async (kind) => {
      const { terminal, connection, stan: saleStan, first } = await saleUnderFault({ kind });
      expect(first).toBeUndefined();
      expect(app.ledger.find(TID, terminal.batch, saleStan)!.state).toBe("approved");
      // The reversal on a fresh connection settles it.
      const again = await link();
      const reversal = terminal.reversal(terminal.saleMessage({ ...VISA, stan: saleStan }), "98");
      expect(terminal.decode((await again.exchange(reversal))!).fields[39]).toBe("00");
      expect(app.ledger.find(TID, terminal.batch, saleStan)!.state).toBe("reversed");
      connection.close();
      again.close();
    },
  );

  test("closeBeforeRead: closed unanswered and never booked", async () => {
    const { terminal, connection, stan: saleStan, first } = await saleUnderFault({ kind: "closeBeforeRead" });
    expect(first).toBeUndefined();
    await connection.closed;
    expect(app.ledger.find(TID, terminal.batch, saleStan)).toBeUndefined();
  });

  test("delay: the answer still comes, late", async () => {
    const { terminal, connection, stan: saleStan } = await saleUnderFault({ kind: "delay", ms: SILENCE_MS * 2 });
    const late = await connection.next(10_000);
    expect(terminal.decode(late!).fields).toMatchObject({ 11: saleStan, 39: "00" });
    connection.close();
  });

  test("duplicateResponse: the same answer twice", async () => {
    const { connection, first } = await saleUnderFault({ kind: "duplicateResponse" });
    const second = await connection.next(10_000);
    expect(second).toEqual(first);
    connection.close();
  });

  test("badMac and wrongStan: answers the terminal must not trust; decline: a booked decline", async () => {
    const badMac = await saleUnderFault({ kind: "badMac" });
    expect(badMac.terminal.macValid(badMac.first!)).toBe(false);
    const wrongStan = await saleUnderFault({ kind: "wrongStan" });
    expect(wrongStan.terminal.decode(wrongStan.first!).fields[11]).not.toBe(wrongStan.stan);
    const decline = await saleUnderFault({ kind: "decline", code: "05" });
    expect(decline.terminal.decode(decline.first!).fields[39]).toBe("05");
    expect(app.ledger.find(TID, decline.terminal.batch, decline.stan)!.state).toBe("declined");
    for (const c of [badMac, wrongStan, decline]) c.connection.close();
  });

  test.each([
    ["refuseConnection", "ECONNRESET"],
    ["tlsHandshakeFail", "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE"],
  ])("%s: the connection never establishes (%s); the next one does", async (kind, code) => {
    await control("POST", "/faults", { kind });
    // The failure the fault stands for (a reset at accept, a handshake_failure alert), not just any error.
    await expect(link()).rejects.toMatchObject({ code });
    const { connection } = await signedOnTerminal();
    connection.close();
  });
});

describe("control API", () => {
  test("faults are listed, added, counted down and cleared; bad specs answer 400", async () => {
    expect(await control("POST", "/faults", { kind: "noResponse", count: 3, mti: "0400" })).toMatchObject({
      status: 201,
      json: { faults: [{ kind: "noResponse", count: 3, mti: "0400" }] },
    });
    expect((await control("GET", "/faults")).json).toEqual({ faults: [{ kind: "noResponse", count: 3, mti: "0400" }] });
    expect(await control("POST", "/faults", { kind: "delay" })).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/ms/) },
    });
    expect((await control("DELETE", "/faults")).json).toEqual({ faults: [] });
    expect((await fetch(`${app.controlUrl}/faults`, { method: "POST", body: "{" })).status).toBe(400);
    expect((await control("GET", "/nothing")).status).toBe(404);
  });

  test("the ledger view of a terminal", async () => {
    const { json } = await control("GET", `/ledger?tid=${TID}`);
    expect(json).toMatchObject({
      tid: TID,
      net: expect.any(Number),
      approved: { count: expect.any(Number) },
      unresolved: expect.any(Array),
    });
    expect((await control("GET", "/ledger")).status).toBe(400);
  });
});
