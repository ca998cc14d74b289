import { fromAscii, toAscii } from "../../../modules/base/hex";
import { EmulatedNetwork, type ServerConnection } from "../../../modules/emulators/network";
import { FrameError, HostLink, type CorrelationKey, type DiscardReason, type ExchangeOutcome } from "../../../modules/link/host-link";
import type { Clock, TimerHandle } from "../../../modules/platform/clock";
import type { ConnectionEvents, Transport } from "../../../modules/platform/transport";
import { VirtualClock } from "../../../modules/platform/virtual-clock";

// Test messages are ASCII "MTI|STAN|TID|payload": the link only needs the key.
function message(mti: string, stan: string, tid = "10000159", payload = ""): Uint8Array {
  return fromAscii(`${mti}|${stan}|${tid}|${payload}`);
}
function readKey(bytes: Uint8Array): CorrelationKey | undefined {
  const parts = toAscii(bytes).split("|");
  return parts.length >= 3 ? { mti: parts[0], stan: parts[1], tid: parts[2] } : undefined;
}
function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 2);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

/** A scripted host: answers each request (request MTI + 10, same STAN) after `delayMs`. */
interface Script {
  delayMs: number;
  answer: "normal" | "none" | "duplicate" | "wrongStan" | "close" | "oversize";
  received: string[];
}

function setup(latencyMs = 5, responseTimeoutMs = 1000) {
  const clock = new VirtualClock();
  const script: Script = { delayMs: 0, answer: "normal", received: [] };
  const network = new EmulatedNetwork({
    clock,
    latencyMs,
    accept: (connection: ServerConnection) => {
      let buffered = new Uint8Array(0);
      return {
        onData(bytes) {
          const joined = new Uint8Array(buffered.length + bytes.length);
          joined.set(buffered);
          joined.set(bytes, buffered.length);
          buffered = joined;
          while (buffered.length >= 2 && buffered.length >= 2 + ((buffered[0] << 8) | buffered[1])) {
            const length = (buffered[0] << 8) | buffered[1];
            const request = toAscii(buffered, 2, 2 + length);
            buffered = buffered.slice(2 + length);
            script.received.push(request);
            const [mti, stan, tid] = request.split("|");
            const responseMti = mti.slice(0, 2) + String(Number(mti[2]) + 1) + mti[3];
            const reply = (s: string) => connection.write(frame(message(responseMti, s, tid, "00")));
            clock.schedule(script.delayMs, () => {
              if (script.answer === "normal") reply(stan);
              if (script.answer === "duplicate") for (let i = 0; i < 2; i++) reply(stan);
              if (script.answer === "wrongStan") reply("999999");
              if (script.answer === "close") connection.close();
              if (script.answer === "oversize") connection.write(new Uint8Array([0xff, 0xff, 1, 2, 3]));
            });
          }
        },
        onClosed() {},
      };
    },
  });
  const discards: { reason: DiscardReason; stan: string | undefined }[] = [];
  const link = new HostLink({
    transport: network,
    clock,
    endpoint: { host: "host", port: 5000 },
    readKey,
    connectTimeoutMs: 500,
    responseTimeoutMs,
    onDiscard: (reason, key) => discards.push({ reason, stan: key?.stan }),
  });
  const outcomes: ExchangeOutcome[] = [];
  const events: string[] = [];
  const send = (stan: string) =>
    link.exchange(
      {
        message: message("0200", stan),
        expect: { mti: "0210", stan, tid: "10000159" },
        beforeWrite: () => events.push(`armed ${stan} @${clock.nowMs()}`),
        onWritten: (atMs, deadlineMs) => events.push(`written ${stan} @${atMs} deadline ${deadlineMs}`),
      },
      (outcome) => outcomes.push(outcome),
    );
  return { clock, network, link, script, discards, outcomes, events, send };
}

