import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { NodeTransport } from "../../../hosts/sim/node-transport";
import type { TransportEndpoint, TransportFailure } from "../../../modules/platform/transport";

interface Outcome {
  connected: boolean;
  data: number[];
  closed?: { failure: TransportFailure; detail: string };
}

function run(endpoint: TransportEndpoint, send?: Uint8Array): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { connected: false, data: [] };
    const connection = new NodeTransport().connect(endpoint, {
      onConnected: () => {
        outcome.connected = true;
        if (send) connection.write(send);
      },
      onData: (bytes) => outcome.data.push(...bytes),
      onClosed: (failure, detail) => {
        outcome.closed = { failure, detail };
        resolve(outcome);
      },
    });
  });
}

function makeCa(dir: string, name: string): { key: string; cert: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
    ],
    { stdio: "ignore" },
  );
  return { key, cert };
}

function makeLeaf(dir: string, ca: { key: string; cert: string }, cn: string): { key: string; cert: string } {
  const key = path.join(dir, `${cn}.key`);
  const csr = path.join(dir, `${cn}.csr`);
  const cert = path.join(dir, `${cn}.pem`);
  const ext = path.join(dir, `${cn}.ext`);
  fs.writeFileSync(ext, `subjectAltName=DNS:${cn}\n`);
  execFileSync(
    "openssl",
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`],
    { stdio: "ignore" },
  );
  execFileSync(
    "openssl",
    ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext],
    { stdio: "ignore" },
  );
  return { key, cert };
}

describe("NodeTransport", () => {
  let dir: string;
  let ca: { key: string; cert: string };
  let otherCa: { key: string; cert: string };
  let server: tls.Server;
  let port: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "xspos-tls-"));
    ca = makeCa(dir, "xspos-test-ca");
    otherCa = makeCa(dir, "other-ca");
    const leaf = makeLeaf(dir, ca, "localhost");
    server = tls.createServer({ key: fs.readFileSync(leaf.key), cert: fs.readFileSync(leaf.cert) }, (socket) => {
      socket.on("data", (d) => socket.end(d));
      socket.on("error", () => undefined);
    });
    server.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("TLS to a server that chains to the pinned CA connects and carries bytes", async () => {
    const outcome = await run(
      { host: "127.0.0.1", port, tls: { ca: [fs.readFileSync(ca.cert)], serverName: "localhost" } },
      new Uint8Array([1, 2, 3]),
    );
    expect(outcome.connected).toBe(true);
    expect(outcome.data).toEqual([1, 2, 3]);
    expect(outcome.closed?.failure).toBe("closed");
  });

  test("a server certificate from another CA is a handshake failure, never a connection", async () => {
    const outcome = await run({ host: "127.0.0.1", port, tls: { ca: [fs.readFileSync(otherCa.cert)], serverName: "localhost" } });
    expect(outcome.connected).toBe(false);
    expect(outcome.closed?.failure).toBe("handshake");
  });

  test("a server certificate for another name is a handshake failure", async () => {
    const outcome = await run({ host: "127.0.0.1", port, tls: { ca: [fs.readFileSync(ca.cert)], serverName: "acquirer.example" } });
    expect(outcome.connected).toBe(false);
    expect(outcome.closed?.failure).toBe("handshake");
  });

  test("nobody listening is a refusal", async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const freePort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const outcome = await run({ host: "127.0.0.1", port: freePort });
    expect(outcome.connected).toBe(false);
    expect(outcome.closed?.failure).toBe("refused");
  });
});
