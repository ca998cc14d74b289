/**
 * `npx tsx tests/device/bundle.ts [SUITES…]`: bundles the core suites (all of
 * tests/core by default) behind tests/device/prelude.ts and tests/xs/runtime.ts
 * into var/device/suites.js, the `xspos/device/suites` module of the on-device
 * test app. esbuild resolves the suites' imports (core modules, fast-check) the
 * same way the xsnap harness does, so the device runs exactly what `make test`
 * runs in XS.
 */
import { bundleForXs } from "../../tools/xs/bundle";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEVICE_SUITES_OUT = path.join(REPO_ROOT, "var/device/suites.js");
const ENTRY_IMPORTS_FIRST = ["tests/device/prelude.ts", "tests/xs/runtime.ts"];
const SUITES_MAX = 500;

export function findCoreSuites(dir: string = path.join(REPO_ROOT, "tests/core")): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findCoreSuites(full));
    else if (entry.name.endsWith(".test.ts")) found.push(full);
  }
  return found.sort();
}

/** One ES module: prelude, runtime, then each suite in order (ES module evaluation order is import order). */
export async function bundleDeviceSuites(suites: readonly string[]): Promise<string> {
  if (suites.length === 0 || suites.length > SUITES_MAX)
    throw new Error(`device bundle: expected 1 to ${SUITES_MAX} suites, got ${suites.length}`);
  const imports = [...ENTRY_IMPORTS_FIRST.map((f) => path.join(REPO_ROOT, f)), ...suites.map((f) => path.resolve(f))];
  const result = await bundleForXs({
    contents: imports.map((f) => `import ${JSON.stringify(f)};`).join("\n") + "\n",
    resolveDir: REPO_ROOT,
    sourcefile: "device-suites-entry.ts",
    format: "esm",
  });
  return result;
}

async function main(args: readonly string[]): Promise<number> {
  const suites = args.length > 0 ? args.map((f) => path.resolve(f)) : findCoreSuites();
  const code = await bundleDeviceSuites(suites);
  fs.mkdirSync(path.dirname(DEVICE_SUITES_OUT), { recursive: true });
  fs.writeFileSync(DEVICE_SUITES_OUT, code);
  console.log(`${path.relative(REPO_ROOT, DEVICE_SUITES_OUT)}: ${suites.length} suites, ${code.length} bytes`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
