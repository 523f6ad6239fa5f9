import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectorySource } from '../../../src/runtime/sources/directory.ts';
import { quantityBytes } from '../../../src/runtime/sources/quantity.ts';
import type { MlopsResource } from '../../../src/spec/types.ts';

const model = (name: string, uri: string) => `apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: ${name}
spec:
  storageUri: ${uri}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlops-dir-source-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      upsert: (r: MlopsResource) =>
        events.push(`upsert ${r.kind}/${r.metadata.name} ${JSON.stringify(r.spec)}`),
      remove: (kind: string, _ns: string, name: string) => events.push(`remove ${kind}/${name}`),
      synced: () => events.push('synced'),
    },
  };
}

describe('DirectorySource', () => {
  it('delivers servers before models, then only what changed', async () => {
    writeFileSync(
      join(dir, 'a.yaml'),
      `${model('iris', 'file:///a')}---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
---
apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: {name: mlserver}
spec: {serverConfig: mlserver}
`,
    );
    const src = new DirectorySource(dir, pino({ level: 'silent' }), 60_000);
    const r = recorder();
    await src.start(r.handler);
    expect(r.events).toEqual([
      'upsert Server/mlserver {"serverConfig":"mlserver"}',
      'upsert Model/iris {"storageUri":"file:///a"}',
      'synced',
    ]);
    r.events.length = 0;
    writeFileSync(join(dir, 'b.yml'), model('wine', 'file:///w'));
    writeFileSync(join(dir, 'a.yaml'), model('iris', 'file:///a2'));
    src.refresh();
    expect(r.events.sort()).toEqual([
      'remove Server/mlserver',
      'upsert Model/iris {"storageUri":"file:///a2"}',
      'upsert Model/wine {"storageUri":"file:///w"}',
    ]);
    r.events.length = 0;
    unlinkSync(join(dir, 'b.yml'));
    src.refresh();
    expect(r.events).toEqual(['remove Model/wine']);
    await src.stop();
  });

  it('keeps the previous objects of a file that stops parsing', async () => {
    writeFileSync(join(dir, 'a.yaml'), model('iris', 'file:///a'));
    const src = new DirectorySource(dir, pino({ level: 'silent' }), 60_000);
    const r = recorder();
    await src.start(r.handler);
    r.events.length = 0;
    writeFileSync(join(dir, 'a.yaml'), 'kind: [unclosed');
    src.refresh();
    expect(r.events).toEqual([]);
    await src.stop();
  });

  it('applies scaling decisions over the file and keeps status in memory', async () => {
    writeFileSync(join(dir, 'a.yaml'), model('iris', 'file:///a'));
    const src = new DirectorySource(dir, pino({ level: 'silent' }), 60_000);
    const r = recorder();
    await src.start(r.handler);
    r.events.length = 0;
    await src.scale('Model', '', 'iris', 3);
    expect(r.events).toEqual(['upsert Model/iris {"storageUri":"file:///a","replicas":3}']);
    await src.writeModelStatus('', 'iris', { replicas: 3 });
    expect(src.modelStatus.get('Model//iris')).toEqual({ replicas: 3 });
    await src.stop();
  });
});

describe('DirectorySource scaling decisions', () => {
  it('keep applying while the file changes elsewhere, and yield to an edit of its replicas', async () => {
    const file = join(dir, 'a.yaml');
    writeFileSync(file, `${model('iris', 'file:///a')}  replicas: 1\n`);
    const src = new DirectorySource(dir, pino({ level: 'silent' }), 60_000);
    const r = recorder();
    await src.start(r.handler);
    await src.scale('Model', '', 'iris', 3);
    r.events.length = 0;
    writeFileSync(file, `${model('iris', 'file:///b')}  replicas: 1\n`);
    src.refresh();
    expect(r.events).toEqual(['upsert Model/iris {"storageUri":"file:///b","replicas":3}']);
    r.events.length = 0;
    writeFileSync(file, `${model('iris', 'file:///b')}  replicas: 2\n`);
    src.refresh();
    expect(r.events).toEqual(['upsert Model/iris {"storageUri":"file:///b","replicas":2}']);
    await src.stop();
  });
});

describe('quantityBytes', () => {
  it('parses binary, decimal and exponent suffixes', () => {
    expect(quantityBytes('1Gi')).toBe(1024 ** 3);
    expect(quantityBytes('1.5Mi')).toBe(1.5 * 1024 ** 2);
    expect(quantityBytes('500M')).toBe(500e6);
    expect(quantityBytes('1e3')).toBe(1000);
    expect(quantityBytes(2048)).toBe(2048);
    expect(quantityBytes(undefined)).toBe(0);
    expect(() => quantityBytes('lots')).toThrow('invalid quantity "lots"');
  });
});
