/**
 * The k6 scripts in loadtest/k6 cannot run here (no k6 binary), so this checks what can be checked
 * without it: each parses as an ES module, and each scenario script exports what k6 needs to run
 * it (a default function and `options`). Imports such as "k6/http" are only parsed, never resolved.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "./artefacts.ts";

const k6Dir = join(repoRoot, "loadtest/k6");
const scripts = readdirSync(k6Dir).filter((f) => f.endsWith(".js"));
/** Modules imported by the scripts, not scenarios of their own. */
const libraries = new Set(["lib.js"]);
const scratch = mkdtempSync(join(tmpdir(), "wharf-k6-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("k6 scripts", () => {
  it("mirror the harness's scenarios", () => {
    for (const name of ["healthz", "produce-1", "produce-100", "stream-v3", "consume", "forwarding", "scale-out"]) {
      expect(scripts).toContain(`${name}.js`);
    }
  });

  it.each(scripts)("%s parses as an ES module", (script) => {
    // node --check decides module or script by extension; .mjs makes `import`/`export` legal.
    const copy = join(scratch, script.replace(/\.js$/, ".mjs"));
    copyFileSync(join(k6Dir, script), copy);
    expect(() => execFileSync(process.execPath, ["--check", copy], { stdio: "pipe" })).not.toThrow();
  });

  it.each(scripts.filter((s) => !libraries.has(s)))("%s exports a default function and options", (script) => {
    const code = readFileSync(join(k6Dir, script), "utf8");
    expect(code).toMatch(/^export default function\b/m);
    expect(code).toMatch(/^export const options\s*=/m);
  });

  it.each(scripts.filter((s) => !libraries.has(s)))("%s imports only k6 modules and the local library", (script) => {
    const code = readFileSync(join(k6Dir, script), "utf8");
    const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1] as string);
    for (const source of imports)
      expect(source === "./lib.js" || source === "k6" || source.startsWith("k6/")).toBe(true);
  });
});
