// Semantic diff of two 5,000-object trees with 10% of the objects changed, next to
// `git diff --no-index` of the same trees in the same run (the baseline a reviewer would
// otherwise read). One file per object, as `mlops synth` writes them.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { compareManifests } from '../src/review/diff/compare.ts';
import { renderMarkdown, renderText } from '../src/review/diff/render-diff.ts';
import { loadManifests } from '../src/review/manifests.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

const OBJECTS = Number(process.env.BENCH_DIFF_OBJECTS ?? 5000);
const CHANGED = Math.round(OBJECTS / 10);
const RUNS = 3;
const bin = fileURLToPath(new URL('../bin/mlops.js', import.meta.url));

// Every run diffs the same trees.
const rand = seededRandom(42);

// biome-ignore lint/suspicious/noExplicitAny: generated data, edited freely
type Obj = Record<string, any>;

function object(i: number): Obj {
  const ns = `team-${i % 10}`;
  const name = `obj-${i}`;
  const meta = { name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'bench' } };
  switch (i % 5) {
    case 0:
    case 1:
      return {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Model',
        metadata: meta,
        spec: { storageUri: `gs://bench/${name}/1`, requirements: ['sklearn'], memory: '100Mi', replicas: 1 },
      };
    case 2:
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta,
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.example.com/app:1.0.0',
                  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                },
              ],
            },
          },
        },
      };
    case 3:
      return {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Pipeline',
        metadata: meta,
        spec: {
          steps: [{ name: `${name}-a` }, { name: `${name}-b`, inputs: [`${name}-a.outputs.y`] }],
          output: { steps: [`${name}-b`] },
        },
      };
    default:
      return {
        apiVersion: 'mlops.seldon.io/v1alpha1',
        kind: 'Experiment',
        metadata: meta,
        spec: {
          candidates: [
            { name: `${name}-a`, weight: 50 },
            { name: `${name}-b`, weight: 50 },
          ],
        },
      };
  }
}

function change(o: Obj): void {
  switch (o.kind) {
    case 'Model':
      o.spec.replicas = 2 + Math.floor(rand() * 3);
      o.spec.memory = '200Mi';
      break;
    case 'Deployment':
      o.spec.template.spec.containers[0].image = 'registry.example.com/app:1.1.0';
      break;
    case 'Pipeline':
      o.spec.steps.push({ name: `${o.metadata.name}-c`, inputs: [`${o.metadata.name}-b`] });
      o.spec.output.steps = [`${o.metadata.name}-c`];
      break;
    default:
      o.spec.candidates[1].weight = 80;
  }
}

function writeTree(dir: string, objects: Obj[]): void {
  mkdirSync(dir, { recursive: true });
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : 'core';
    writeFileSync(
      join(dir, `${group}_${o.kind}_${o.metadata.namespace}_${o.metadata.name}.yaml`),
      stringify(o, { sortMapEntries: true }),
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const work = mkdtempSync(join(tmpdir(), 'bench-diff-'));
try {
  const base = Array.from({ length: OBJECTS }, (_, i) => object(i));
  const head = base.map((o) => structuredClone(o));
  const picked = new Set<number>();
  while (picked.size < CHANGED) picked.add(Math.floor(rand() * OBJECTS));
  for (const i of picked) change(head[i]);
  writeTree(join(work, 'base'), base);
  writeTree(join(work, 'head'), head);

  let summary = '';
  let textBytes = 0;
  const api = median(
    Array.from({ length: RUNS }, () =>
      time(() => {
        const r = compareManifests(loadManifests([join(work, 'base')]), loadManifests([join(work, 'head')]));
        const text = renderText(r);
        renderMarkdown(r);
        textBytes = text.length;
        summary = text.split('\n')[0];
      }),
    ),
  );
  const cli = median(
    Array.from({ length: RUNS }, () =>
      time(() => {
        const r = spawnSync(process.execPath, [bin, 'diff', join(work, 'base'), join(work, 'head')], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        if (r.status !== 1) throw new Error(`mlops diff exited ${r.status}: ${r.stderr}`);
      }),
    ),
  );
  let gitBytes = 0;
  const git = median(
    Array.from({ length: RUNS }, () =>
      time(() => {
        const r = spawnSync('git', ['diff', '--no-index', '--no-color', 'base', 'head'], {
          cwd: work,
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        if (r.status !== 1) throw new Error(`git diff exited ${r.status}: ${r.stderr}`);
        gitBytes = r.stdout.length;
      }),
    ),
  );
  if (!summary.startsWith(`0 added, ${CHANGED} changed`))
    throw new Error(`unexpected diff summary: ${summary}`);

  const ms = (x: number) => `${Math.round(x)} ms`;
  const ratio = (x: number) => `${(x / git).toFixed(2)}×`;
  process.stdout.write(
    [
      '## Diff',
      '',
      `Two trees of ${OBJECTS} objects (one file each: Models, Deployments, Pipelines, Experiments), ${CHANGED} changed; median of ${RUNS} runs.`,
      '',
      '| what | time | vs `git diff --no-index` |',
      '|---|---|---|',
      `| \`git diff --no-index\` (baseline, line diff) | ${ms(git)} | 1.00× |`,
      `| semantic diff, in-process API (load + compare + text and markdown) | ${ms(api)} | ${ratio(api)} |`,
      `| \`mlops diff\` CLI end to end (process start included) | ${ms(cli)} | ${ratio(cli)} |`,
      '',
      `Result: ${summary}; text report ${Math.round(textBytes / 1024)} KiB vs git's ${Math.round(gitBytes / 1024)} KiB.`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