describe("EmulatedNetwork", () => {
  test("delivers bytes in order after the latency, in both directions", () => {
    const clock = new VirtualClock();
    const serverGot: number[] = [];
    const network = new EmulatedNetwork({
      clock,
      latencyMs: 10,
      accept: (connection) => ({ onData: (bytes) => (serverGot.push(...bytes), connection.write(bytes)), onClosed() {} }),
    });
    const got: number[] = [];
    let connected = -1;
    const connection = network.connect(
      { host: "h", port: 1 },
      { onConnected: () => (connected = clock.nowMs()), onData: (b) => got.push(...b), onClosed() {} },
    );
    clock.advance(40);
    expect(connected).toBe(40);
    connection.write(new Uint8Array([1, 2]));
    connection.write(new Uint8Array([3]));
    clock.advance(9);
    expect(serverGot).toEqual([]);
    clock.advance(1);
    expect(serverGot).toEqual([1, 2, 3]);
    clock.advance(10);
    expect(got).toEqual([1, 2, 3]);
  });

  test("refused and handshake faults close before any byte, in queue order", () => {
    const clock = new VirtualClock();
    const network = new EmulatedNetwork({ clock, accept: () => ({ onData() {}, onClosed() {} }) });
    network.failNextConnect("refused");
    network.failNextConnect("handshake");
    const closed: string[] = [];
    for (let i = 0; i < 2; i++) network.connect({ host: "h", port: 1 }, { onConnected() {}, onData() {}, onClosed: (f) => closed.push(f) });
    clock.advance(100);
    expect(closed).toEqual(["refused", "handshake"]);
    expect(network.openConnections).toBe(0);
  });

  test("dropAfter resets the connection after exactly N bytes to the server", () => {
    const clock = new VirtualClock();
    const serverGot: number[] = [];
    const network = new EmulatedNetwork({ clock, accept: () => ({ onData: (b) => serverGot.push(...b), onClosed() {} }) });
    network.dropAfter("toServer", 3);
    const closed: string[] = [];
    const connection = network.connect({ host: "h", port: 1 }, { onConnected() {}, onData() {}, onClosed: (f) => closed.push(f) });
    clock.advance(100);
    connection.write(new Uint8Array([1, 2, 3, 4, 5]));
    clock.advance(100);
    expect(serverGot).toEqual([1, 2, 3]);
    expect(closed).toEqual(["reset"]);
    expect(() => connection.write(new Uint8Array([6]))).toThrow();
  });

  test("a terminal power loss: bytes already written still reach the server, then the connection is reset", () => {
    const clock = new VirtualClock();
    const serverGot: number[] = [];
    let serverClosed = -1;
    const network = new EmulatedNetwork({
      clock,
      latencyMs: 10,
      accept: () => ({ onData: (bytes) => serverGot.push(...bytes), onClosed: () => (serverClosed = clock.nowMs()) }),
    });
    const terminalClosed: string[] = [];
    const connection = network.connect(
      { host: "h", port: 1 },
      { onConnected() {}, onData() {}, onClosed: (failure) => terminalClosed.push(failure) },
    );
    clock.advance(40);
    connection.write(new Uint8Array([1, 2, 3]));
    clock.advance(5);
    network.terminalPowerLost();
    expect(network.openConnections).toBe(1);
    clock.advance(5);
    expect(serverGot).toEqual([1, 2, 3]);
    expect(serverClosed).toBe(50);
    expect(terminalClosed).toEqual(["reset"]);
    expect(network.openConnections).toBe(0);
    // Nothing in flight: the reset is at once.
    network.connect({ host: "h", port: 1 }, { onConnected() {}, onData() {}, onClosed: (failure) => terminalClosed.push(failure) });
    clock.advance(40);
    network.terminalPowerLost();
    expect(terminalClosed).toEqual(["reset", "reset"]);
  });

  test("down: a connection attempt goes unanswered", () => {
    const clock = new VirtualClock();
    const network = new EmulatedNetwork({ clock, accept: () => ({ onData() {}, onClosed() {} }) });
    network.setDown(true);
    let connected = false;
    network.connect({ host: "h", port: 1 }, { onConnected: () => (connected = true), onData() {}, onClosed() {} });
    clock.advance(60_000);
    expect(connected).toBe(false);
  });

  test("refusing: every attempt is refused after one round trip, even while down, until cleared; a queued fault goes first", () => {
    const clock = new VirtualClock();
    const network = new EmulatedNetwork({ clock, latencyMs: 10, accept: () => ({ onData() {}, onClosed() {} }) });
    const outcomes: string[] = [];
    const attempt = () =>
      network.connect(
        { host: "h", port: 1 },
        {
          onConnected: () => outcomes.push(`connected@${clock.nowMs()}`),
          onData() {},
          onClosed: (f) => outcomes.push(`${f}@${clock.nowMs()}`),
        },
      );
    network.setDown(true);
    network.setRefusing("refused");
    attempt();
    clock.advance(20);
    expect(outcomes).toEqual(["refused@20"]);
    network.failNextConnect("handshake");
    network.setDown(false);
    attempt(); // the queued fault: a handshake failure after the handshake's round trips
    attempt(); // refusing again
    clock.advance(100);
    expect(outcomes).toEqual(["refused@20", "refused@40", "handshake@60"]);
    network.setRefusing(undefined);
    attempt();
    clock.advance(100);
    expect(outcomes[3]).toBe("connected@160");
    expect(network.openConnections).toBe(1);
  });
});

