/**
 * The acquirer link of a device (the ESP32 and the Linux terminal alike):
 * TLS to the configured endpoint, pinned to the CA provisioned in NVS
 * (`xspos-tls` / `ca`, DER, with the terminal keys). Without a CA every
 * connection fails as a handshake would, before any byte leaves: nothing
 * goes out in clear.
 */
import type { Clock } from "../../modules/platform/clock";
import type { Logger } from "../../modules/platform/log";
import type { Connection, ConnectionEvents, Transport, TransportEndpoint } from "../../modules/platform/transport";
import type { ConnectionSettings } from "./nvs-keys";
import { NVS_BLOB_BYTES_MAX, NvsBlobStore } from "./preferences";
import { TlsTransport } from "./tls-transport";

const TLS_DOMAIN = "xspos-tls";
const CA_NAME = "ca";

class UnprovisionedTransport implements Transport {
  constructor(readonly clock: Clock) {}
  connect(_endpoint: TransportEndpoint, events: ConnectionEvents): Connection {
    this.clock.schedule(0, () => events.onClosed("handshake", `no pinned CA in NVS ${TLS_DOMAIN}/${CA_NAME}`));
    return { write: () => undefined, close: () => undefined };
  }
}

/** The transport and endpoint of the terminal assembly; a missing CA is logged once here. */
export function acquirerLink(
  clock: Clock,
  settings: ConnectionSettings,
  log: Logger,
): { transport: Transport; endpoint: TransportEndpoint } {
  const ca = new NvsBlobStore(TLS_DOMAIN, NVS_BLOB_BYTES_MAX).get(CA_NAME);
  if (ca === undefined) log.error("tls: no pinned CA provisioned, the terminal cannot go online", { nvs: `${TLS_DOMAIN}/${CA_NAME}` });
  return {
    transport: ca === undefined ? new UnprovisionedTransport(clock) : new TlsTransport({ clock }),
    endpoint: { host: settings.host, port: settings.port, tls: { ca: ca === undefined ? [] : [ca], serverName: settings.serverName } },
  };
}
