/**
 * Jest runs every suite in Node: the core suites (which also run in XS) and the
 * Node-only ones. ESM throughout, as the tools are ESM (import.meta, top-level await).
 */
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/tests/fixtures/"],
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } }],
  },
  moduleFileExtensions: ["ts", "js", "mjs", "json"],
  testTimeout: 120000,
};
