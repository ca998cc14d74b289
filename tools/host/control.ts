/**
 * The host's local HTTP control API (127.0.0.1 only):
 *
 *   POST   /faults         body {"kind":..., "count":N, "mti":"0200", "ms":N, "code":"51"} → 201 {"faults":[...]}
 *   GET    /faults         → 200 {"faults":[...]} (pending faults with their remaining count)
 *   DELETE /faults         → 200 {"faults":[]}
 *   GET    /ledger?tid=T   → 200 the reconcile view of terminal T
 *   POST   /tms            body {"parameters":{...}} or {"image":{"version":"1.1.0","kind":"good",
 *                          "sizeBytes":N}} → 201 the publications (docs/tms.md)
 *   GET    /tms            → 200 {"parameters":{...}|null,"image":{...}|null,"reports":[...]}
 *
 * Errors answer 400/404/405/413 with {"error":"..."}. A request whose Host header is not this
 * listener (127.0.0.1:PORT or localhost:PORT) or that comes from another origin (an Origin header
 * other than this listener's, or Sec-Fetch-Site cross-site) answers 403 and changes nothing: a web
 * page the operator visits cannot reach the API, by DNS rebinding or otherwise.
 */
import http from "node:http";
import type net from "node:net";
import { FaultSpecError, parseFault, type FaultSchedule } from "./faults";
import { checkFaultSchema } from "../scenario/schema-check";
import type { Ledger } from "./ledger";
import { buildImage, checkImageSpec, checkPublishedParameters, TmsPublishError, type ImageSigner, type TmsPublications } from "./tms";

export interface ControlApiOptions {
  readonly faults: FaultSchedule;
  readonly ledger: Ledger;
  /** The TMS publications and the signer for images; without them /tms answers 404. */
  readonly tms?: { readonly publications: TmsPublications; readonly signer: ImageSigner };
  readonly host?: string;
  readonly port?: number;
}

const BODY_BYTES_MAX = 4096;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a request body of at most `bytesMax` bytes; a larger one is rejected with `tooLarge(message)` and the
 * request destroyed. Shared by this API and the simulator's page server.
 */
export function readBoundedBody(request: http.IncomingMessage, bytesMax: number, tooLarge: (message: string) => Error): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        reject(tooLarge(`body over ${bytesMax} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

export class ControlApi {
  readonly #options: ControlApiOptions;
  readonly #server: http.Server;

  constructor(options: ControlApiOptions) {
    this.#options = options;
    this.#server = http.createServer((request, response) => {
      this.#route(request)
        .then(([status, body]) => respond(response, status, body))
        .catch((error: unknown) => {
          const status = error instanceof HttpError ? error.status : 500;
          respond(response, status, { error: error instanceof Error ? error.message : String(error) });
        });
    });
  }

  listen(): Promise<{ url: string }> {
    const host = this.#options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port ?? 0, host, () => {
        this.#server.off("error", reject);
        resolve({ url: `http://${host}:${(this.#server.address() as net.AddressInfo).port}` });
      });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Same-host, same-origin requests only (DNS rebinding, cross-site forms and fetches). */
  #checkCaller(request: http.IncomingMessage): void {
    const port = (this.#server.address() as net.AddressInfo).port;
    const allowed = [`127.0.0.1:${port}`, `localhost:${port}`];
    const host = request.headers.host;
    if (host === undefined || !allowed.includes(host.toLowerCase())) throw new HttpError(403, "Host header is not this control API");
    const origin = request.headers.origin;
    if (origin !== undefined && !allowed.some((a) => origin.toLowerCase() === `http://${a}`))
      throw new HttpError(403, "cross-origin requests are refused");
    const site = request.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") throw new HttpError(403, "cross-site requests are refused");
  }

  async #route(request: http.IncomingMessage): Promise<[number, unknown]> {
    this.#checkCaller(request);
    const url = new URL(request.url ?? "/", "http://control");
    const { faults, ledger } = this.#options;
    if (url.pathname === "/faults") {
      if (request.method === "GET") return [200, { faults: faults.list() }];
      if (request.method === "DELETE") {
        faults.clear();
        return [200, { faults: [] }];
      }
      if (request.method === "POST") {
        const text = await readBoundedBody(request, BODY_BYTES_MAX, (message) => new HttpError(413, message));
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new HttpError(400, "body is not JSON");
        }
        try {
          checkFaultSchema(json);
          faults.add(parseFault(json));
        } catch (error) {
          if (error instanceof FaultSpecError) throw new HttpError(400, error.message);
          throw error;
        }
        return [201, { faults: faults.list() }];
      }
      throw new HttpError(405, `${request.method} not allowed on /faults`);
    }
    if (url.pathname === "/ledger") {
      if (request.method !== "GET") throw new HttpError(405, `${request.method} not allowed on /ledger`);
      const tid = url.searchParams.get("tid");
      if (tid === null || !/^[0-9A-Za-z]{8}$/.test(tid)) throw new HttpError(400, "tid must be 8 letters or digits");
      return [200, ledger.view(tid)];
    }
    if (url.pathname === "/tms" && this.#options.tms !== undefined) {
      const { publications, signer } = this.#options.tms;
      if (request.method === "GET") return [200, publications.summary()];
      if (request.method !== "POST") throw new HttpError(405, `${request.method} not allowed on /tms`);
      publish(publications, signer, await this.#json(request));
      return [201, publications.summary()];
    }
    throw new HttpError(404, `no such resource ${url.pathname}`);
  }

  async #json(request: http.IncomingMessage): Promise<unknown> {
    const text = await readBoundedBody(request, BODY_BYTES_MAX, (message) => new HttpError(413, message));
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, "body is not JSON");
    }
  }
}

/** `{"parameters":{...}}` or `{"image":{version, kind[, sizeBytes]}}`, checked like the scenario step. */
function publish(publications: TmsPublications, signer: ImageSigner, body: unknown): void {
  try {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "body must be a JSON object");
    const raw = body as Record<string, unknown>;
    if (Object.keys(raw).length !== 1 || (raw.parameters === undefined && raw.image === undefined))
      throw new HttpError(400, 'body must be {"parameters":{...}} or {"image":{"version":...,"kind":...}}');
    if (raw.parameters !== undefined) publications.publishParameters(checkPublishedParameters(raw.parameters));
    else publications.publishImage(buildImage(checkImageSpec(raw.image), signer));
  } catch (error) {
    if (error instanceof TmsPublishError) throw new HttpError(400, error.message);
    throw error;
  }
}

function respond(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}
