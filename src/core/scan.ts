import semver from 'semver';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from './paths.js';
import { nodePackages, readBuilds, sourceHash, type BuildRecord } from './builds.js';
import { UserError } from './errors.js';

/*
 * Known-vulnerable dependencies, offline: `kube-seclab scan` and the `scan`/`sbom` checks match the
 * npm packages an app carries (its node_modules, or the lab's build record of an image: the
 * node_modules its build context carried) against a dated advisory snapshot shipped with the lab
 * (scenarios/advisories/npm.json). And `kube-seclab sbom`: a CycloneDX SBOM of an app folder.
 */

export const SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severitySchema = z.enum(SEVERITIES);

const advisorySchema = z.object({
  id: z.string(),
  aliases: z.array(z.string()).default([]),
  package: z.string(),
  /** npm-style range: comparator sets (`>=1.0.0 <1.2.6`) joined by `||`. */
  vulnerable: z.string(),
  fixed: z.string().optional(),
  severity: severitySchema,
  summary: z.string(),
  url: z.string().url(),
});
export type Advisory = z.infer<typeof advisorySchema>;
const advisoryFileSchema = z.object({
  format: z.literal('kube-seclab-advisories'),
  version: z.literal(1),
  ecosystem: z.literal('npm'),
  source: z.string(),
  updated: z.string(),
  note: z.string().optional(),
  advisories: z.array(advisorySchema),
});
export type AdvisoryDb = z.infer<typeof advisoryFileSchema>;

export const ADVISORIES_FILE = join(packageRoot, 'scenarios', 'advisories', 'npm.json');

let cached: AdvisoryDb | undefined;
/** The lab's advisory snapshot (read once). */
export async function loadAdvisories(file = ADVISORIES_FILE): Promise<AdvisoryDb> {
  if (cached && file === ADVISORIES_FILE) return cached;
  const parsed = advisoryFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw new UserError(`${file}: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  if (file === ADVISORIES_FILE) cached = parsed.data;
  return parsed.data;
}

/** Compare two versions (semver order: a pre-release sorts before its release; what is not semver, as text). */
export function compareVersions(a: string, b: string): number {
  const x = semver.coerce(a, { includePrerelease: true });
  const y = semver.coerce(b, { includePrerelease: true });
  if (!x || !y) return a.localeCompare(b);
  return semver.compare(semver.valid(a) ?? x, semver.valid(b) ?? y);
}

/** Whether a version is in an npm-style range (`<0.2.4 || >=1.0.0 <1.2.6`), as npm itself reads it. */
export function inRange(version: string, range: string): boolean {
  const v = semver.valid(version) ?? semver.coerce(version, { includePrerelease: true });
  return !!v && semver.satisfies(v, range, { includePrerelease: true });
}

export interface Finding {
  name: string;
  version: string;
  path: string;
  advisory: Advisory;
}
export interface ScanPackage {
  name: string;
  version: string;
  path: string;
}

/** Every advisory that affects a package of the list, most severe first. */
export function matchAdvisories(packages: ScanPackage[], advisories: Advisory[]): Finding[] {
  const out: Finding[] = [];
  for (const p of packages) for (const a of advisories) if (a.package === p.name && inRange(p.version, a.vulnerable)) out.push({ ...p, advisory: a });
  return out.sort((a, b) => SEVERITIES.indexOf(b.advisory.severity) - SEVERITIES.indexOf(a.advisory.severity) || a.name.localeCompare(b.name));
}

export const atOrAbove = (s: Severity, min: Severity) => SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(min);

/** One line per finding, for check messages and the CLI. */
export function describeFinding(f: Finding): string {
  const a = f.advisory;
  return `${f.name} ${f.version} (${f.path}): ${a.severity} ${a.id}${a.aliases.length ? ` / ${a.aliases.join(', ')}` : ''} — ${a.summary}${a.fixed ? `; fixed in ${a.fixed}` : ''}`;
}

/** What a scan looked at, and what it found. */
export interface ScanReport {
  target: string;
  /** How the package list was obtained (said plainly: the lab does not unpack image layers). */
  source: string;
  build?: BuildRecord;
  packages: ScanPackage[];
  findings: Finding[];
  advisories: { source: string; updated: string };
}

export async function scanPackages(target: string, source: string, packages: ScanPackage[], build?: BuildRecord): Promise<ScanReport> {
  const db = await loadAdvisories();
  return { target, source, build, packages, findings: matchAdvisories(packages, db.advisories), advisories: { source: db.source, updated: db.updated } };
}

/** Scan a folder: the npm packages in its node_modules. */
export async function scanFolder(dir: string): Promise<ScanReport> {
  if (!existsSync(dir)) throw new UserError(`no folder ${dir}`, '`kube-seclab status` shows the workspace; scan an app folder the lesson handed you');
  return scanPackages(dir, `the node_modules folders under ${dir}`, await nodePackages(dir));
}

/** Scan an image the lab built, by its build record (the node_modules its build context carried). */
export function scanBuild(build: BuildRecord): Promise<ScanReport> {
  return scanPackages(
    build.image,
    `the lab's build record of this image (the node_modules of its build context, ${build.path}, built ${build.builtAt.replace('T', ' ').slice(0, 19)} UTC)`,
    build.packages,
    build,
  );
}

