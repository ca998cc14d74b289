/**
 * The simulator's page on 127.0.0.1: static files from tools/sim/web, the
 * whole view as server-sent events (`GET /events`), one action endpoint
 * (`POST /api/action`, JSON) for the keypad, the menu, the cards, the side
 * panel's switches, the TMS publications, the settings, the time scale, reset and recording, a
 * scenario file to play (`POST /api/scenario`), and the exports
 * (`/capture.pcap`, `/trace.jsonl`). Nothing is reachable from other machines.
 */
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FaultSpecError } from "../host/faults";
import { readBoundedBody } from "../host/control";
import { parseScenario, ScenarioFileError } from "../scenario/scenario-file";
import { checkScenarioSchema } from "../scenario/schema-check";
import { DeskError, type PowerAction, type SimDesk } from "./desk";
import type { MenuFunction } from "./terminal";
import type { Key } from "../../modules/ui/terminal-ui";

const WEB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "web");
const STATIC = Object.freeze({
  "/": ["index.html", "text/html; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
} as Record<string, readonly [string, string]>);
const BODY_BYTES_MAX = 4096;
/** A scenario file to play: the scenario format allows 10 000 steps. */
const SCENARIO_BYTES_MAX = 1 << 20;
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

export async function startWebServer(desk: SimDesk, port: number): Promise<WebServer> {
  const clients = new Set<http.ServerResponse>();
  let pushTimer: ReturnType<typeof setTimeout> | undefined;
  const push = () => {
    if (pushTimer !== undefined) return;
    pushTimer = setTimeout(() => {
      pushTimer = undefined;
      const data = `data: ${JSON.stringify(desk.view())}\n\n`;
      for (const client of clients) client.write(data);
    }, PUSH_INTERVAL_MS);
  };
  const unsubscribe = desk.onChange(push);
  // The response-timeout countdown moves on its own while a request is in flight.
  const ticker = setInterval(() => desk.sim.terminal.tick(), TICK_INTERVAL_MS);
  const refused = (error: unknown) =>
    error instanceof ActionError ||
    error instanceof FaultSpecError ||
    error instanceof RangeError ||
    error instanceof DeskError ||
    error instanceof ScenarioFileError;

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (request.method === "GET" && url.pathname === "/events") {
      if (clients.size >= CLIENTS_MAX) return send(response, 503, { error: "too many pages open" });
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      response.write(`data: ${JSON.stringify(desk.view())}\n\n`);
      clients.add(response);
      request.on("close", () => clients.delete(response));
      return;
    }
    if (request.method === "GET" && url.pathname === "/api/view") return send(response, 200, desk.view());
    if (request.method === "POST" && (url.pathname === "/api/action" || url.pathname === "/api/scenario")) {
      const scenario = url.pathname === "/api/scenario";
      readBoundedBody(request, scenario ? SCENARIO_BYTES_MAX : BODY_BYTES_MAX, (message) => new ActionError(message))
        .then((body) => (scenario ? playScenario(desk, body) : act(desk, body)))
        .then((result) => send(response, 200, { ok: true, ...result }))
        .catch((error: unknown) => send(response, refused(error) ? 400 : 500, { error: (error as Error).message }));
      return;
    }
    // The capture since start, for Wireshark with tools/wireshark/cup8583.lua (docs/wireshark.md).
    if (request.method === "GET" && url.pathname === "/capture.pcap") {
      const capture = desk.sim.capture;
      response.writeHead(200, {
        "content-type": "application/vnd.tcpdump.pcap",
        "content-disposition": 'attachment; filename="xspos-sim.pcap"',
        "cache-control": "no-store",
      });
      response.end(capture === undefined ? new Uint8Array() : capture.bytes());
      return;
    }
    // The event trace since the last reset, one JSON event a line (docs/contracts.md "Events").
    if (request.method === "GET" && url.pathname === "/trace.jsonl") {
      response.writeHead(200, {
        "content-type": "application/x-ndjson; charset=utf-8",
        "content-disposition": 'attachment; filename="xspos-trace.jsonl"',
        "cache-control": "no-store",
      });
      response.end(desk.traceJsonl());
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

function parseBody(body: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ActionError("the body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new ActionError("the body must be a JSON object");
  return value as Record<string, unknown>;
}

/** A scenario file from the page: checked as the CLI checks it, then played (not awaited: the view shows the verdict). */
async function playScenario(desk: SimDesk, body: string): Promise<Record<string, unknown>> {
  const value = parseBody(body);
  checkScenarioSchema(value);
  const scenario = parseScenario(value);
  await desk.runScenario(scenario);
  return { name: scenario.name, steps: scenario.steps.length };
}

async function act(desk: SimDesk, body: string): Promise<Record<string, unknown>> {
  const action = parseBody(body);
  const terminal = desk.sim.terminal;
  const oneOf = (value: unknown, allowed: readonly string[], what: string): string => {
    if (typeof value !== "string" || !allowed.includes(value)) throw new ActionError(`${what} must be one of ${allowed.join(", ")}`);
    return value;
  };
  switch (action.type) {
    case "key":
      desk.refuseWhileRunning();
      terminal.press(oneOf(action.key, KEYS, "key") as Key);
      return {};
    case "menu":
      desk.refuseWhileRunning();
      terminal.menu(oneOf(action.fn, MENU, "fn") as MenuFunction);
      return {};
    case "card":
      desk.refuseWhileRunning();
      if (typeof action.name !== "string") throw new ActionError("card needs a name");
      terminal.present(action.name);
      return {};
    case "power":
      desk.power(oneOf(action.action, ["on", "off", "cut", "cutAtNextFlashOp"], "action") as PowerAction);
      return {};
    case "network":
      if (action.latencyMs !== undefined && typeof action.latencyMs !== "number") throw new ActionError("latencyMs must be a number");
      if (action.down !== undefined && typeof action.down !== "boolean") throw new ActionError("down must be true or false");
      desk.network({ down: action.down, latencyMs: action.latencyMs });
      return {};
    case "fault":
      desk.addFault(action.fault);
      return {};
    case "tmsPublish":
      desk.tmsPublish(action.image);
      return {};
    case "clearFaults":
      desk.clearFaults();
      return {};
    case "settings":
      if (action.settings === null || typeof action.settings !== "object") throw new ActionError("settings must be an object");
      desk.applySettings(action.settings as Record<string, unknown>);
      return {};
    case "timeScale":
      desk.setTimeScale(action.scale);
      return {};
    case "reset":
      await desk.reset();
      return {};
    case "record":
      if (action.on === true) {
        await desk.startRecording();
        return {};
      }
      return { scenario: desk.stopRecording() };
    default:
      throw new ActionError(`unknown action type ${JSON.stringify(action.type)}`);
  }
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}