describe("HostLink", () => {
  test("a normal exchange: armed before the write, answered before the deadline", () => {
    const t = setup();
    t.send("000001");
    t.clock.advance(100);
    expect(t.events).toEqual(["armed 000001 @20", "written 000001 @20 deadline 1020"]);
    expect(t.outcomes).toEqual([{ kind: "response", message: message("0210", "000001", "10000159", "00"), key: expect.anything() }]);
    expect(t.script.received).toEqual(["0200|000001|10000159|"]);
  });

  test.each([
    [989, "response"],
    [990, "noResponse"],
    [991, "noResponse"],
  ])("host delay %d ms with 5 ms latency and a 1000 ms timeout → %s", (delayMs, kind) => {
    const t = setup(5, 1000);
    t.script.delayMs = delayMs;
    t.send("000001");
    t.clock.advance(5000);
    expect(t.outcomes.map((o) => o.kind)).toEqual([kind]);
    expect(t.discards).toEqual(kind === "response" ? [] : [{ reason: "late", stan: "000001" }]);
  });

  test("refused connection and failed handshake are notSent: nothing armed, nothing written", () => {
    for (const fault of ["refused", "handshake"] as const) {
      const t = setup();
      t.network.failNextConnect(fault);
      t.send("000001");
      t.clock.advance(1000);
      expect(t.outcomes).toEqual([{ kind: "notSent", failure: fault, detail: expect.any(String) }]);
      expect(t.events).toEqual([]);
    }
  });

  test("network down: connect timeout is notSent", () => {
    const t = setup();
    t.network.setDown(true);
    t.send("000001");
    t.clock.advance(1000);
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "connectTimeout", detail: expect.any(String) }]);
  });

  test("connection dropped after one request byte: noResponse (the request may have left)", () => {
    const t = setup();
    t.network.dropAfter("toServer", 1);
    t.send("000001");
    t.clock.advance(1000);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["noResponse"]);
    expect(t.events).toHaveLength(2);
  });

  test("connection dropped at every byte of the response: noResponse, never a response", () => {
    const responseLength = 2 + message("0210", "000001", "10000159", "00").length;
    for (let bytes = 0; bytes < responseLength; bytes++) {
      const t = setup();
      t.network.dropAfter("toTerminal", bytes);
      t.send("000001");
      t.clock.advance(2000);
      expect(t.outcomes.map((o) => o.kind)).toEqual(["noResponse"]);
    }
  });

  test("duplicate answer: the second is discarded as duplicate", () => {
    const t = setup();
    t.script.answer = "duplicate";
    t.send("000001");
    t.clock.advance(100);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["response"]);
    expect(t.discards).toEqual([{ reason: "duplicate", stan: "000001" }]);
  });

  test("mismatched STAN is discarded and the exchange times out", () => {
    const t = setup();
    t.script.answer = "wrongStan";
    t.send("000001");
    t.clock.advance(2000);
    expect(t.discards).toEqual([{ reason: "mismatch", stan: "999999" }]);
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "timeout", detail: expect.any(String) }]);
  });

  test("host closes after reading: noResponse closed", () => {
    const t = setup();
    t.script.answer = "close";
    t.send("000001");
    t.clock.advance(100);
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "closed", detail: expect.any(String) }]);
  });

  test("an oversized frame drops the connection: noResponse protocol", () => {
    const t = setup();
    t.script.answer = "oversize";
    t.send("000001");
    t.clock.advance(100);
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "protocol", detail: expect.stringContaining("65535") }]);
  });

  test("a late answer to an expired request arrives during the next exchange and is discarded", () => {
    const t = setup(5, 1000);
    t.script.delayMs = 1500;
    t.send("000001");
    t.clock.advance(1030);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["noResponse"]);
    t.script.delayMs = 1000; // the second answer comes after the late first one
    t.send("000002");
    t.clock.advance(1100);
    expect(t.discards).toEqual([
      { reason: "late", stan: "000001" },
      { reason: "late", stan: "000002" },
    ]);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["noResponse", "noResponse"]);
  });

  test("the connection is reused, then closed when idle", () => {
    const t = setup();
    t.send("000001");
    t.clock.advance(100);
    t.send("000002");
    t.clock.advance(100);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["response", "response"]);
    expect(t.network.openConnections).toBe(1);
    t.clock.advance(1000);
    expect(t.network.openConnections).toBe(0);
  });

  test("a second exchange while one runs is refused as busy, nothing written", () => {
    const t = setup();
    t.send("000001");
    t.send("000002");
    t.clock.advance(100);
    expect(t.outcomes.map((o) => o.kind)).toEqual(["notSent", "response"]);
    expect(t.script.received).toHaveLength(1);
  });
});