// ---------------------------------------------------------------------------------------------
// CycloneDX SBOM

/** Where a published SBOM (a ConfigMap) says which image it describes (a label cannot hold `sha256:<64 hex>`). */
export const SBOM_DIGEST_ANNOTATION = 'kube-seclab.dev/image-digest';
/** The ConfigMap key a published SBOM sits under. */
export const SBOM_KEY = 'sbom.cdx.json';

/** The CycloneDX spec version `kube-seclab sbom` writes. */
export const CYCLONEDX_SPEC = '1.5';

const purl = (name: string, version: string) => `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;

/** sha512 in an npm lockfile (`sha512-<base64>`) as a CycloneDX hash (hex). */
function lockHash(integrity: unknown): { alg: string; content: string }[] | undefined {
  const m = typeof integrity === 'string' ? /^sha512-([A-Za-z0-9+/=]+)$/.exec(integrity.split(/\s+/)[0]) : null;
  return m ? [{ alg: 'SHA-512', content: Buffer.from(m[1], 'base64').toString('hex') }] : undefined;
}

/**
 * A CycloneDX 1.5 SBOM (JSON) of an npm app folder: the app (package.json) and every package its
 * node_modules holds — what `docker build` copies into the image — with the lockfile's integrity
 * hash where package-lock.json records it. `image`: the image these sources were built as.
 */
export async function generateSbom(dir: string, o: { image?: string; toolVersion?: string; now?: Date } = {}): Promise<Record<string, unknown>> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as {
    name?: string;
    version?: string;
    license?: string;
    dependencies?: Record<string, string>;
  };
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8').catch(() => '{}')) as {
    packages?: Record<string, { version?: string; integrity?: string; resolved?: string; license?: string }>;
  };
  const packages = await nodePackages(dir);
  const name = pkg.name ?? dir.split(/[/\\]/).pop()!;
  const version = pkg.version ?? '0.0.0';
  const appRef = purl(name, version);
  const components = [];
  for (const p of packages) {
    const meta = JSON.parse(await readFile(join(dir, p.path, 'package.json'), 'utf8')) as {
      license?: string;
      description?: string;
      dependencies?: Record<string, string>;
    };
    // the lockfile's integrity and source only if it records this very version (a hand-edited node_modules may differ)
    const entry = lock.packages?.[p.path];
    const locked = entry?.version === p.version ? entry : undefined;
    components.push({
      type: 'library',
      'bom-ref': `${purl(p.name, p.version)}#${p.path}`,
      name: p.name,
      version: p.version,
      purl: purl(p.name, p.version),
      ...(meta.description ? { description: meta.description } : {}),
      ...(meta.license ? { licenses: [{ license: /^[A-Za-z0-9.+-]+$/.test(meta.license) ? { id: meta.license } : { name: meta.license } }] } : {}),
      ...(lockHash(locked?.integrity) ? { hashes: lockHash(locked?.integrity) } : {}),
      ...(locked?.resolved ? { externalReferences: [{ type: 'distribution', url: locked.resolved }] } : {}),
      properties: [{ name: 'cdx:npm:package:path', value: p.path }],
    });
  }
  const top = packages.filter((p) => p.path === `node_modules/${p.name}`);
  return {
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC,
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: (o.now ?? new Date()).toISOString(),
      tools: { components: [{ type: 'application', name: 'kube-seclab', version: o.toolVersion ?? '0' }] },
      component: { type: 'application', 'bom-ref': appRef, name, version, purl: appRef },
      ...(o.image ? { properties: [{ name: 'kube-seclab:image', value: o.image }] } : {}),
    },
    components,
    dependencies: [
      {
        ref: appRef,
        dependsOn: Object.keys(pkg.dependencies ?? {}).flatMap((d) => top.filter((p) => p.name === d).map((p) => `${purl(p.name, p.version)}#${p.path}`)),
      },
    ],
  };
}

