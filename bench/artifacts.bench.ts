// Download time of a 50 MB model artifact from each object store (s3rver, fake-gcs-server,
// Azurite on 127.0.0.1) through the agent's rclone source, against the same folder copied from
// local disk (file://) as the floor. Runs are interleaved; medians of 3.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type ArtifactSource, fileSource } from '../src/runtime/agent/artifact-source.ts';
import { RcloneSource } from '../src/runtime/agent/rclone-source.ts';
import { type ObjectStore, startAzurite, startGcs, startS3 } from '../test/e2e/harness/object-stores.ts';

const MB = 50;
const RUNS = 3;
const dir = mkdtempSync(join(tmpdir(), 'mlops-bench-artifacts-'));
const artifact = join(dir, 'artifact');
mkdirSync(artifact);
// Random bytes: nothing on the way can compress them.
writeFileSync(join(artifact, 'model.bin'), randomBytes(MB * 2 ** 20));
writeFileSync(join(artifact, 'model-settings.json'), '{"name":"big","implementation":"x"}');

const stores: ObjectStore[] = await Promise.all([startS3(), startGcs(), startAzurite()]);
try {
  for (const s of stores) await s.upload(artifact, 'models', 'big');
  const candidates: { name: string; uri: string; source: ArtifactSource }[] = [
    { name: 'file:// (local disk, floor)', uri: pathToFileURL(artifact).href, source: fileSource },
    ...stores.map((s) => ({
      name: `${s.scheme}:// (${{ s3: 's3rver', gs: 'fake-gcs-server', az: 'Azurite' }[s.scheme]})`,
      uri: `${s.scheme}://models/big`,
      source: new RcloneSource({
        binary: 'rclone',
        secrets: { read: async () => ({ x: Buffer.from(JSON.stringify(s.remote)).toString('base64') }) },
        defaultSecrets: [],
        namespace: 'bench',
        env: process.env,
      }),
    })),
  ];
  const times = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const c of candidates) {
      const dest = mkdtempSync(join(dir, 'dest-'));
      const started = performance.now();
      await c.source.fetch({ model: 'big', namespace: 'bench', uri: c.uri, secretName: 'x' }, dest);
      times.get(c.name)?.push(performance.now() - started);
      rmSync(dest, { recursive: true, force: true });
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const floor = median(times.get(candidates[0].name) ?? []);
  const rows = candidates.map((c) => {
    const ms = median(times.get(c.name) ?? []);
    return `| ${c.name} | ${ms.toFixed(0)} ms | ${((MB * 1000) / ms).toFixed(0)} MB/s | ${(ms / floor).toFixed(1)}× |`;
  });
  console.log(`## Artifact downloads (${MB} MB, median of ${RUNS} interleaved runs)

One ${MB} MB model folder fetched by the agent's artifact sources into an empty folder: the object
stores through rclone (one process per download), the local copy as the floor. Emulators on
127.0.0.1, so these are the agent's own costs (process start, listing, transfer), not a network's.

| source | time | throughput | vs. local copy |
| --- | --- | --- | --- |
${rows.join('\n')}`);
} finally {
  for (const s of stores) await s.stop();
  rmSync(dir, { recursive: true, force: true });
}