/**
 * A clock the test moves by hand without firing timers, and a transport whose bytes the test delivers: on a
 * device, data and a timer due in the same millisecond may come in either order (VirtualClock always fires the
 * timer first), so the link must decide on the clock, not on which callback ran first.
 */
class HandClock implements Clock {
  #nowMs = 0;
  #nextId = 1;
  readonly #timers = new Map<number, { dueMs: number; callback: () => void }>();
  nowMs(): number {
    return this.#nowMs;
  }
  schedule(delayMs: number, callback: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { dueMs: this.#nowMs + delayMs, callback });
    return { id };
  }
  cancel(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }
  /** Sets the time; fires nothing. */
  setMs(ms: number): void {
    expect(ms).toBeGreaterThanOrEqual(this.#nowMs);
    this.#nowMs = ms;
  }
  /** Fires every timer due by now, earliest first; returns how many fired. */
  fireDue(): number {
    let fired = 0;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.dueMs <= this.#nowMs).sort((a, b) => a[1].dueMs - b[1].dueMs || a[0] - b[0]);
      if (due.length === 0) return fired;
      this.#timers.delete(due[0][0]);
      due[0][1].callback();
      fired++;
    }
  }
}

function handSetup() {
  const clock = new HandClock();
  const written: Uint8Array[] = [];
  let events: ConnectionEvents | undefined;
  const transport: Transport = {
    connect: (_endpoint, connectionEvents) => {
      events = connectionEvents;
      return { write: (bytes) => written.push(bytes.slice()), close: () => undefined };
    },
  };
  const discards: DiscardReason[] = [];
  const link = new HostLink({
    transport,
    clock,
    endpoint: { host: "host", port: 5000 },
    readKey,
    connectTimeoutMs: 1000,
    responseTimeoutMs: 1000,
    onDiscard: (reason) => discards.push(reason),
  });
  const outcomes: ExchangeOutcome[] = [];
  const deadlines: number[] = [];
  const armedWithBytesWritten: number[] = [];
  link.exchange(
    {
      message: message("0200", "000001"),
      expect: { mti: "0210", stan: "000001", tid: "10000159" },
      // The record is made durable here: not one byte may have been handed to the transport yet.
      beforeWrite: () => armedWithBytesWritten.push(written.length),
      onWritten: (_atMs, deadlineMs) => deadlines.push(deadlineMs),
    },
    (outcome) => outcomes.push(outcome),
  );
  const connectedEvents = (): ConnectionEvents => {
    expect(events).toBeDefined();
    return events!;
  };
  return { clock, written, link, outcomes, deadlines, discards, armedWithBytesWritten, events: connectedEvents };
}

describe("HostLink deadline, with data before a timer due in the same millisecond", () => {
  test.each([
    [1399, "response"],
    [1400, "noResponse"],
  ])("connected and written at 400 ms (deadline 1400): an answer at %d ms, before any due timer fires → %s", (atMs, kind) => {
    const t = handSetup();
    t.clock.setMs(400); // a slow connect: the exchange started at 0, its last byte is written at 400
    t.events().onConnected();
    expect(t.armedWithBytesWritten).toEqual([0]);
    expect(t.written).toHaveLength(1);
    expect(t.deadlines).toEqual([1400]);
    t.clock.setMs(atMs);
    t.events().onData(frame(message("0210", "000001", "10000159", "00")));
    expect(t.outcomes.map((o) => o.kind)).toEqual([kind]);
    expect(t.discards).toEqual(kind === "response" ? [] : ["late"]);
    expect(t.link.busy).toBe(false);
    // The deadline timer, due or not, finds nothing left to end.
    t.clock.setMs(5000);
    t.clock.fireDue();
    expect(t.outcomes).toHaveLength(1);
  });

  test("the remaining time counts from the write, not from the exchange's start", () => {
    const t = handSetup();
    t.clock.setMs(400);
    expect(t.link.remainingMs()).toBeUndefined();
    t.events().onConnected();
    expect(t.link.remainingMs()).toBe(1000);
    t.clock.setMs(1399);
    expect(t.clock.fireDue()).toBe(0);
    expect(t.link.remainingMs()).toBe(1);
    t.clock.setMs(1400);
    expect(t.clock.fireDue()).toBe(1);
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "timeout", detail: expect.any(String) }]);
  });
});

