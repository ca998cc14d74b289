/**
 * The simulator's page on 127.0.0.1: static files from tools/sim/web, the
 * whole view as server-sent events (`GET /events`), and one action endpoint
 * (`POST /api/action`, JSON) for the keypad, the menu, the cards and the
 * side panel's switches. Nothing is reachable from other machines.
 */
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FaultSpecError } from "../host/faults";
import { readBoundedBody } from "../host/control";
import type { Sim } from "./app";
import type { MenuFunction } from "./terminal";
import type { Key } from "../../modules/ui/terminal-ui";

const WEB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "web");
const STATIC = Object.freeze({
  "/": ["index.html", "text/html; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
} as Record<string, readonly [string, string]>);
const BODY_BYTES_MAX = 4096;
const PUSH_INTERVAL_MS = 100;
const TICK_INTERVAL_MS = 250;
const CLIENTS_MAX = 32;
const KEYS: readonly string[] = Object.freeze(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "enter", "cancel", "clear"]);
const MENU: readonly string[] = Object.freeze([
  "sale",
  "void",
  "refund",
  "balance",
  "settle",
  "signOn",
  "reprint",
  "pending",
  "networkCheck",
  "tmsCheck",
]);

/** A request the page should not have sent: 400 with the reason. */
class ActionError extends Error {
  override readonly name = "ActionError";
}

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startWebServer(sim: Sim, port: number): Promise<WebServer> {
  const clients = new Set<http.ServerResponse>();
  let pushTimer: ReturnType<typeof setTimeout> | undefined;
  const push = () => {
    if (pushTimer !== undefined) return;
    pushTimer = setTimeout(() => {
      pushTimer = undefined;
      const data = `data: ${JSON.stringify(sim.view())}\n\n`;
      for (const client of clients) client.write(data);
    }, PUSH_INTERVAL_MS);
  };
  const unsubscribe = sim.onChange(push);
  // The response-timeout countdown moves on its own while a request is in flight.
  const ticker = setInterval(() => sim.terminal.tick(), TICK_INTERVAL_MS);

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (request.method === "GET" && url.pathname === "/events") {
      if (clients.size >= CLIENTS_MAX) return send(response, 503, { error: "too many pages open" });
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      response.write(`data: ${JSON.stringify(sim.view())}\n\n`);
      clients.add(response);
      request.on("close", () => clients.delete(response));
      return;
    }
    if (request.method === "GET" && url.pathname === "/api/view") return send(response, 200, sim.view());
    if (request.method === "POST" && url.pathname === "/api/action") {
      readBoundedBody(request, BODY_BYTES_MAX, (message) => new ActionError(message))
        .then((body) => {
          act(sim, body);
          send(response, 200, { ok: true });
        })
        .catch((error: unknown) => {
          if (error instanceof ActionError || error instanceof FaultSpecError || error instanceof RangeError)
            return send(response, 400, { error: error.message });
          send(response, 500, { error: (error as Error).message });
        });
      return;
    }
    // The capture so far (`sim --pcap FILE`), for Wireshark with tools/wireshark/cup8583.lua.
    if (request.method === "GET" && url.pathname === "/capture.pcap" && sim.capture !== undefined) {
      response.writeHead(200, { "content-type": "application/vnd.tcpdump.pcap", "cache-control": "no-store" });
      response.end(sim.capture.bytes());
      return;
    }
    if (url.pathname === "/favicon.ico") return void response.writeHead(204).end();
    const file = STATIC[url.pathname];
    if (request.method === "GET" && file !== undefined) {
      response.writeHead(200, { "content-type": file[1], "cache-control": "no-store" });
      response.end(fs.readFileSync(path.join(WEB_DIR, file[0])));
      return;
    }
    send(response, 404, { error: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: async () => {
      clearInterval(ticker);
      if (pushTimer !== undefined) clearTimeout(pushTimer);
      unsubscribe();
      for (const client of clients) client.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function act(sim: Sim, body: string): void {
  let action: Record<string, unknown>;
  try {
    action = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new ActionError("the body is not JSON");
  }
  if (action === null || typeof action !== "object") throw new ActionError("the body must be a JSON object");
  const terminal = sim.terminal;
  const oneOf = (value: unknown, allowed: readonly string[], what: string): string => {
    if (typeof value !== "string" || !allowed.includes(value)) throw new ActionError(`${what} must be one of ${allowed.join(", ")}`);
    return value;
  };
  switch (action.type) {
    case "key":
      return terminal.press(oneOf(action.key, KEYS, "key") as Key);
    case "menu":
      return terminal.menu(oneOf(action.fn, MENU, "fn") as MenuFunction);
    case "card":
      if (typeof action.name !== "string") throw new ActionError("card needs a name");
      return terminal.present(action.name);
    case "power":
      switch (oneOf(action.action, ["on", "off", "cut", "cutAtNextFlashOp"], "action")) {
        case "on":
          return terminal.powerOn();
        case "off":
          return terminal.powerOff(true);
        case "cut":
          return terminal.powerOff(false);
        default:
          return terminal.cutAtFlashOp(1);
      }
    case "network":
      if (typeof action.latencyMs === "number") sim.network.setLatency(action.latencyMs);
      if (typeof action.down === "boolean") sim.network.setDown(action.down);
      if (action.down === false) sim.terminal.linkRestored();
      return sim.notify();
    case "fault":
      return sim.addFault(action.fault);
    case "clearFaults":
      sim.host.core.faults.clear();
      return sim.notify();
    default:
      throw new ActionError(`unknown action type ${JSON.stringify(action.type)}`);
  }
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}
