/**
 * `tools/checks/manifest-check.ts [MANIFEST…]` (make manifest-check): the
 * device build's promises that can be checked without the Moddable SDK.
 *
 * 1. Every module path in the manifests exists (SDK `$(…)` paths and build
 *    outputs under var/ excepted).
 * 2. Nothing under modules/ imports a Node module.
 * 2a. No preload wildcard covers TypeScript: mcconfig 8.2.3 (filterPreload)
 *    matches a wildcard against .js modules only, so "xspos/modules/x/*"
 *    silently preloads none of a room's .ts files; each is listed by name.
 *    A room (a "…/*" module entry) is preloaded whole or not at all, so a file
 *    added to a preloaded room without its preload line is caught.
 * 3. Every preloaded module keeps no mutable module-level state, since XS
 *    freezes what preload built (docs/device.md "Preload and freeze rules"): no
 *    top-level let/var, no top-level object/array literal (or new
 *    Map/Set/Array/Object) that is not Object.freeze'd, and no assignment,
 *    anywhere in the file, to a module-level binding.
 * 3a. No RegExp built at module level (a constant, or inside a frozen table):
 *    a /g or /y one has its lastIndex written, and XS 8.2.3 corrupts its heap
 *    running any preloaded RegExp: `fxAllocateRegExpData` (xs/sources/xsre.c)
 *    lacks an `else`, so each exec takes a chunk, then overwrites the pointer
 *    with a malloc'd block that leaks and that the collector treats as a chunk
 *    (the Linux terminal crashed in fx_RegExp_prototype_exec; valgrind showed
 *    fxMarkValue reading before the malloc'd block). A literal inside a
 *    function is compiled when it runs, into chunks, and is safe.
 *
 * Exit 0 when clean, 1 with one line per violation.
 */
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SOURCE_EXTENSIONS = Object.freeze([".ts", ".js", ".c", ".json"]);
const SCRIPT_EXTENSIONS = Object.freeze([".ts", ".js"]);
const NODE_MODULES = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const MUTABLE_CONSTRUCTORS = new Set(["Map", "Set", "WeakMap", "WeakSet", "Array", "Object"]);

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly rule: "missing-path" | "preload-wildcard" | "partly-preloaded" | "node-import" | "mutable-state";
  readonly message: string;
}

interface ManifestSection {
  readonly modules?: Record<string, string | string[]>;
  readonly preload?: string | string[];
  readonly platforms?: Record<string, ManifestSection>;
}

interface ModuleEntry {
  readonly specifier: string;
  /** Absolute path without extension, or a directory + "/*". */
  readonly target: string;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function sections(manifest: ManifestSection): ManifestSection[] {
  return [manifest, ...Object.values(manifest.platforms ?? {})];
}

function moduleEntries(manifestPath: string, manifest: ManifestSection): ModuleEntry[] {
  const dir = path.dirname(manifestPath);
  const entries: ModuleEntry[] = [];
  for (const section of sections(manifest)) {
    for (const [specifier, targets] of Object.entries(section.modules ?? {})) {
      if (specifier === "~") continue;
      for (const target of list(targets)) {
        if (target.startsWith("$(")) continue;
        entries.push({ specifier, target: path.resolve(dir, target) });
      }
    }
  }
  return entries;
}

/** The files one manifest entry brings in (by the mcconfig rules: a path without extension matches every extension). */
function entryFiles(entry: ModuleEntry): string[] {
  if (entry.target.endsWith("/*")) {
    const dir = entry.target.slice(0, -2);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && SOURCE_EXTENSIONS.some((ext) => e.name.endsWith(ext)))
      .map((e) => path.join(dir, e.name))
      .sort();
  }
  return SOURCE_EXTENSIONS.map((ext) => entry.target + ext).filter((file) => fs.existsSync(file));
}

function isBuildOutput(target: string, root: string): boolean {
  return path.relative(root, target).split(path.sep)[0] === "var";
}

function matchesPreload(specifier: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith("/*") ? specifier.startsWith(p.slice(0, -1)) : specifier === p));
}

/** Specifier of one file from its manifest entry ("xspos/x/*" + "y.ts" → "xspos/x/y"). */
function specifierOf(entry: ModuleEntry, file: string): string {
  if (!entry.specifier.endsWith("*")) return entry.specifier;
  return entry.specifier.slice(0, -1) + path.basename(file).replace(/\.(d\.ts|ts|js|c|json)$/, "");
}

