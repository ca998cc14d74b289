/**
 * The host simulator as one running thing: ledger + core + TLS (or plain)
 * server + control API, wired the same way for `xspos host`, the tests and
 * the bench.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ControlApi } from "./control";
import { nodeImageSigner } from "./tms-signing";
import { HostCore, type InternalErrorReport } from "./core";
import type { HostDecision } from "./decision";
import { ensurePki, type Pki } from "./pki";
import { HostServer, type ConnectionLimits } from "./server";
import { SqliteLedger } from "./sqlite-ledger";
import { DEFAULT_TERMINALS, registry, type RegisteredTerminal } from "./terminals";

export interface HostAppOptions {
  /** Where the PKI and the default ledger live (`var/host`). */
  readonly varDir: string;
  /** Ledger file; ":memory:" for throwaway runs. Default VARDIR/ledger.db. */
  readonly db?: string;
  readonly port?: number;
  readonly controlPort?: number;
  /** Plain TCP instead of TLS (captures). */
  readonly plain?: boolean;
  /** Certificate files instead of the generated ones. */
  readonly cert?: string;
  readonly key?: string;
  /** Refuse TLS clients without a certificate of the test CA (mutual TLS). */
  readonly requireClientCertificate?: boolean;
  readonly terminals?: readonly RegisteredTerminal[];
  /** Client certificates are generated for these TIDs (default: the registered ones, at most the first 16). */
  readonly clientCertificateTids?: readonly string[];
  readonly onDecision?: (decision: HostDecision) => void;
  /** Every whole message the host took in or wrote out (server.ts). */
  readonly onMessage?: (direction: "received" | "sent", message: Uint8Array) => void;
  /** `delay` faults are held back this many times shorter (the simulator's time scale). */
  readonly delayScale?: () => number;
  /** Connection limits other than the defaults (tests). */
  readonly limits?: Partial<ConnectionLimits>;
  /** Where a message the host failed to handle is reported; default one line on stderr. */
  readonly onInternalError?: (report: InternalErrorReport) => void;
}

export interface HostApp {
  readonly core: HostCore;
  readonly ledger: SqliteLedger;
  readonly server: HostServer;
  readonly pki: Pki | undefined;
  readonly address: { host: string; port: number };
  readonly controlUrl: string;
  close(): Promise<void>;
}

const CLIENT_CERTIFICATES_DEFAULT_MAX = 16;

function logInternalError(report: InternalErrorReport): void {
  process.stderr.write(`host: internal error on ${report.mti} TID ${report.tid ?? "?"} STAN ${report.stan ?? "?"}: ${report.error}\n`);
}

/** Node's CSPRNG for working keys on the network host. */
const systemRandom = Object.freeze({ fill: (bytes: Uint8Array): void => void crypto.randomFillSync(bytes) });

export async function startHost(options: HostAppOptions): Promise<HostApp> {
  const terminals = options.terminals ?? DEFAULT_TERMINALS;
  fs.mkdirSync(options.varDir, { recursive: true });
  const pki = options.plain
    ? undefined
    : ensurePki(
        path.join(options.varDir, "pki"),
        options.clientCertificateTids ?? terminals.slice(0, CLIENT_CERTIFICATES_DEFAULT_MAX).map((t) => t.tid),
      );
  const ledger = new SqliteLedger(options.db ?? path.join(options.varDir, "ledger.db"));
  const core = new HostCore({
    ledger,
    terminals: registry(terminals),
    random: systemRandom,
    onInternalError: options.onInternalError ?? logInternalError,
  });
  const server = new HostServer({
    handler: core,
    port: options.port,
    onDecision: options.onDecision,
    onMessage: options.onMessage,
    delayScale: options.delayScale,
    limits: options.limits,
    tls:
      pki === undefined
        ? undefined
        : {
            cert: fs.readFileSync(options.cert ?? pki.server.cert),
            key: fs.readFileSync(options.key ?? pki.server.key),
            ca: fs.readFileSync(pki.ca.cert),
            requireClientCertificate: options.requireClientCertificate,
          },
  });
  const control = new ControlApi({
    faults: core.faults,
    ledger,
    tms: { publications: core.tms, signer: nodeImageSigner() },
    port: options.controlPort,
  });
  try {
    const address = await server.listen();
    const { url } = await control.listen();
    return {
      core,
      ledger,
      server,
      pki,
      address,
      controlUrl: url,
      async close() {
        await Promise.all([server.close(), control.close()]);
        ledger.close();
      },
    };
  } catch (error) {
    await Promise.allSettled([server.close(), control.close()]);
    ledger.close();
    throw error;
  }
}