/**
 * A hand transport that keeps every connection's callbacks: the test plays the stack, including a stale
 * connection's late callbacks, and a write the stack refuses.
 */
function handLink(options: { frameBytesMax?: number; refuseWrite?: boolean } = {}) {
  const clock = new HandClock();
  const connections: { events: ConnectionEvents; written: Uint8Array[]; closed: boolean }[] = [];
  const transport: Transport = {
    connect: (_endpoint, events) => {
      const connection = { events, written: [] as Uint8Array[], closed: false };
      connections.push(connection);
      return {
        write: (bytes) => {
          if (options.refuseWrite === true) throw new Error("boom");
          connection.written.push(bytes.slice());
        },
        close: () => (connection.closed = true),
      };
    },
  };
  const discards: string[] = [];
  const link = new HostLink({
    transport,
    clock,
    endpoint: { host: "host", port: 5000 },
    readKey,
    connectTimeoutMs: 500,
    responseTimeoutMs: 1000,
    idleCloseMs: 1000,
    frameBytesMax: options.frameBytesMax,
    onDiscard: (reason, key) => discards.push(`${reason} ${key === undefined ? "?" : `${key.mti} ${key.stan} ${key.tid}`}`),
  });
  const outcomes: ExchangeOutcome[] = [];
  const send = (stan: string, payload = "") =>
    link.exchange({ message: message("0200", stan, "10000159", payload), expect: { mti: "0210", stan, tid: "10000159" } }, (outcome) =>
      outcomes.push(outcome),
    );
  const last = () => connections[connections.length - 1];
  /** Connects the newest connection now and returns it. */
  const connect = () => {
    last().events.onConnected();
    return last();
  };
  const answer = (stan: string, connection = last()) => connection.events.onData(frame(message("0210", stan, "10000159", "00")));
  return { clock, connections, link, outcomes, discards, send, connect, answer, last };
}

/** An answer's outcome as the link reports it. */
function response(stan: string): ExchangeOutcome {
  return { kind: "response", message: message("0210", stan, "10000159", "00"), key: { mti: "0210", stan, tid: "10000159" } };
}