export function checkManifestPaths(manifestPath: string, root: string = REPO_ROOT): { findings: Finding[]; preloaded: string[] } {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as ManifestSection;
  const findings: Finding[] = [];
  const preload = sections(manifest).flatMap((s) => list(s.preload));
  const preloaded = new Set<string>();
  for (const entry of moduleEntries(manifestPath, manifest)) {
    const files = entryFiles(entry);
    if (files.length === 0 && !isBuildOutput(entry.target, root)) {
      findings.push({
        file: path.relative(root, manifestPath),
        line: 0,
        rule: "missing-path",
        message: `module "${entry.specifier}" maps to ${path.relative(root, entry.target)}, which matches no file`,
      });
    }
    const scripts = files.filter((file) => SCRIPT_EXTENSIONS.some((ext) => file.endsWith(ext)) && !file.endsWith(".d.ts"));
    const roomPreloaded = scripts.filter((file) => matchesPreload(specifierOf(entry, file), preload));
    for (const file of roomPreloaded) preloaded.add(file);
    for (const pattern of preload.filter((p) => p.endsWith("*"))) {
      const typescript = scripts.filter((file) => file.endsWith(".ts") && matchesPreload(specifierOf(entry, file), [pattern]));
      if (typescript.length === 0) continue;
      findings.push({
        file: path.relative(root, manifestPath),
        line: 0,
        rule: "preload-wildcard",
        message:
          `preload "${pattern}" covers ${typescript.length} TypeScript modules, which mcconfig's preload wildcards skip (.js only):` +
          " list each module",
      });
    }
    if (entry.specifier.endsWith("/*") && roomPreloaded.length > 0 && roomPreloaded.length < scripts.length) {
      const missing = scripts.filter((file) => !roomPreloaded.includes(file)).map((file) => specifierOf(entry, file));
      findings.push({
        file: path.relative(root, manifestPath),
        line: 0,
        rule: "partly-preloaded",
        message: `room "${entry.specifier}" is preloaded except ${missing.join(", ")}: add them to preload`,
      });
    }
  }
  return { findings, preloaded: [...preloaded].sort() };
}

function lineOf(source: ts.SourceFile, node: ts.Node): number {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

function listScripts(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listScripts(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) found.push(full);
  }
  return found.sort();
}

/** Import, export-from, dynamic import() and require() of a Node built-in, in every script under `dir`. */
export function checkNodeImports(dir: string, root: string = REPO_ROOT): Finding[] {
  const findings: Finding[] = [];
  for (const file of listScripts(dir)) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      let specifier: ts.Expression | undefined;
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined)
        specifier = node.moduleSpecifier;
      else if (
        ts.isCallExpression(node) &&
        (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))
      )
        specifier = node.arguments[0];
      if (specifier !== undefined && ts.isStringLiteralLike(specifier) && NODE_MODULES.has(specifier.text)) {
        findings.push({
          file: path.relative(root, file),
          line: lineOf(source, node),
          rule: "node-import",
          message: `imports the Node module "${specifier.text}"`,
        });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return findings;
}

function isObjectFreezeCall(node: ts.Node): node is ts.CallExpression {
  return (
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    ts.isIdentifier(node.expression.expression) &&
    node.expression.expression.text === "Object" &&
    node.expression.name.text === "freeze"
  );
}

/** RegExp literals a module-level initializer evaluates at load time (not those inside functions it defines). */
function moduleLevelRegExps(node: ts.Node): ts.Node[] {
  if (ts.isRegularExpressionLiteral(node)) return [node];
  if (ts.isFunctionLike(node) || ts.isClassLike(node)) return [];
  const found: ts.Node[] = [];
  node.forEachChild((child) => void found.push(...moduleLevelRegExps(child)));
  return found;
}

function unwrap(node: ts.Expression): ts.Expression {
  let current = node;
  while (
    ts.isParenthesizedExpression(current) ||
    ts.isAsExpression(current) ||
    ts.isSatisfiesExpression(current) ||
    ts.isTypeAssertionExpression(current)
  )
    current = current.expression;
  return current;
}

/**
 * Mutable objects a module-level initializer creates: an object or array
 * literal, or new Map/Set/Array/Object, that is not the argument of
 * Object.freeze. A frozen table's nested literals are accepted (the rule is
 * the project's "tables are Object.freeze'd"); Object.freeze(x, true), XS's
 * deep freeze, covers them on the device.
 */
function mutableObjects(node: ts.Expression, found: ts.Node[]): void {
  const expression = unwrap(node);
  if (isObjectFreezeCall(expression)) return;
  if (ts.isArrayLiteralExpression(expression) || ts.isObjectLiteralExpression(expression)) {
    found.push(expression);
    return;
  }
  if (ts.isNewExpression(expression) && ts.isIdentifier(expression.expression) && MUTABLE_CONSTRUCTORS.has(expression.expression.text)) {
    found.push(expression);
    return;
  }
  if (ts.isConditionalExpression(expression)) {
    mutableObjects(expression.whenTrue, found);
    mutableObjects(expression.whenFalse, found);
  }
}

