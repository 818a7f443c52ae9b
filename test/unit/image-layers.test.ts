import { describe, it, expect } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  tarFiles,
  scanLayers,
  scanImageArchive,
  whiteouts,
  layerHistory,
  describeFinding,
  instruction,
  layerTar,
  type Needle,
} from '../../src/core/checks/imageLayers.js';
import { searchLayers, imageLayers } from '../../src/core/attacks/steps/imageLayers.js';
import { pod } from '../../src/core/attacks/steps/pod.js';
import { dockerignored, dockerfileSources, sourceTakes, contextLeaks } from '../../src/core/checks/buildContext.js';

/** A minimal tar writer (ustar headers; a pax header for long names), as image layers are. */
function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('        ', 148);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
function tar(files: { name: string; data?: string; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.from(f.data ?? '');
    if (f.name.length > 100) {
      const rec = ` path=${f.name}\n`;
      let len = rec.length + 2;
      len = rec.length + String(len).length;
      const paxData = Buffer.from(`${len}${rec}`);
      parts.push(header('PaxHeader', paxData.length, 'x'), pad(paxData));
    }
    parts.push(header(f.name, data.length, f.type ?? '0'), pad(data));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const LEAKED = 'gck_lab_9f4e2c71d08b5a36e1c7';
const needles: Needle[] = [{ describe: 'the leaked key', value: Buffer.from(LEAKED) }];

describe('image layers: tar entries, whiteouts, findings', () => {
  it('reads ustar entries and pax long names', async () => {
    const long = `app/${'x'.repeat(120)}/.env`;
    const t = tar([
      { name: 'app/', type: '5' },
      { name: 'app/server.js', data: 'hello' },
      { name: long, data: 'K=1' },
    ]);
    const es = await tarFiles(t);
    expect(es.map((e) => [e.path, e.type, e.data.length])).toEqual([
      ['app', 'Directory', 0],
      ['app/server.js', 'File', 5],
      [long, 'File', 3],
    ]);
    expect(es[1].data.toString()).toBe('hello');
  });

  it('names whiteouts and opaque folders', () => {
    expect(whiteouts(['app/.wh..env', '.wh.secret', 'etc/.wh..wh..opq', 'app/server.js'])).toEqual({ deleted: ['app/.env', 'secret'], opaque: ['etc'] });
  });

  it('finds a file that a later layer deleted (RUN rm), and says which layer still holds it', async () => {
    const layers = [
      { createdBy: '/bin/sh -c #(nop) ADD file:abc in / ', tar: tar([{ name: 'etc/os-release', data: 'debian' }]) },
      {
        createdBy: '/bin/sh -c #(nop) COPY dir:0f1e in . ',
        tar: tar([
          { name: 'app/.env', data: `GIFTCARD_API_KEY=${LEAKED}\n` },
          { name: 'app/server.js', data: 'x' },
        ]),
      },
      { createdBy: '/bin/sh -c rm -f .env', tar: tar([{ name: 'app/.wh..env' }]) },
    ];
    const f = await scanLayers(layers, needles);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ layer: 2, layers: 3, path: 'app/.env', hiddenBy: { layer: 3, how: 'deleted' } });
    expect(describeFinding(f[0])).toBe(
      'layer 2 of 3 (COPY a folder of the build context to .) holds /app/.env with the leaked key — deleted by layer 3 (RUN rm -f .env), so the container does not show it, but the earlier layer still ships it to everyone who pulls the image',
    );
  });

  it('an opaque folder or an overwrite also hides the file; a clean image has no findings', async () => {
    const base = { createdBy: 'COPY . . # buildkit', tar: tar([{ name: 'app/config/keys.json', data: `{"k":"${LEAKED}"}` }]) };
    const opaque = await scanLayers([base, { createdBy: 'RUN x', tar: tar([{ name: 'app/config/.wh..wh..opq' }]) }], needles);
    expect(opaque[0].hiddenBy).toMatchObject({ layer: 2, how: 'deleted' });
    const over = await scanLayers([base, { createdBy: 'RUN y', tar: tar([{ name: 'app/config/keys.json', data: '{}' }]) }], needles);
    expect(over[0].hiddenBy).toMatchObject({ layer: 2, how: 'replaced' });
    const still = await scanLayers([base], needles);
    expect(still[0].hiddenBy).toBeUndefined();
    expect(await scanLayers([{ createdBy: '', tar: tar([{ name: 'app/server.js', data: 'process.env.GIFTCARD_API_KEY' }]) }], needles)).toEqual([]);
  });

  it('gunzips compressed layers; maps history to layers past empty ones; shortens instructions', () => {
    const t = tar([{ name: 'a', data: 'b' }]);
    expect(layerTar(gzipSync(t)).equals(t)).toBe(true);
    expect(layerHistory({ history: [{ created_by: 'FROM' }, { created_by: 'ENV', empty_layer: true }, { created_by: 'COPY' }] }, 2)).toEqual(['FROM', 'COPY']);
    expect(layerHistory({ history: [{ created_by: 'COPY' }] }, 3)).toEqual(['', '', 'COPY']);
    expect(instruction('RUN /bin/sh -c rm -f .env # buildkit')).toBe('RUN /bin/sh -c rm -f .env');
    expect(instruction('/bin/sh -c rm -f .env')).toBe('RUN rm -f .env');
    expect(instruction('/bin/sh -c #(nop) COPY multi:2605e8 in ./ ')).toBe('COPY files to ./');
  });

  it('scans a docker save archive: manifest, config (ENV values) and every layer', async () => {
    const config = {
      history: [{ created_by: 'COPY . .' }, { created_by: 'RUN rm -f .env' }, { created_by: `ENV K=${LEAKED}`, empty_layer: true }],
      config: { Env: [`K=${LEAKED}`] },
    };
    const dir = await mkdtemp(join(tmpdir(), 'layers-test-'));
    try {
      const file = join(dir, 'image.tar');
      const raw = (name: string, b: Buffer) => [header(name, b.length), pad(b)];
      await writeFile(
        file,
        Buffer.concat([
          ...raw('manifest.json', Buffer.from(JSON.stringify([{ Config: 'cfg.json', Layers: ['l1/layer.tar', 'l2/layer.tar'] }]))),
          ...raw('cfg.json', Buffer.from(JSON.stringify(config))),
          ...raw('l1/layer.tar', tar([{ name: 'app/.env', data: LEAKED }])),
          ...raw('l2/layer.tar', gzipSync(tar([{ name: 'app/.wh..env' }]))),
          Buffer.alloc(1024),
        ]),
      );
      const f = await scanImageArchive(file, needles);
      expect(f.map((x) => [x.layer, x.path, x.hiddenBy?.layer])).toEqual([
        [0, '', undefined],
        [1, 'app/.env', 2],
      ]);
      expect(describeFinding(f[0])).toMatch(/the image's config holds the leaked key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('build context: .dockerignore, COPY sources, leaks', () => {
  it('matches .dockerignore rules as Docker does (folders, **, negation, last rule wins)', () => {
    expect(dockerignored('.env', '.env')).toBe(true);
    expect(dockerignored('.env', 'config/.env')).toBe(false);
    expect(dockerignored('**/.env', 'config/.env')).toBe(true);
    expect(dockerignored('.env*\n!.env.example', '.env.example')).toBe(false);
    expect(dockerignored('.env*\n!.env.example', '.env.local')).toBe(true);
    expect(dockerignored('secrets', 'secrets/a/b.txt')).toBe(true);
    expect(dockerignored('# .env\n/.env/', '.env')).toBe(true);
    expect(dockerignored('*.js', 'server.js')).toBe(true);
    expect(dockerignored('*.js', 'lib/x.js')).toBe(false);
    expect(sourceTakes('a/[!b]?', 'a/cd')).toBe(true);
  });

  it('reads COPY and ADD sources (flags, JSON form, continuations), not --from or URLs', () => {
    const df =
      'FROM node:20 AS build\nWORKDIR /app\nCOPY --chown=node:node package.json \\\n  server.js ./\nCOPY [".", "/src"]\nADD https://example.com/x.tgz /tmp/\nFROM node:20\nCOPY --from=build /app /app\n# COPY .env .\n';
    expect(dockerfileSources(df)).toEqual([
      { line: 3, instruction: 'COPY --chown=node:node package.json server.js ./', sources: ['package.json', 'server.js'] },
      { line: 5, instruction: 'COPY [".", "/src"]', sources: ['.'] },
    ]);
    expect(sourceTakes('.', '.env')).toBe(true);
    expect(sourceTakes('config', 'config/.env')).toBe(true);
    expect(sourceTakes('*.json', 'package.json')).toBe(true);
    expect(sourceTakes('server.js', '.env')).toBe(false);
  });

  it('a secret file counts only when the Dockerfile copies it and .dockerignore lets it through; the Dockerfile itself always counts', () => {
    const env = { path: '.env', data: Buffer.from(`GIFTCARD_API_KEY=${LEAKED}\n`) };
    const files = (dockerfile: string, ignore?: string) => [
      { path: 'Dockerfile', data: Buffer.from(dockerfile) },
      env,
      ...(ignore ? [{ path: '.dockerignore', data: Buffer.from(ignore) }] : []),
    ];
    const copyAll = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN rm -f .env\n';
    expect(contextLeaks(files(copyAll), needles)).toMatchObject([{ file: '.env', copiedBy: { line: 3, instruction: 'COPY . .' } }]);
    expect(contextLeaks(files(copyAll, '.env\n'), needles)).toEqual([]);
    expect(contextLeaks(files('FROM node:20\nCOPY server.js package.json ./\n'), needles)).toEqual([]);
    expect(contextLeaks(files(`FROM node:20\nENV GIFTCARD_API_KEY=${LEAKED}\n`, '.env'), needles)).toMatchObject([{ file: 'Dockerfile' }]);
  });
});

describe('attack step imageLayers: grep every layer of the running image, as `docker save` + tar would', () => {
  const find = [{ pattern: 'gck_[A-Za-z0-9_]{12,}', label: 'a gift-card API key' }];
  const copy = (env: string) => ({
    createdBy: '/bin/sh -c #(nop) COPY dir:0f1e in . ',
    tar: tar([
      { name: 'app/.env', data: env },
      { name: 'app/server.js', data: 'const key = process.env.GIFTCARD_API_KEY;' },
    ]),
  });
  const rm = { createdBy: '/bin/sh -c rm -f .env', tar: tar([{ name: 'app/.wh..env' }]) };
  const base = { createdBy: '/bin/sh -c #(nop) ADD file:abc in / ', tar: tar([{ name: 'etc/os-release', data: 'debian' }]) };

  it('finds a key no one told it, in a file a later layer deleted, and says where it is', async () => {
    const hits = await searchLayers([base, copy(`GIFTCARD_API_KEY=${LEAKED}\n`), rm], Buffer.from('{}'), find);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      label: 'a gift-card API key',
      value: LEAKED,
      finding: { layer: 2, layers: 3, path: 'app/.env', hiddenBy: { layer: 3, how: 'deleted' } },
    });
  });

  it('finds each distinct value once, an ENV value in the config too; a clean image gives nothing', async () => {
    const other = 'gck_lab_0123456789abcdef0123';
    const config = Buffer.from(JSON.stringify({ config: { Env: [`K=${other}`] } }));
    const hits = await searchLayers([copy(`A=${LEAKED}\nB=${LEAKED}\n`), rm], config, find);
    expect(hits.map((h) => [h.value, h.finding.layer])).toEqual([
      [other, 0],
      [LEAKED, 1],
    ]);
    expect(await searchLayers([base, copy('GIFTCARD_API_URL=http://localhost:8081\n')], Buffer.from('{}'), find)).toEqual([]);
  });

  it('looks only where `paths` says (the base image left out), and never judges an empty or tiny match', async () => {
    const inBase = { createdBy: 'ADD', tar: tar([{ name: 'usr/share/doc/x', data: LEAKED }]) };
    expect(await searchLayers([inBase], Buffer.from('{}'), find, ['app/**'])).toEqual([]);
    expect(await searchLayers([inBase], Buffer.from('{}'), find)).toHaveLength(1);
    expect(await searchLayers([copy('K=ab\n')], Buffer.from('{}'), [{ pattern: 'K=(\\w*)', label: 'k' }])).toEqual([]);
  });

  it('takes a workload, an app folder and valid regular expressions; needs kind', () => {
    const ok = { workload: { namespace: 'giftshop', name: 'giftshop' }, path: 'giftshop', find };
    expect(imageLayers.schema.safeParse(ok).success).toBe(true);
    expect(imageLayers.requires?.(imageLayers.schema.parse(ok))).toBe('kind');
    expect(imageLayers.schema.safeParse({ ...ok, find: [{ pattern: '(', label: 'x' }] }).success).toBe(false);
    expect(imageLayers.schema.safeParse({ ...ok, find: [] }).success).toBe(false);
    expect(imageLayers.schema.safeParse({ ...ok, extra: 1 }).success).toBe(false);
  });
});

describe("attack step pod: environment from an earlier step's loot", () => {
  const p = { namespace: 'giftshop', command: ['node', '-e', 'x'] };
  it('takes environment variable names mapped to loot names', () => {
    expect(pod.schema.safeParse({ ...p, envFrom: { KEY: 'key' } }).success).toBe(true);
    expect(pod.schema.safeParse({ ...p, envFrom: { 'not a name': 'key' } }).success).toBe(false);
  });
  it('starts a network attack idle, to run the command only once policies hold it (afterPolicySync)', async () => {
    expect(pod.schema.parse(p).afterPolicySync).toBe(false);
    const created: any[] = [];
    const cluster = {
      create: async (o: any) => {
        created.push(o);
        throw Object.assign(new Error('forbidden: stop here'), { code: 403 });
      },
    };
    await pod.run({ vars: new Map(), cluster } as any, pod.schema.parse({ ...p, afterPolicySync: true }));
    await pod.run({ vars: new Map(), cluster } as any, pod.schema.parse(p));
    expect(created[0].spec.containers[0].command[0]).toBe('sleep');
    expect(created[1].spec.containers[0].command).toEqual(p.command);
    expect(pod.timeoutMs!(pod.schema.parse({ ...p, afterPolicySync: true }))).toBeGreaterThan(pod.timeoutMs!(pod.schema.parse(p)));
  });
  it('stops before creating anything when the loot is missing, and puts it in the pod when it is there', async () => {
    const created: any[] = [];
    const vars = new Map<string, string>();
    const cluster = {
      create: async (o: any) => {
        created.push(o);
        throw Object.assign(new Error('forbidden: stop here'), { code: 403 });
      },
      delete: async () => {},
    };
    const ctx = { vars, cluster } as any;
    await expect(pod.run(ctx, pod.schema.parse({ ...p, envFrom: { KEY: 'key' } }))).rejects.toThrow(/no loot named key/);
    expect(created).toHaveLength(0);
    vars.set('key', LEAKED);
    const r = await pod.run(ctx, pod.schema.parse({ ...p, envFrom: { KEY: 'key' } }));
    expect(r.succeeded).toBe(false);
    expect(created[0].spec.containers[0].env).toContainEqual({ name: 'KEY', value: LEAKED });
    expect(created[0].metadata.labels['kube-seclab.dev/attack']).toBe('true');
  });
});