/** The lab's build of an app folder's sources as they are now, on this engine (the image an SBOM of them describes). */
export async function buildOfSources(workspace: string, dir: string, engine: string): Promise<BuildRecord | undefined> {
  const hash = await sourceHash(dir);
  return (await readBuilds(workspace)).filter((b) => b.sourceHash === hash && b.engine === engine).pop();
}

export interface SbomComponent {
  name: string;
  version: string;
}

/**
 * Read a CycloneDX JSON document: its components (nested ones too), by npm name
 * (`group/name`, or the name a `pkg:npm/…` purl gives) and version — or why it is not one.
 */
export function parseCycloneDx(text: string): { components: SbomComponent[]; specVersion: string } | { error: string } {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { error: `it is not JSON (${(e as Error).message.split('\n')[0]})` };
  }
  if (!doc || typeof doc !== 'object' || doc.bomFormat !== 'CycloneDX') return { error: 'it is not a CycloneDX document (no "bomFormat": "CycloneDX")' };
  if (typeof doc.specVersion !== 'string' || !/^1\.\d+$/.test(doc.specVersion)) return { error: 'it has no CycloneDX "specVersion" (1.x)' };
  if (doc.components !== undefined && !Array.isArray(doc.components)) return { error: '"components" is not a list' };
  const out: SbomComponent[] = [];
  const walk = (cs: any[]) => {
    for (const c of cs ?? []) {
      if (!c || typeof c !== 'object') continue;
      const fromPurl = typeof c.purl === 'string' ? /^pkg:npm\/(.+)@([^@?#]+)(?:[?#].*)?$/.exec(c.purl) : null;
      const name = fromPurl ? decodeURIComponent(fromPurl[1]) : c.group ? `${c.group}/${c.name}` : c.name;
      const version = fromPurl ? fromPurl[2] : c.version;
      if (typeof name === 'string' && typeof version === 'string') out.push({ name, version });
      if (Array.isArray(c.components)) walk(c.components);
    }
  };
  walk(doc.components ?? []);
  return { components: out, specVersion: doc.specVersion };
}

/**
 * Whether an SBOM describes an image's packages: every package the image carries is listed at its
 * version, and no other version of those packages is listed. Returns what differs (empty: it matches).
 */
export function sbomMismatches(components: SbomComponent[], packages: ScanPackage[]): string[] {
  const listed = new Map<string, Set<string>>();
  for (const c of components) listed.set(c.name, (listed.get(c.name) ?? new Set()).add(c.version));
  const has = new Map<string, Set<string>>();
  for (const p of packages) has.set(p.name, (has.get(p.name) ?? new Set()).add(p.version));
  const out: string[] = [];
  for (const [name, versions] of has) {
    for (const v of versions) if (!listed.get(name)?.has(v)) out.push(`the image carries ${name} ${v}, which the SBOM does not list`);
    for (const v of listed.get(name) ?? []) if (!versions.has(v)) out.push(`the SBOM lists ${name} ${v}, but the image carries ${[...versions].join(', ')}`);
  }
  return out;
}