describe("HostLink outcomes, word for word", () => {
  test("an answer at the deadline is late: noResponse timeout, and the engine is told why", () => {
    const t = handLink();
    t.send("000001");
    t.clock.setMs(10);
    t.connect();
    t.clock.setMs(1010);
    t.answer("000001");
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "timeout", detail: "answer arrived at the deadline" }]);
    expect(t.discards).toEqual(["late 0210 000001 10000159"]);
  });

  test("no answer: the deadline timer ends it with the timeout it used", () => {
    const t = handLink();
    t.send("000001");
    t.connect();
    t.clock.setMs(1000);
    expect(t.clock.fireDue()).toBe(1);
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "timeout", detail: "no answer within 1000 ms" }]);
  });

  test("no connection: notSent connectTimeout after connectTimeoutMs, the attempt closed", () => {
    const t = handLink();
    t.send("000001");
    t.clock.setMs(499);
    expect(t.clock.fireDue()).toBe(0);
    t.clock.setMs(500);
    t.clock.fireDue();
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "connectTimeout", detail: "no connection within 500 ms" }]);
    expect(t.connections[0].closed).toBe(true);
  });

  test("busy: a second exchange is refused word for word, never synchronously; busy reads true until the first ends", () => {
    const t = handLink();
    expect(t.link.busy).toBe(false);
    t.send("000001");
    expect(t.link.busy).toBe(true);
    t.send("000002");
    expect(t.outcomes).toEqual([]);
    t.clock.fireDue();
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "busy", detail: "another exchange is running" }]);
    t.connect();
    t.answer("000001");
    expect(t.link.busy).toBe(false);
    expect(t.outcomes[1]).toEqual(response("000001"));
  });

  test("closed by the terminal while connecting: notSent refused (nothing left); after the write: noResponse closed", () => {
    const t = handLink();
    t.send("000001");
    t.link.close();
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "refused", detail: "closed by the terminal" }]);
    expect(t.connections[0].closed).toBe(true);
    t.send("000002");
    t.connect();
    t.link.close();
    expect(t.outcomes[1]).toEqual({ kind: "noResponse", failure: "closed", detail: "closed by the terminal" });
  });

  test("the stack refuses the write: notSent refused with its reason, and the next exchange connects again", () => {
    const t = handLink({ refuseWrite: true });
    t.send("000001");
    t.connect();
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "refused", detail: "write failed: boom" }]);
    t.send("000002");
    expect(t.connections).toHaveLength(2);
  });

  test("the host resets after the write: noResponse reset; after a host close: noResponse closed", () => {
    const t = handLink();
    t.send("000001");
    t.connect().events.onClosed("reset", "connection reset");
    expect(t.outcomes).toEqual([{ kind: "noResponse", failure: "reset", detail: "connection reset" }]);
    t.send("000002");
    t.connect().events.onClosed("closed", "host closed");
    expect(t.outcomes[1]).toEqual({ kind: "noResponse", failure: "closed", detail: "host closed" });
    // Nothing left open, so no idle timer either.
    t.clock.setMs(60_000);
    expect(t.clock.fireDue()).toBe(0);
  });

  test("setTimeouts: the new deadlines apply from the next exchange; bad ones are refused by name", () => {
    const t = handLink();
    t.link.setTimeouts(200, 3000);
    t.send("000001");
    t.clock.setMs(199);
    expect(t.clock.fireDue()).toBe(0);
    t.clock.setMs(200);
    t.clock.fireDue();
    expect(t.outcomes).toEqual([{ kind: "notSent", failure: "connectTimeout", detail: "no connection within 200 ms" }]);
    t.send("000002");
    t.connect();
    t.clock.setMs(3199);
    expect(t.clock.fireDue()).toBe(0);
    t.clock.setMs(3200);
    t.clock.fireDue();
    expect(t.outcomes.at(-1)).toEqual({ kind: "noResponse", failure: "timeout", detail: "no answer within 3000 ms" });
    expect(() => t.link.setTimeouts(0, 1000)).toThrow("connectTimeoutMs must be an integer");
    expect(() => t.link.setTimeouts(1000, 0)).toThrow("responseTimeoutMs must be an integer");
  });

  test("bad timeouts and frame limits are refused by name", () => {
    const base = {
      transport: { connect: () => ({ write() {}, close() {} }) },
      clock: new HandClock(),
      endpoint: { host: "h", port: 1 },
      readKey,
    };
    expect(() => new HostLink({ ...base, connectTimeoutMs: 0, responseTimeoutMs: 1000 })).toThrow("connectTimeoutMs must be an integer");
    expect(() => new HostLink({ ...base, connectTimeoutMs: 1000, responseTimeoutMs: 0 })).toThrow("responseTimeoutMs must be an integer");
    expect(() => new HostLink({ ...base, connectTimeoutMs: 1000, responseTimeoutMs: 1000, frameBytesMax: 15 })).toThrow(
      "frameBytesMax must be an integer",
    );
    expect(new FrameError(70_000, 2048).name).toBe("FrameError");
  });
});

