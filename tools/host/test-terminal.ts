/**
 * A minimal terminal for driving the host from tests and the bench: builds
 * CUP requests with correct MACs and PIN blocks, takes working keys from the
 * 0810, and talks to the host over node:tls (or plain TCP) with framing.
 * It is a test driver, not the firmware: no journal, no retries.
 */
import net from "node:net";
import tls from "node:tls";
import { fromHex, toHex } from "../../modules/base/hex";
import type { BlockCipher } from "../../modules/crypto/block-cipher";
import { SecretKey, unwrapWorkingKeys } from "../../modules/crypto/keys";
import { cupEcbMac, macEqual } from "../../modules/crypto/mac";
import { pinBlockFormat0 } from "../../modules/crypto/pin-block";
import { Iso8583Codec, type IsoMessage } from "../../modules/iso8583/codec";
import { CUP } from "../../modules/iso8583/dialect";
import {
  buildBalance,
  buildEcho,
  buildRefund,
  buildSale,
  buildSettlement,
  buildSignOn,
  buildVoid,
  type CardData,
  type TerminalIdentity,
} from "../../modules/iso8583/messages";
import { decodeField60, type CurrencyTotals } from "../../modules/iso8583/subfields";
import type { ReversalReason } from "../../modules/txn/ports";
import { reversal as reversalMessage, reversalFields } from "../../modules/txn/messages";
import { frame, FrameReader } from "./decision";
import type { RegisteredTerminal } from "./terminals";

export const IDENTITY_DEFAULTS = Object.freeze({ tpdu: "6000030000", header: "603100311312", readCapability: "6" });

export interface SaleInput {
  readonly stan: string;
  readonly amount: number;
  readonly pan: string;
  readonly expiry: string;
  readonly pin?: string;
}

export class TestTerminal {
  readonly terminal: RegisteredTerminal;
  readonly identity: TerminalIdentity;
  batch = "000001";
  readonly #codec = new Iso8583Codec({ dialect: CUP });
  #pik: BlockCipher | undefined;
  #mak: BlockCipher | undefined;

  constructor(terminal: RegisteredTerminal) {
    this.terminal = terminal;
    this.identity = { ...IDENTITY_DEFAULTS, tid: terminal.tid, mid: terminal.mid };
  }

  /** Encodes; a message with F64 gets its MAC under the current MAK. */
  encode(message: IsoMessage): Uint8Array {
    const bytes = this.#codec.encode(message).slice();
    if (message.fields[64] !== undefined) this.#codec.writeMac(bytes, cupEcbMac(this.#mak!, this.#codec.macInput(bytes)));
    return bytes;
  }

  /** Rewrites F64 of encoded bytes under the current MAK (the fuzzer makes mutated requests pass the MAC check). */
  remac(bytes: Uint8Array): void {
    this.#codec.writeMac(bytes, cupEcbMac(this.#mak!, this.#codec.macInput(bytes)));
  }

  decode(bytes: Uint8Array): IsoMessage {
    return this.#codec.decode(bytes);
  }

  /** True when the response's F64 is the MAC of its content under the current MAK. */
  macValid(bytes: Uint8Array): boolean {
    return this.#mak !== undefined && macEqual(cupEcbMac(this.#mak, this.#codec.macInput(bytes)), this.#codec.macField(bytes));
  }

  signOnMessage(stan: string): IsoMessage {
    return buildSignOn({ terminal: this.identity, stan, batch: this.batch, netCode: "003", operator: "01 " });
  }

  signOn(stan: string): Uint8Array {
    return this.encode(this.signOnMessage(stan));
  }

  /** 0820 echo (60.3 301), without F64 as terminals send it. */
  echo(stan: string): Uint8Array {
    return this.encode(buildEcho({ terminal: this.identity, stan, batch: this.batch }));
  }

