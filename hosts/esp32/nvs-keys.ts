/**
 * Where each terminal setting lives in NVS (namespace `xspos`): the device
 * reads them (preferences.ts), and so do the tools that provision a terminal
 * (tools/lin/native-terminal.ts). NVS keys are at most 15 characters.
 */
import type { TerminalParameters } from "../../modules/terminal/parameters";

export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly tid: string;
  readonly mid: string;
  readonly serverName: string;
}

export type DeviceParameters = ConnectionSettings & TerminalParameters;

export const PARAMETERS_DOMAIN = "xspos";

/** Setting name → NVS key; `revRetries` is the old key of reversalAttempts, still read. */
export const NVS_KEYS: Readonly<Record<keyof DeviceParameters, string>> = Object.freeze({
  host: "host",
  port: "port",
  tid: "tid",
  mid: "mid",
  serverName: "serverName",
  responseTimeoutMs: "respTimeoutMs",
  connectTimeoutMs: "connTimeoutMs",
  reversalAttempts: "revAttempts",
  blockSalesWhileReversalFailed: "blockOnRevFail",
  amountMaxMinor: "amountMax",
  batchCountMax: "batchCountMax",
  batchAmountMaxMinor: "batchAmountMax",
  hotlineText: "hotline",
});
export const NVS_OLD_KEYS: Readonly<Partial<Record<keyof DeviceParameters, string>>> = Object.freeze({ reversalAttempts: "revRetries" });
