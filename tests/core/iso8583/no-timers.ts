const g = globalThis as Record<string, unknown>;
function unavailable(): never {
  throw new Error("no timers in XS");
}
if (g.setTimeout === undefined) g.setTimeout = unavailable;
if (g.clearTimeout === undefined) g.clearTimeout = unavailable;