  /** 0200 balance inquiry (F3 310000). */
  balance(input: Omit<SaleInput, "amount">): Uint8Array {
    return this.encode(
      buildBalance({ terminal: this.identity, stan: input.stan, batch: this.batch, card: this.#card({ ...input, amount: 0 }) }),
    );
  }

  /** Loads the working keys of an 0810, checking their check values (KeyCheckError otherwise). */
  acceptSignOn(bytes: Uint8Array): IsoMessage {
    const message = this.decode(bytes);
    if (message.fields[39] !== "00") throw new Error(`sign-on declined ${message.fields[39]}`);
    const keys = unwrapWorkingKeys(fromHex(message.fields[62] ?? ""), new SecretKey("tdes", this.terminal.tmk));
    this.#pik = keys.pik.createCipher();
    this.#mak = keys.mak.createCipher();
    this.batch = decodeField60(message.fields[60]!).batch;
    return message;
  }

  #card(input: Omit<SaleInput, "stan">): CardData {
    if (input.pin === undefined) return { pan: input.pan, expiry: input.expiry, entryMode: "072" };
    const block = pinBlockFormat0(input.pin, input.pan);
    this.#pik!.encryptBlock(block, 0, block, 0);
    return {
      pan: input.pan,
      expiry: input.expiry,
      entryMode: "021",
      pinBlock: toHex(block),
      security: { pinFormat: "2", algorithm: "6", trackEncrypted: false },
    };
  }

  saleMessage(input: SaleInput): IsoMessage {
    return buildSale({ terminal: this.identity, stan: input.stan, batch: this.batch, amount: input.amount, card: this.#card(input) });
  }

  sale(input: SaleInput): Uint8Array {
    return this.encode(this.saleMessage(input));
  }

  /** The 0400 for an original request: same STAN, reason in F39. */
  reversal(original: IsoMessage, reason: ReversalReason): Uint8Array {
    // The firmware's own 0400 builder, in this terminal's framing.
    const message = reversalMessage({ fields: reversalFields(original) }, reason);
    return this.encode({ ...message, tpdu: original.tpdu, header: original.header });
  }

  voidSale(stan: string, original: Omit<SaleInput, "stan">, originalStan: string): Uint8Array {
    const card = this.#card(original);
    return this.encode(
      buildVoid({
        terminal: this.identity,
        stan,
        batch: this.batch,
        amount: original.amount,
        card,
        original: { batch: this.batch, stan: originalStan },
      }),
    );
  }

  /** 0220; `originalStan` names a sale (batch zeros, as the terminal sends it), else the original is unknown (all zeros). */
  refund(input: SaleInput & { readonly originalStan?: string }): Uint8Array {
    const card = this.#card({ ...input, pin: undefined });
    const original = { batch: "000000", stan: input.originalStan ?? "000000" };
    return this.encode(buildRefund({ terminal: this.identity, stan: input.stan, batch: this.batch, amount: input.amount, card, original }));
  }

  /** 0500 with the terminal's sale totals (debits); no credits. */
  settlement(stan: string, domestic: { debit: number; debits: number }, foreign = { debit: 0, debits: 0 }): Uint8Array {
    const part = (t: { debit: number; debits: number }): CurrencyTotals => ({
      debitAmount: t.debit,
      debitCount: t.debits,
      creditAmount: 0,
      creditCount: 0,
      result: "0",
    });
    const totals = { domestic: part(domestic), foreign: part(foreign) };
    return this.encode(buildSettlement({ terminal: this.identity, stan, batch: this.batch, totals, operator: "01 " }));
  }
}

export interface Link {
  /** Sends one framed request and resolves with the next whole message, or undefined when the host closed first. */
  exchange(request: Uint8Array, timeoutMs?: number): Promise<Uint8Array | undefined>;
  /** The next message already received or arriving within `timeoutMs`. */
  next(timeoutMs: number): Promise<Uint8Array | undefined>;
  send(bytes: Uint8Array): void;
  /** Writes bytes as they are, without a length prefix (for malformed-input tests). */
  sendRaw(bytes: Uint8Array): void;
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  close(): void;
}

export interface LinkOptions {
  readonly port: number;
  readonly host?: string;
  /** Pinned CA (PEM); absent = plain TCP. */
  readonly ca?: string | Buffer;
  readonly servername?: string;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

const EXCHANGE_TIMEOUT_MS = 10_000;
const QUEUED_MESSAGES_MAX = 16;

/** Connects (TLS when `ca` is given) and resolves once the handshake verified the server. */
export function connectLink(options: LinkOptions): Promise<Link> {
  return new Promise((resolve, reject) => {
    const host = options.host ?? "127.0.0.1";
    const socket: net.Socket =
      options.ca === undefined
        ? net.connect({ host, port: options.port })
        : tls.connect({
            host,
            port: options.port,
            ca: options.ca,
            servername: options.servername ?? "localhost",
            cert: options.cert,
            key: options.key,
            rejectUnauthorized: true,
            minVersion: "TLSv1.2",
          });
    socket.setNoDelay(true);
    const reader = new FrameReader();
    const queue: Uint8Array[] = [];
    let waiter: ((message: Uint8Array | undefined) => void) | undefined;
    let isClosed = false;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((done) => (markClosed = done));
    const deliver = (message: Uint8Array | undefined): void => {
      const w = waiter;
      waiter = undefined;
      if (w !== undefined) w(message);
      else if (message !== undefined && queue.length < QUEUED_MESSAGES_MAX) queue.push(message);
    };
    socket.on("data", (chunk: Buffer) => {
      if (reader.push(new Uint8Array(chunk), deliver) !== undefined) socket.destroy();
    });
    socket.on("error", (error) => {
      if (!isClosed && waiter === undefined && !connected) reject(error);
    });
    socket.on("close", () => {
      if (!connected) reject(new Error("connection closed before it was established"));
      isClosed = true;
      markClosed();
      deliver(undefined);
    });
    let connected = false;
    const link: Link = {
      next(timeoutMs) {
        const queued = queue.shift();
        if (queued !== undefined || isClosed) return Promise.resolve(queued);
        return new Promise((done) => {
          const timer = setTimeout(() => {
            waiter = undefined;
            done(undefined);
          }, timeoutMs);
          waiter = (message) => {
            clearTimeout(timer);
            done(message);
          };
        });
      },
      send(bytes) {
        socket.write(frame(bytes));
      },
      sendRaw(bytes) {
        socket.write(bytes);
      },
      exchange(request, timeoutMs = EXCHANGE_TIMEOUT_MS) {
        link.send(request);
        return link.next(timeoutMs);
      },
      closed,
      get isClosed() {
        return isClosed;
      },
      close() {
        socket.destroy();
      },
    };
    socket.once(options.ca === undefined ? "connect" : "secureConnect", () => {
      connected = true;
      resolve(link);
    });
  });
}
