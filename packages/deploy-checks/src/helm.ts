/**
 * Runs the helm binary that deploy/helm-tool.sh builds (once, from the Go module proxy) against
 * the chart, and parses what it renders.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { chartDir, repoRoot } from "./artefacts.ts";

const run = promisify(execFile);

let helmPath: string | undefined;
/** Builds helm on first use on a fresh machine (minutes), then answers from the cache. */
export function helmBinary(): string {
  helmPath ??= execFileSync("bash", [join(repoRoot, "deploy/helm-tool.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return helmPath;
}

/** A Kubernetes object as helm renders it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field
  data?: any;
  [key: string]: unknown;
}

export interface RenderOptions {
  /** Files under helm/wharf/ci (names), applied in order. */
  ciFiles?: string[];
  /** Values layered on top, as YAML. */
  values?: object;
  kubeVersion?: string;
  release?: string;
  namespace?: string;
}

export const ciValueFiles = (): string[] =>
  readdirSync(join(chartDir, "ci"))
    .filter((f) => f.endsWith("-values.yaml"))
    .sort();

export interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

async function helm(args: string[], values?: object): Promise<HelmResult> {
  const dir = mkdtempSync(join(tmpdir(), "wharf-helm-"));
  try {
    const extra = values ? ["-f", join(dir, "values.yaml")] : [];
    if (values) writeFileSync(join(dir, "values.yaml"), stringify(values));
    const { stdout, stderr } = await run(helmBinary(), [...args, ...extra], { maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: e.stdout ?? "", stderr: e.stderr || e.message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const valueArgs = (options: RenderOptions) => (options.ciFiles ?? []).flatMap((f) => ["-f", join(chartDir, "ci", f)]);

/** `helm template`; resolves with its stdout, or with its error message when it refuses the values. */
export function template(options: RenderOptions = {}): Promise<HelmResult> {
  return helm(
    [
      "template",
      options.release ?? "demo",
      chartDir,
      "--namespace",
      options.namespace ?? "streaming",
      "--kube-version",
      options.kubeVersion ?? "1.31.0",
      ...valueArgs(options),
    ],
    options.values,
  );
}

/** Renders and parses every object; throws with helm's message when rendering fails. */
export async function render(options: RenderOptions = {}): Promise<Manifest[]> {
  const result = await template(options);
  if (!result.ok) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

export function lint(options: RenderOptions = {}): Promise<HelmResult> {
  return helm(["lint", "--strict", chartDir, ...valueArgs(options)], options.values);
}

/** The one object of `kind` (optionally whose name ends with `suffix`); fails loudly otherwise. */
export function one(manifests: Manifest[], kind: string, suffix = ""): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(suffix));
  if (found.length !== 1) throw new Error(`expected one ${kind} named *${suffix}, found ${found.length}`);
  return found[0] as Manifest;
}

export const kinds = (manifests: Manifest[]) => manifests.map((m) => m.kind).sort();