describe("HostLink correlation and the keys it remembers", () => {
  test("an answer must match MTI, STAN and terminal id; anything else is a mismatch and the exchange waits on", () => {
    const t = handLink();
    t.send("000001");
    const connection = t.connect();
    connection.events.onData(frame(message("0230", "000001", "10000159", "00")));
    connection.events.onData(frame(message("0210", "000002", "10000159", "00")));
    connection.events.onData(frame(message("0210", "000001", "10000160", "00")));
    expect(t.outcomes).toEqual([]);
    expect(t.discards).toEqual(["mismatch 0230 000001 10000159", "mismatch 0210 000002 10000159", "mismatch 0210 000001 10000160"]);
    t.answer("000001");
    expect(t.outcomes).toEqual([response("000001")]);
  });

  test("a key answered after it expired is a duplicate afterwards, and remembering one key forgets no other", () => {
    const t = handLink();
    t.send("000001");
    t.connect();
    t.clock.setMs(1000);
    t.clock.fireDue(); // 000001 expired
    t.send("000002");
    t.clock.fireDue(); // written on the open connection
    t.answer("000002"); // 000002 answered: 000001 must still be known as expired
    t.send("000001");
    t.clock.fireDue();
    t.answer("000001"); // the same key again, answered this time
    t.answer("000001");
    t.answer("000002");
    expect(t.outcomes.map((o) => o.kind)).toEqual(["noResponse", "response", "response"]);
    expect(t.discards).toEqual(["duplicate 0210 000001 10000159", "duplicate 0210 000002 10000159"]);
    t.connections[0].events.onData(frame(message("0210", "000003", "10000159", "00")));
    expect(t.discards[2]).toBe("mismatch 0210 000003 10000159");
  });

  test("the last 16 keys are remembered, the 17th oldest is forgotten", () => {
    const t = handLink();
    for (let i = 1; i <= 17; i++) {
      const stan = String(i).padStart(6, "0");
      t.send(stan);
      if (i === 1) t.connect();
      else t.clock.fireDue();
      t.answer(stan);
    }
    expect(t.outcomes.map((o) => o.kind)).toEqual(Array(17).fill("response"));
    for (const stan of ["000001", "000002", "000017"]) t.answer(stan);
    expect(t.discards).toEqual(["mismatch 0210 000001 10000159", "duplicate 0210 000002 10000159", "duplicate 0210 000017 10000159"]);
  });
});

