/**
 * `xspos host`: the acquirer host simulator (docs/host-simulator.md).
 *   tools/xspos host [--port P] [--plain] [--db FILE] [--control-port P] [--var DIR] [--cert F --key F] [--mtls]
 *   tools/xspos host reconcile --tid TID [--db FILE]
 *   tools/xspos host publish (--parameters JSON | --image VERSION --kind KIND [--size BYTES]) [--control URL]
 */
import fs from "node:fs";
import path from "node:path";
import { integerOption, parseOptions, UsageError, type Command } from "../command";
import { startHost } from "../../host/app";
import { PkiError } from "../../host/pki";
import { SqliteLedger } from "../../host/sqlite-ledger";
import { checkImageSpec, checkPublishedParameters, IMAGE_KINDS, TmsPublishError } from "../../host/tms";
import { MAX_IMAGE_BYTES } from "../../../modules/tms/source";

const VAR_DIR_DEFAULT = "var/host";
const CONTROL_URL_DEFAULT = "http://127.0.0.1:5080";

/** Errors that mean the operator's input is wrong (a file that is not a ledger, a port in use): exit 2, not an internal error. */
function badInput(error: unknown): UsageError | undefined {
  const code = String((error as { code?: unknown }).code ?? "");
  if (code.startsWith("SQLITE_")) return new UsageError(`the ledger file cannot be used: ${(error as Error).message}`);
  if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL")
    return new UsageError(`cannot listen: ${(error as Error).message}`);
  if (code.startsWith("ERR_OSSL")) return new UsageError(`--cert/--key cannot be used: ${(error as Error).message}`);
  if (error instanceof PkiError) return new UsageError(error.message);
  return undefined;
}

function openLedger(db: string): SqliteLedger {
  try {
    return new SqliteLedger(db);
  } catch (error) {
    throw badInput(error) ?? error;
  }
}

function reconcile(args: readonly string[]): number {
  const { values } = parseOptions(args, { tid: { type: "string" }, db: { type: "string" }, var: { type: "string" } }, false);
  if (values.tid === undefined || !/^[0-9A-Za-z]{8}$/.test(values.tid)) throw new UsageError("reconcile needs --tid, 8 letters or digits");
  const db = values.db ?? path.join(values.var ?? VAR_DIR_DEFAULT, "ledger.db");
  // A reconcile never creates a ledger: a missing file is a wrong path.
  if (!fs.existsSync(db)) throw new UsageError(`no ledger at ${db}`);
  const ledger = openLedger(db);
  try {
    console.log(JSON.stringify(ledger.view(values.tid)));
  } finally {
    ledger.close();
  }
  return 0;
}

/**
 * Publishes on a running host's TMS through its control API (docs/tms.md): a parameter set, or a test
 * image the host builds and signs. Prints the publications; exit 2 when the host refuses the request.
 */
async function publish(args: readonly string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      parameters: { type: "string" },
      image: { type: "string" },
      kind: { type: "string" },
      size: { type: "string" },
      control: { type: "string" },
    },
    false,
  );
  if ((values.parameters === undefined) === (values.image === undefined))
    throw new UsageError("publish needs --parameters JSON or --image VERSION");
  // The arguments are checked as the host checks them before the host is asked: a bad kind is the operator's
  // mistake whether or not a host runs.
  let body: unknown;
  try {
    if (values.parameters !== undefined) {
      let parameters: unknown;
      try {
        parameters = JSON.parse(values.parameters);
      } catch {
        throw new UsageError("--parameters must be a JSON object");
      }
      body = { parameters: checkPublishedParameters(parameters) };
    } else {
      if (values.kind === undefined) throw new UsageError(`--image needs --kind ${IMAGE_KINDS.join("|")}`);
      const size = values.size === undefined ? {} : { sizeBytes: integerOption(values.size, "size", 0, 1, MAX_IMAGE_BYTES) };
      body = { image: checkImageSpec({ version: values.image, kind: values.kind, ...size }) };
    }
  } catch (error) {
    if (error instanceof TmsPublishError) throw new UsageError(`publish: ${error.message}`);
    throw error;
  }
  const url = `${values.control ?? CONTROL_URL_DEFAULT}/tms`;
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    throw new UsageError(`no host control API at ${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status !== 201) throw new UsageError(`the host refused: ${text}`);
  console.log(text);
  return 0;
}

async function serve(args: readonly string[]): Promise<number> {
  const { values } = parseOptions(
    args,
    {
      port: { type: "string" },
      "control-port": { type: "string" },
      plain: { type: "boolean" },
      db: { type: "string" },
      var: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      mtls: { type: "boolean" },
    },
    false,
  );
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError("--cert and --key go together");
  for (const file of [values.cert, values.key])
    if (file !== undefined && !fs.existsSync(file)) throw new UsageError(`no such file ${file}`);
  let app: Awaited<ReturnType<typeof startHost>>;
  try {
    app = await startHost({
      varDir: values.var ?? VAR_DIR_DEFAULT,
      db: values.db,
      port: integerOption(values.port, "port", 5000, 0, 65535),
      controlPort: integerOption(values["control-port"], "control-port", 5080, 0, 65535),
      plain: values.plain === true,
      cert: values.cert,
      key: values.key,
      requireClientCertificate: values.mtls === true,
    });
  } catch (error) {
    throw badInput(error) ?? error;
  }
  const scheme = values.plain ? "tcp" : "tls";
  console.log(`host listening on ${scheme}://${app.address.host}:${app.address.port}`);
  console.log(`control API on ${app.controlUrl} (POST/GET/DELETE /faults, GET /ledger?tid=TID, POST/GET /tms)`);
  if (app.pki !== undefined) console.log(`test CA for terminals: ${app.pki.ca.cert}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await app.close();
  return 0;
}

export const command: Command = {
  summary: "acquirer host simulator: TLS, keys, MAC/PIN checks, SQLite ledger, switchable faults, TMS publishing",
  usage: [
    "tools/xspos host [--port P] [--plain] [--db FILE] [--control-port P] [--var DIR] [--cert FILE --key FILE] [--mtls]",
    "tools/xspos host reconcile --tid TID [--db FILE]",
    "tools/xspos host publish (--parameters JSON | --image VERSION --kind KIND [--size BYTES]) [--control URL]",
    "defaults: --port 5000, --control-port 5080, --var var/host (PKI under var/host/pki, ledger var/host/ledger.db)",
  ],
  run(args) {
    if (args[0] === "reconcile") return reconcile(args.slice(1));
    if (args[0] === "publish") return publish(args.slice(1));
    return serve(args);
  },
};
