import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { packageRoot } from '../../src/core/paths.js';
import { nodePackages } from '../../src/core/builds.js';
import { compareVersions, inRange, loadAdvisories, matchAdvisories, atOrAbove, generateSbom, parseCycloneDx, sbomMismatches } from '../../src/core/scan.js';
import { sbomKey } from '../../src/core/checks/sbom.js';

const catalog = join(packageRoot, 'scenarios', 'scan-and-patch', 'app', 'catalog-search');

describe('versions and ranges', () => {
  it('compares x.y.z, pre-releases before their release', () => {
    expect(compareVersions('1.2.5', '1.2.6')).toBeLessThan(0);
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('2.0.0-rc.1', '2.0.0')).toBeLessThan(0);
    expect(compareVersions('1.2.8', '1.2.8')).toBe(0);
  });
  it('matches npm-style comparator sets joined by ||', () => {
    const r = '<0.2.4 || >=1.0.0 <1.2.6';
    expect(inRange('1.2.5', r)).toBe(true);
    expect(inRange('0.2.3', r)).toBe(true);
    expect(inRange('1.2.6', r)).toBe(false);
    expect(inRange('1.2.8', r)).toBe(false);
    expect(inRange('0.2.4', r)).toBe(false);
    expect(inRange('not-a-version', r)).toBe(false);
    expect(inRange('2.2.1', '<1.0.2 || >=2.0.0 <2.2.2')).toBe(true);
    expect(inRange('2.2.3', '<1.0.2 || >=2.0.0 <2.2.2')).toBe(false);
  });
});

describe('the advisory snapshot', () => {
  it('loads, and flags exactly the vulnerable versions the lessons use', async () => {
    const db = await loadAdvisories();
    expect(db.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const pkgs = [
      { name: 'minimist', version: '1.2.5', path: 'node_modules/minimist' },
      { name: 'minimist', version: '1.2.8', path: 'node_modules/x/node_modules/minimist' },
      { name: 'json5', version: '2.2.1', path: 'node_modules/json5' },
      { name: 'json5', version: '2.2.3', path: 'node_modules/y/node_modules/json5' },
    ];
    const f = matchAdvisories(pkgs, db.advisories);
    expect(f.map((x) => `${x.name}@${x.version} ${x.advisory.id} ${x.advisory.severity}`)).toEqual([
      'minimist@1.2.5 GHSA-xvch-5gv4-984h critical',
      'json5@2.2.1 GHSA-9c47-m6qq-7p4h high',
    ]);
    expect(atOrAbove('critical', 'high')).toBe(true);
    expect(atOrAbove('moderate', 'high')).toBe(false);
  });
  it('scans the scenario app folder: minimist 1.2.5 vendored', async () => {
    expect(await nodePackages(catalog)).toEqual([{ name: 'minimist', version: '1.2.5', path: 'node_modules/minimist' }]);
  });
});

describe('CycloneDX', () => {
  it('generates an SBOM of an app folder that parses back to its packages', async () => {
    const doc = await generateSbom(catalog, { image: 'registry.kube-seclab.local/catalog-search@sha256:' + 'a'.repeat(64), now: new Date(0) });
    expect(doc).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', metadata: { component: { name: 'catalog-search', version: '1.0.0' } } });
    const c = (doc.components as any[])[0];
    expect(c).toMatchObject({ name: 'minimist', version: '1.2.5', purl: 'pkg:npm/minimist@1.2.5' });
    expect(c.hashes[0].alg).toBe('SHA-512');
    const parsed = parseCycloneDx(JSON.stringify(doc));
    expect(parsed).toEqual({ specVersion: '1.5', components: [{ name: 'minimist', version: '1.2.5' }] });
  });
  it('reads what other tools write: groups, purls, nested components', () => {
    const text = JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [
        { type: 'library', group: '@scope', name: 'pkg', version: '1.0.0' },
        {
          type: 'library',
          name: 'ignored-name',
          version: '9',
          purl: 'pkg:npm/%40cyclonedx/cyclonedx-npm@4.0.0?vcs_url=x',
          components: [{ name: 'json5', version: '2.2.3' }],
        },
      ],
    });
    expect(parseCycloneDx(text)).toEqual({
      specVersion: '1.6',
      components: [
        { name: '@scope/pkg', version: '1.0.0' },
        { name: '@cyclonedx/cyclonedx-npm', version: '4.0.0' },
        { name: 'json5', version: '2.2.3' },
      ],
    });
  });
  it('says why a document is not CycloneDX', () => {
    expect(parseCycloneDx('{')).toMatchObject({ error: expect.stringMatching(/not JSON/) });
    expect(parseCycloneDx('{"spdxVersion":"SPDX-2.3"}')).toMatchObject({ error: expect.stringMatching(/bomFormat/) });
    expect(parseCycloneDx('{"bomFormat":"CycloneDX"}')).toMatchObject({ error: expect.stringMatching(/specVersion/) });
  });
  it('compares an SBOM with the packages an image carries', () => {
    const image = [{ name: 'json5', version: '2.2.3', path: 'node_modules/json5' }];
    expect(
      sbomMismatches(
        [
          { name: 'json5', version: '2.2.3' },
          { name: 'dev-only', version: '1.0.0' },
        ],
        image,
      ),
    ).toEqual([]);
    expect(sbomMismatches([{ name: 'json5', version: '2.2.1' }], image)).toEqual([
      'the image carries json5 2.2.3, which the SBOM does not list',
      'the SBOM lists json5 2.2.1, but the image carries 2.2.3',
    ]);
    expect(sbomMismatches([], image)).toHaveLength(1);
  });
  it('finds the SBOM in a ConfigMap', () => {
    expect(sbomKey({ 'sbom.cdx.json': '{}', other: '' })).toEqual({ key: 'sbom.cdx.json' });
    expect(sbomKey({ 'bom.json': '{}' })).toEqual({ key: 'bom.json' });
    expect(sbomKey({ a: '', b: '' })).toMatchObject({ error: expect.stringMatching(/sbom\.cdx\.json/) });
    expect(sbomKey({}, 'x')).toMatchObject({ error: expect.stringMatching(/no key x/) });
  });
});
