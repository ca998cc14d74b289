import { fromAscii, toAscii } from "../../../modules/base/hex";
import { EmulatedNetwork, type ServerConnection } from "../../../modules/emulators/network";
import { HostLink, type CorrelationKey, type DiscardReason, type ExchangeOutcome } from "../../../modules/link/host-link";
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
  link.exchange(
    {
      message: message("0200", "000001"),
      expect: { mti: "0210", stan: "000001", tid: "10000159" },
      onWritten: (_atMs, deadlineMs) => deadlines.push(deadlineMs),
    },
    (outcome) => outcomes.push(outcome),
  );
  const connectedEvents = (): ConnectionEvents => {
    expect(events).toBeDefined();
    return events!;
  };
  return { clock, written, link, outcomes, deadlines, discards, events: connectedEvents };
}

describe("HostLink deadline, with data before a timer due in the same millisecond", () => {
  test.each([
    [1399, "response"],
    [1400, "noResponse"],
  ])("connected and written at 400 ms (deadline 1400): an answer at %d ms, before any due timer fires → %s", (atMs, kind) => {
    const t = handSetup();
    t.clock.setMs(400); // a slow connect: the exchange started at 0, its last byte is written at 400
    t.events().onConnected();
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