function isModuleLevel(declaration: ts.Declaration, source: ts.SourceFile): boolean {
  let node: ts.Node = declaration;
  if (ts.isVariableDeclaration(node)) node = node.parent.parent; // VariableDeclarationList → VariableStatement
  return node.parent === source;
}

const ASSIGNMENT_OPERATORS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.PercentEqualsToken,
  ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.BarEqualsToken,
  ts.SyntaxKind.CaretEqualsToken,
  ts.SyntaxKind.LessThanLessThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken,
  ts.SyntaxKind.AsteriskAsteriskEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
]);

/** The identifiers an assignment or ++/-- writes, including inside destructuring targets. */
function writtenIdentifiers(node: ts.Node): ts.Identifier[] {
  if (ts.isBinaryExpression(node) && ASSIGNMENT_OPERATORS.has(node.operatorToken.kind)) return targetIdentifiers(node.left);
  if (
    (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
    (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
  )
    return targetIdentifiers(node.operand);
  return [];
}

function targetIdentifiers(target: ts.Expression): ts.Identifier[] {
  const inner = unwrap(target);
  if (ts.isIdentifier(inner)) return [inner];
  if (ts.isArrayLiteralExpression(inner))
    return inner.elements.flatMap((e) => (ts.isSpreadElement(e) ? targetIdentifiers(e.expression) : targetIdentifiers(e)));
  if (ts.isObjectLiteralExpression(inner))
    return inner.properties.flatMap((p) =>
      ts.isShorthandPropertyAssignment(p)
        ? [p.name]
        : ts.isPropertyAssignment(p)
          ? targetIdentifiers(p.initializer)
          : ts.isSpreadAssignment(p)
            ? targetIdentifiers(p.expression)
            : [],
    );
  return [];
}

export function checkModuleState(files: readonly string[], root: string = REPO_ROOT): Finding[] {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    allowJs: true,
    noEmit: true,
    noResolve: true,
  });
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (source === undefined) continue;
    const report = (node: ts.Node, message: string): void => {
      findings.push({ file: path.relative(root, file), line: lineOf(source, node), rule: "mutable-state", message });
    };
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      const list = statement.declarationList;
      if ((list.flags & ts.NodeFlags.Const) === 0) {
        report(statement, `module-level ${list.flags & ts.NodeFlags.Let ? "let" : "var"}: preload freezes modules, use const`);
        continue;
      }
      for (const declaration of list.declarations) {
        if (declaration.initializer === undefined) continue;
        for (const literal of moduleLevelRegExps(declaration.initializer))
          report(
            literal,
            `module-level ${declaration.name.getText(source)} holds a RegExp: preloaded RegExps corrupt the XS 8.2.3 heap when run; write the literal inside the function that uses it`,
          );
        const found: ts.Node[] = [];
        mutableObjects(declaration.initializer, found);
        for (const node of found)
          report(node, `module-level ${declaration.name.getText(source)} holds a mutable object: wrap it in Object.freeze`);
      }
    }
    const visit = (node: ts.Node): void => {
      for (const identifier of writtenIdentifiers(node)) {
        const symbol = checker.getSymbolAtLocation(identifier);
        const declaration = symbol?.declarations?.[0];
        if (declaration !== undefined && declaration.getSourceFile() === source && isModuleLevel(declaration, source))
          report(identifier, `assigns the module-level binding ${identifier.text}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return findings;
}

export function checkAll(manifests: readonly string[], coreDir: string, root: string = REPO_ROOT): Finding[] {
  const findings: Finding[] = [];
  const preloaded = new Set<string>();
  for (const manifest of manifests) {
    const result = checkManifestPaths(manifest, root);
    findings.push(...result.findings);
    for (const file of result.preloaded) preloaded.add(file);
  }
  findings.push(...checkNodeImports(coreDir, root));
  findings.push(...checkModuleState([...preloaded].sort(), root));
  return findings;
}

function main(args: readonly string[]): number {
  const manifests =
    args.length > 0
      ? args.map((a) => path.resolve(a))
      : [path.join(REPO_ROOT, "manifest.json"), path.join(REPO_ROOT, "tests/device/manifest.json")];
  const findings = checkAll(manifests, path.join(REPO_ROOT, "modules"));
  for (const f of findings) console.log(`${f.file}:${f.line}: ${f.rule}: ${f.message}`);
  console.log(`manifest-check: ${manifests.length} manifests, ${findings.length} violations`);
  return findings.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
