/** Installs timer globals that refuse to run where the engine has none (XS). See fast-check.ts. */
const globals = globalThis as Record<string, unknown>;
function unavailable(): never {
  throw new Error("timers are not available in this engine");
}
if (globals.setTimeout === undefined) globals.setTimeout = unavailable;
if (globals.clearTimeout === undefined) globals.clearTimeout = unavailable;