describe("HostLink framing and connections", () => {
  // message("0210", stan, tid, "00") is 23 bytes; with an empty payload 21.
  test("frames split and joined across reads, larger than the buffer left, each delivered once in order", () => {
    const t = handLink({ frameBytesMax: 24 });
    t.send("000001");
    const connection = t.connect();
    const frames = [
      frame(message("0810", "000007", "10000159")),
      frame(message("0210", "000001", "10000159", "00")),
      frame(message("0210", "000008", "10000159", "00")),
      frame(message("0210", "000009", "10000159", "00")),
    ];
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      all.set(f, at);
      at += f.length;
    }
    connection.events.onData(all.subarray(0, all.length - 3));
    connection.events.onData(all.subarray(all.length - 3));
    connection.events.onData(frame(message("0210", "000010", "10000159", "00")));
    expect(t.outcomes).toEqual([response("000001")]);
    expect(t.discards).toEqual([
      "mismatch 0810 000007 10000159",
      "mismatch 0210 000008 10000159",
      "mismatch 0210 000009 10000159",
      "mismatch 0210 000010 10000159",
    ]);
  });

  test("a frame of exactly frameBytesMax is received; a request of exactly frameBytesMax is sent, one byte more is refused", () => {
    const t = handLink({ frameBytesMax: 25 });
    t.send("000001", "00"); // 23 bytes
    expect(() => t.send("000002", "000000")).toThrow("HostLink: request larger than frameBytesMax");
    t.connect().events.onData(frame(message("0210", "000001", "10000159", "0000")));
    expect(t.outcomes).toEqual([
      { kind: "response", message: message("0210", "000001", "10000159", "0000"), key: { mti: "0210", stan: "000001", tid: "10000159" } },
    ]);
    const u = handLink({ frameBytesMax: 25 });
    u.send("000001", "0000"); // exactly 25 bytes
    expect(u.connect().written).toEqual([frame(message("0200", "000001", "10000159", "0000"))]);
  });

  test.each([
    ["a zero length", [0, 0]],
    ["a length above frameBytesMax", [0, 26]],
  ])("%s drops the connection at once, and what followed it in the same read is never delivered", (_title, header) => {
    const t = handLink({ frameBytesMax: 25 });
    t.send("000001");
    const connection = t.connect();
    const filler = new Uint8Array(25);
    const answer = frame(message("0210", "000001", "10000159", "00"));
    const bytes = new Uint8Array(2 + filler.length + answer.length);
    bytes.set(header);
    bytes.set(answer, 2 + filler.length);
    connection.events.onData(bytes.subarray(0, 2));
    expect(t.outcomes).toEqual([
      { kind: "noResponse", failure: "protocol", detail: `frame of ${header[1]} bytes exceeds the limit of 25` },
    ]);
    expect(connection.closed).toBe(true);
    const u = handLink({ frameBytesMax: 25 });
    u.send("000001");
    u.connect().events.onData(bytes);
    expect(u.outcomes.map((o) => o.kind)).toEqual(["noResponse"]);
    expect(u.discards).toEqual([]);
  });

  test("a stale connection's late callbacks touch nothing: data is ignored, its close ends no exchange", () => {
    const t = handLink();
    t.send("000001");
    const first = t.connect();
    t.answer("000001");
    t.clock.setMs(1030);
    t.clock.fireDue(); // idle: the first connection closed by the terminal
    expect(first.closed).toBe(true);
    t.send("000002");
    const second = t.connect();
    t.answer("000001", first);
    first.events.onClosed("reset", "late reset");
    expect(t.discards).toEqual([]);
    expect(t.outcomes).toEqual([response("000001")]);
    t.answer("000002", second);
    expect(t.outcomes[1]).toEqual(response("000002"));
  });

  test("the idle close counts from the last exchange; after a host close the next exchange connects again", () => {
    const t = handLink();
    t.send("000001");
    t.connect();
    t.answer("000001");
    t.clock.setMs(500);
    t.send("000002");
    t.clock.fireDue();
    t.answer("000002");
    t.clock.setMs(1499);
    t.clock.fireDue();
    expect(t.connections[0].closed).toBe(false);
    t.clock.setMs(1500);
    t.clock.fireDue();
    expect(t.connections[0].closed).toBe(true);
    t.send("000003");
    t.connect().events.onClosed("closed", "host closed while idle");
    t.send("000004");
    expect(t.connections).toHaveLength(3);
  });

  test("a reused connection closed before the write is scheduled: nothing is written", () => {
    const t = handLink();
    t.send("000001");
    t.connect();
    t.answer("000001");
    t.send("000002"); // the write waits for the clock
    t.link.close();
    t.clock.fireDue();
    expect(t.connections[0].written).toHaveLength(1);
    expect(t.outcomes[1]).toEqual({ kind: "notSent", failure: "refused", detail: "closed by the terminal" });
  });
});
