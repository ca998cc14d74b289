import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Globals an mcconfig device build does not have (docs/device.md "Preload and freeze rules"). */
const DEVICE_MISSING_GLOBALS = [
  "process",
  "Buffer",
  "require",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "console",
  "TextEncoder",
  "TextDecoder",
  "structuredClone",
  "fetch",
  "URL",
  "window",
  "document",
  "performance",
  "__dirname",
  "__filename",
].map((name) => ({ name, message: "The firmware core gets IO and time only through modules/platform." }));

/** Node modules are never imported by the firmware core; `rooms`: the core's own rooms a room must not reach into. */
function coreImports(rooms) {
  return {
    // Exact names, so that the core's own ../crypto folder is not mistaken for Node's crypto.
    paths: ["fs", "net", "tls", "crypto", "path", "os", "child_process", "http", "worker_threads"].map((name) => ({
      name,
      message: "No Node modules in the firmware core.",
    })),
    patterns: [{ group: ["node:*"], message: "No Node modules in the firmware core." }, ...rooms],
  };
}

/** Emulated hardware and test cards are for hosts and tests; the device image never carries them. */
const NO_EMULATORS = [
  {
    group: ["**/emulators/*", "**/card/test-cards"],
    message: "The firmware core runs on real hardware: emulators and test cards are tools'.",
  },
];
/** The engine speaks domain events; screens and slips are the UI's, the assembly is the terminal's. */
const TXN_ROOMS = [{ group: ["**/ui/*", "**/terminal/*"], message: "txn must not depend on ui or terminal: emit a domain event instead." }];
const UI_ROOMS = [{ group: ["**/terminal/*"], message: "ui must not depend on the terminal assembly." }];
/** Updates are driven by the terminal assembly: the updater knows slots, records and sources, never screens or the assembly. */
const UPDATE_ROOMS = [{ group: ["**/ui/*", "**/terminal/*"], message: "update must not depend on ui or terminal: the terminal wires it." }];
/** The rooms below the engine know nothing of transactions, screens or the assembly. */
const LOWER_ROOMS = [
  {
    group: ["**/txn/*", "**/ui/*", "**/terminal/*"],
    message: "A lower room (base, platform, crypto, iso8583, journal, link, tms, card) must not depend on txn, ui or terminal.",
  },
];

/** A committed .only runs one test and skips the rest; a committed .skip checks nothing: neither ever reaches main. */
const FOCUSED_OR_DISABLED = ["describe", "test", "it"].flatMap((object) =>
  ["only", "skip"].map((property) => ({
    object,
    property,
    message: `No committed ${object}.${property}: every test runs, in jest and in XS.`,
  })),
);
const FOCUSED_OR_DISABLED_GLOBALS = ["fit", "fdescribe", "xit", "xtest", "xdescribe"].map((name) => ({
  name,
  message: "No committed focused or disabled tests: every test runs, in jest and in XS.",
}));

export default tseslint.config(
  { ignores: ["node_modules/", "var/", "artifacts/", "tests/fixtures/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-constant-condition": ["error", { checkLoops: false }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["tests/**/*.ts"],
    rules: {
      "no-restricted-properties": ["error", ...FOCUSED_OR_DISABLED],
      "no-restricted-globals": ["error", ...FOCUSED_OR_DISABLED_GLOBALS],
    },
  },
  {
    files: ["modules/**/*.ts"],
    rules: {
      "no-restricted-globals": ["error", ...DEVICE_MISSING_GLOBALS],
      "no-restricted-imports": ["error", coreImports([])],
      // Moddable freezes preloaded modules: module-level state must be const (and frozen tables).
      "no-restricted-syntax": [
        "error",
        {
          selector: "Program > VariableDeclaration[kind!='const']",
          message: "No mutable module-level state in the firmware core (Moddable preload freezes modules).",
        },
        {
          selector: "Program > ExportNamedDeclaration > VariableDeclaration[kind!='const']",
          message: "No mutable module-level state in the firmware core.",
        },
      ],
    },
  },
  {
    files: ["tools/**/*.ts", "hosts/sim/**/*.ts", "tests/node/**/*.ts", "tests/mutation/*.mjs", "*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        URL: "readonly",
      },
    },
  },
  // Room boundaries (later entries override the core-wide rule above for their files).
  {
    files: ["modules/txn/**/*.ts"],
    rules: { "no-restricted-imports": ["error", coreImports([...NO_EMULATORS, ...TXN_ROOMS])] },
  },
  {
    files: ["modules/ui/**/*.ts"],
    rules: { "no-restricted-imports": ["error", coreImports([...NO_EMULATORS, ...UI_ROOMS])] },
  },
  {
    files: ["modules/update/**/*.ts", "modules/tms/**/*.ts"],
    rules: { "no-restricted-imports": ["error", coreImports([...NO_EMULATORS, ...UPDATE_ROOMS])] },
  },
  {
    files: ["modules/terminal/**/*.ts"],
    rules: { "no-restricted-imports": ["error", coreImports(NO_EMULATORS)] },
  },
  {
    files: ["modules/{base,platform,crypto,iso8583,journal,link,tms}/**/*.ts", "modules/card/!(test-cards).ts"],
    rules: { "no-restricted-imports": ["error", coreImports([...NO_EMULATORS, ...LOWER_ROOMS])] },
  },
);
