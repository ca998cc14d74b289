/**
 * A small classic-pcap writer (libpcap format, microsecond timestamps,
 * Ethernet link type) and TCP conversations on top of it: each connection
 * becomes one TCP stream between the terminal's and the host's addresses,
 * with its handshake, data segments (at most one MSS each) with consistent
 * sequence and acknowledgement numbers, and its FIN or RST, so Wireshark's
 * TCP analysis and the cup8583 dissector (tools/wireshark) read it as a real
 * capture. Packets are kept in memory and written once (`bytes()`); past a
 * limit on packets (a simulator left running for days) later packets are
 * counted, not kept, so a capture never stops the run it records.
 */
import { assert, assertInteger } from "../../modules/base/assert";

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 0x40000;
const ETHERNET_BYTES = 14;
const IPV4_BYTES = 20;
const TCP_BYTES = 20;
const MSS_BYTES = 1460;
const PACKETS_MAX = 1_000_000;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

export interface Endpoint {
  /** Dotted IPv4 address. */
  readonly ip: string;
  readonly port: number;
}

/** The addresses a capture shows: the terminal, and the acquirer host on the dissector's default port. */
export const TERMINAL_ADDRESS = "10.0.0.2";
export const HOST_ENDPOINT: Endpoint = Object.freeze({ ip: "10.0.0.1", port: 8583 });
/** The terminal's first ephemeral port; each connection takes the next. */
const EPHEMERAL_PORT_FIRST = 49152;

export class PcapWriter {
  readonly #packets: Uint8Array[] = [];
  #bytes = 24;
  #dropped = 0;

  get packetCount(): number {
    return this.#packets.length;
  }

  /** Packets not kept because the capture was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Appends one link-layer frame captured at `timeMs` (Unix epoch milliseconds, fractions kept to the microsecond). */
  packet(timeMs: number, frame: Uint8Array): void {
    assert(Number.isFinite(timeMs) && timeMs >= 0, "PcapWriter: time must be a non-negative epoch in ms");
    if (this.#packets.length === PACKETS_MAX) {
      this.#dropped++;
      return;
    }
    const micros = Math.round(timeMs * 1000);
    const record = new Uint8Array(16 + frame.length);
    const view = new DataView(record.buffer);
    view.setUint32(0, Math.floor(micros / 1e6), true);
    view.setUint32(4, micros % 1e6, true);
    view.setUint32(8, frame.length, true);
    view.setUint32(12, frame.length, true);
    record.set(frame, 16);
    this.#packets.push(record);
    this.#bytes += record.length;
  }

