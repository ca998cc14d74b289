import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Globals an mcconfig device build does not have (shared/reference/moddable-sdk.md §7). */
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
    files: ["modules/**/*.ts"],
    rules: {
      "no-restricted-globals": ["error", ...DEVICE_MISSING_GLOBALS],
      "no-restricted-imports": [
        "error",
        {
          // Exact names, so that the core's own ../crypto folder is not mistaken for Node's crypto.
          paths: ["fs", "net", "tls", "crypto", "path", "os", "child_process", "http", "worker_threads"].map((name) => ({
            name,
            message: "No Node modules in the firmware core.",
          })),
          patterns: [{ group: ["node:*"], message: "No Node modules in the firmware core." }],
        },
      ],
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
    files: ["tools/**/*.ts", "hosts/sim/**/*.ts", "tests/node/**/*.ts", "*.js"],
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
);