  /** The whole file: global header then every packet in the order written. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.#bytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, PCAP_MAGIC_USEC, true);
    view.setUint16(4, 2, true);
    view.setUint16(6, 4, true);
    view.setInt32(8, 0, true);
    view.setUint32(12, 0, true);
    view.setUint32(16, SNAPLEN, true);
    view.setUint32(20, LINKTYPE_ETHERNET, true);
    let o = 24;
    for (const packet of this.#packets) {
      out.set(packet, o);
      o += packet.length;
    }
    return out;
  }
}

function ipBytes(ip: string): number[] {
  const parts = ip.split(".").map(Number);
  assert(parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255), `bad IPv4 address ${ip}`);
  return parts;
}

/** The Internet checksum (RFC 1071) over `bytes[from, to)` plus `initial`. */
function checksum(bytes: Uint8Array, from: number, to: number, initial: number): number {
  let sum = initial;
  for (let i = from; i < to; i += 2) sum += (bytes[i] << 8) | (i + 1 < to ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet/IPv4/TCP packet. */
function tcpPacket(from: Endpoint, to: Endpoint, seq: number, ack: number, flags: number, payload: Uint8Array, ipId: number): Uint8Array {
  const out = new Uint8Array(ETHERNET_BYTES + IPV4_BYTES + TCP_BYTES + payload.length);
  const view = new DataView(out.buffer);
  // Ethernet: locally administered MACs derived from the last address byte; IPv4.
  const src = ipBytes(from.ip);
  const dst = ipBytes(to.ip);
  out.set([0x02, 0, 0, 0, 0, dst[3]], 0);
  out.set([0x02, 0, 0, 0, 0, src[3]], 6);
  view.setUint16(12, 0x0800);
  const ip = ETHERNET_BYTES;
  out[ip] = 0x45;
  view.setUint16(ip + 2, IPV4_BYTES + TCP_BYTES + payload.length);
  view.setUint16(ip + 4, ipId & 0xffff);
  view.setUint16(ip + 6, 0x4000); // don't fragment
  out[ip + 8] = 64;
  out[ip + 9] = 6;
  out.set(src, ip + 12);
  out.set(dst, ip + 16);
  view.setUint16(ip + 10, checksum(out, ip, ip + IPV4_BYTES, 0));
  const tcp = ip + IPV4_BYTES;
  view.setUint16(tcp, from.port);
  view.setUint16(tcp + 2, to.port);
  view.setUint32(tcp + 4, seq >>> 0);
  view.setUint32(tcp + 8, flags & ACK ? ack >>> 0 : 0);
  out[tcp + 12] = (TCP_BYTES / 4) << 4;
  out[tcp + 13] = flags;
  view.setUint16(tcp + 14, 65535);
  out.set(payload, tcp + TCP_BYTES);
  const tcpLength = TCP_BYTES + payload.length;
  let pseudo = 6 + tcpLength;
  for (let i = 0; i < 4; i += 2) pseudo += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  view.setUint16(tcp + 16, checksum(out, tcp, tcp + tcpLength, pseudo));
  return out;
}

export type Side = "terminal" | "host";

/**
 * One TCP connection's packets. Calls follow what happened: `open` when the
 * terminal connects (SYN), `established` when the handshake completed
 * (SYN-ACK, ACK), `data` per write, `close`/`reset` from either side. After a
 * FIN or RST nothing more is written for the stream; a stream that was cut
 * (power, network) simply stops.
 */
export class TcpStream {
  readonly #writer: PcapWriter;
  readonly #terminal: Endpoint;
  readonly #host: Endpoint;
  /** Next sequence number of each side. */
  #terminalSeq: number;
  #hostSeq: number;
  #ipId = 1;
  #state: "syn" | "open" | "finished" = "syn";
  /** FIN sent by each side. */
  #terminalFin = false;
  #hostFin = false;

  constructor(writer: PcapWriter, terminal: Endpoint, host: Endpoint, timeMs: number, isn: number) {
    this.#writer = writer;
    this.#terminal = terminal;
    this.#host = host;
    this.#terminalSeq = isn >>> 0;
    this.#hostSeq = (isn * 7 + 0x5000) >>> 0;
    this.#send(timeMs, "terminal", SYN, new Uint8Array(0));
    this.#terminalSeq = (this.#terminalSeq + 1) >>> 0;
  }

  get finished(): boolean {
    return this.#state === "finished";
  }

  /** SYN-ACK from the host and the terminal's ACK. */
  established(timeMs: number): void {
    if (this.#state !== "syn") return;
    this.#send(timeMs, "host", SYN | ACK, new Uint8Array(0));
    this.#hostSeq = (this.#hostSeq + 1) >>> 0;
    this.#send(timeMs, "terminal", ACK, new Uint8Array(0));
    this.#state = "open";
  }

  /** Bytes written by one side, in segments of at most one MSS; `segmentBytes` splits them smaller (tests). */
  data(timeMs: number, from: Side, bytes: Uint8Array, segmentBytes = MSS_BYTES): void {
    assertInteger(segmentBytes, 1, MSS_BYTES, "segmentBytes");
    if (this.#state !== "open" || (from === "terminal" ? this.#terminalFin : this.#hostFin)) return;
    for (let o = 0; o < bytes.length; o += segmentBytes) {
      const chunk = bytes.subarray(o, Math.min(o + segmentBytes, bytes.length));
      this.#send(timeMs, from, PSH | ACK, chunk);
      if (from === "terminal") this.#terminalSeq = (this.#terminalSeq + chunk.length) >>> 0;
      else this.#hostSeq = (this.#hostSeq + chunk.length) >>> 0;
    }
  }

  /** A FIN from `from`, answered by the other side's FIN (an orderly close). */
  close(timeMs: number, from: Side): void {
    if (this.#state === "finished") return;
    if (this.#state === "syn") return this.reset(timeMs, from === "terminal" ? "terminal" : "host");
    const other: Side = from === "terminal" ? "host" : "terminal";
    this.#fin(timeMs, from);
    this.#fin(timeMs, other);
    this.#send(timeMs, from, ACK, new Uint8Array(0));
    this.#state = "finished";
  }

  /** A RST from `from` (a refused connect, a reset connection, a failed handshake). */
  reset(timeMs: number, from: Side): void {
    if (this.#state === "finished") return;
    this.#send(timeMs, from, RST | ACK, new Uint8Array(0));
    this.#state = "finished";
  }

  #fin(timeMs: number, from: Side): void {
    if (from === "terminal" ? this.#terminalFin : this.#hostFin) return;
    this.#send(timeMs, from, FIN | ACK, new Uint8Array(0));
    if (from === "terminal") {
      this.#terminalFin = true;
      this.#terminalSeq = (this.#terminalSeq + 1) >>> 0;
    } else {
      this.#hostFin = true;
      this.#hostSeq = (this.#hostSeq + 1) >>> 0;
    }
  }

  #send(timeMs: number, from: Side, flags: number, payload: Uint8Array): void {
    const terminal = from === "terminal";
    const seq = terminal ? this.#terminalSeq : this.#hostSeq;
    const ack = terminal ? this.#hostSeq : this.#terminalSeq;
    const packet = terminal
      ? tcpPacket(this.#terminal, this.#host, seq, ack, flags, payload, this.#ipId++)
      : tcpPacket(this.#host, this.#terminal, seq, ack, flags, payload, this.#ipId++);
    this.#writer.packet(timeMs, packet);
  }
}

/** A capture of terminal-to-host connections: one TcpStream per connection, ports and ISNs assigned in order. */
export class TcpCapture {
  readonly writer = new PcapWriter();
  readonly #host: Endpoint;
  readonly #terminalIp: string;
  #nextPort = EPHEMERAL_PORT_FIRST;
  #streams = 0;

  constructor(options: { host?: Endpoint; terminalIp?: string } = {}) {
    this.#host = options.host ?? HOST_ENDPOINT;
    this.#terminalIp = options.terminalIp ?? TERMINAL_ADDRESS;
  }

  get streams(): number {
    return this.#streams;
  }

  /** A new connection: the terminal's SYN at `timeMs`. */
  open(timeMs: number): TcpStream {
    const port = this.#nextPort;
    this.#nextPort = port === 65535 ? EPHEMERAL_PORT_FIRST : port + 1;
    this.#streams++;
    // Deterministic initial sequence numbers: a run's capture is the same bytes every time.
    const isn = (0x1000_0000 + this.#streams * 0x0101_0101) >>> 0;
    return new TcpStream(this.writer, { ip: this.#terminalIp, port }, this.#host, timeMs, isn);
  }

  bytes(): Uint8Array {
    return this.writer.bytes();
  }
}
