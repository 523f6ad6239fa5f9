// Every example app in apps/ serves under `mlops dev`, with real MLServer and models built on
// this machine (no download): the README's try-it commands run exactly as written, and for each
// app the try-it commands `mlops dev` prints answer with an inference.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, type ManagedProcess, repoRoot, startProcess } from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const exec = promisify(execFile);
const FLOWERS = [5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5, 6.4, 3.2, 4.5, 1.5];
const FLOWERS_REQUEST = JSON.stringify({
  inputs: [{ name: 'predict', shape: [3, 4], datatype: 'FP64', data: FLOWERS }],
});
const INCOME_REQUEST = JSON.stringify({
  inputs: [
    { name: 'income', shape: [1, 12], datatype: 'INT64', data: [53, 4, 0, 2, 8, 4, 4, 0, 0, 0, 60, 9] },
  ],
});
/** setosa, virginica, versicolor */
const SPECIES = [0, 2, 1];

interface OipResponse {
  model_name: string;
  outputs: { name: string; shape: number[]; data: number[] }[];
}

/** The shell commands of the README's "Try it" section: the setup, `mlops dev`, the requests. */
function readmeTryIt(): { setup: string[]; dev: string; requests: string[] } {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = /^## Try it\n([\s\S]*?)^## /m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Try it" section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1].split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')),
  );
  if (blocks.length !== 2) throw new Error(`README "Try it" has ${blocks.length} sh blocks, not 2`);
  const [first, requests] = blocks;
  const dev = first.at(-1) ?? '';
  if (!/^npx mlops dev\b/.test(dev)) throw new Error(`the first block must end with npx mlops dev: ${dev}`);
  return { setup: first.slice(0, -1), dev, requests };
}

/** A copy of the project as a user has it (apps, scripts, package.json; the built package linked). */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-examples-'));
  for (const f of ['package.json', 'apps', 'scripts'])
    cpSync(join(repoRoot, f), join(dir, f), { recursive: true });
  for (const f of ['node_modules', 'lib', 'bin']) symlinkSync(join(repoRoot, f), join(dir, f));
  return dir;
}

/**
 * The environment of the commands: the copy links the built package, so npx must not build it
 * again (its `prepare` script) when it first runs the project's own `mlops`; its npx cache is
 * kept in the copy.
 */
const shellEnv = (cwd: string): NodeJS.ProcessEnv => ({
  ...process.env,
  npm_config_ignore_scripts: 'true',
  npm_config_cache: join(cwd, '.npm-cache'),
});

async function sh(cwd: string, line: string): Promise<string> {
  try {
    const opts = { cwd, env: shellEnv(cwd), timeout: 180_000, maxBuffer: 1 << 24 };
    return (await exec('sh', ['-c', line], opts)).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`\`${line}\` failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `mlops dev` (or any shell line) in its own process group, its output in a log file. */
function startDev(cwd: string, line: string): { proc: ManagedProcess; output(): string } {
  const logFile = join(cwd, `dev-${Date.now()}.log`);
  const proc = startProcess('mlops dev', 'sh', ['-c', line], { logFile, cwd, env: shellEnv(cwd) });
  return { proc, output: () => readFileSync(logFile, 'utf8') };
}

async function waitForOutput(dev: { output(): string; proc: ManagedProcess }, re: RegExp, ms: number) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const m = dev.output().match(re);
    if (m) return m;
    if (!dev.proc.isRunning()) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`mlops dev never printed ${re}; output:\n${dev.output().slice(-4000)}`);
}

const PRINTED = /Try it \(model ([\w-]+);[^\n]*\n {2}(curl [^\n]+)\n {2}(npx mlops infer [^\n]+)\n/;

/** Runs the try-it commands `mlops dev` printed, as printed; each must answer with outputs. */
async function runPrinted(cwd: string, output: string): Promise<OipResponse[]> {
  const m = output.match(PRINTED);
  if (!m) throw new Error(`no try-it commands printed:\n${output.slice(-3000)}`);
  const answers = [JSON.parse(await sh(cwd, m[2])), JSON.parse(await sh(cwd, m[3]))] as OipResponse[];
  for (const a of answers) expect(a.outputs?.length, JSON.stringify(a)).toBeGreaterThan(0);
  return answers;
}

describeE2E('the example apps under mlops dev, offline, with real MLServer', ['python3'], () => {
  let project: string;
  const tryIt = readmeTryIt();
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    project = projectCopy();
    // The README's setup, as written: MLServer (cached), the models, the synthesized apps.
    for (const line of tryIt.setup) await sh(project, line);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop(5_000)));
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("runs the README's try-it commands verbatim: the quickstart's iris names three species", async () => {
    // The README's requests name the default gateway port.
    expect(await portFree(9000), 'port 9000 is taken; the README commands need it').toBe(true);
    const dev = startDev(project, tryIt.dev);
    running.push(dev.proc);
    await waitForOutput(dev, PRINTED, 150_000);
    expect(dev.output()).toContain('gateway    http://127.0.0.1:9000 (OIP REST)');
    expect(dev.output()).toContain('models     iris from local copies in models/');
    expect(dev.output()).not.toContain('cannot run model');
    for (const line of tryIt.requests) {
      const answer = JSON.parse(await sh(project, line)) as OipResponse;
      expect(answer.outputs[0].data, line).toEqual(SPECIES);
    }
    await runPrinted(project, dev.output());
    await dev.proc.stop(15_000);
    // Everything stopped with it: the next run gets the default port again.
    await expect.poll(() => portFree(9000), { timeout: 15_000 }).toBe(true);
  }, 200_000);

  it('environments: the dev namespace serves its canary experiment', async () => {
    const port = await freePort();
    const dev = startDev(
      project,
      `node bin/mlops.js dev --app environments --namespace ml-dev --port ${port}`,
    );
    running.push(dev.proc);
    await waitForOutput(dev, PRINTED, 150_000);
    expect(dev.output()).toContain('models     iris, iris-candidate from local copies in models/');
    for (const a of await runPrinted(project, dev.output())) expect(a.outputs[0].data).toEqual([0]);
    const out = await sh(
      project,
      `node bin/mlops.js infer iris-canary.experiment '${FLOWERS_REQUEST}' --gateway http://127.0.0.1:${port}`,
    );
    expect((JSON.parse(out) as OipResponse).outputs[0].data).toEqual(SPECIES);
    await dev.proc.stop(15_000);
  }, 200_000);

  it('fleet: iris, its A/B, the xgboost mirror and income serve; the Triton model is named with the reason', async () => {
    const port = await freePort();
    const dev = startDev(project, `node bin/mlops.js dev --app fleet --port ${port}`);
    running.push(dev.proc);
    await waitForOutput(dev, PRINTED, 150_000);
    expect(dev.output()).toContain(
      'warning: mlops dev cannot run model cifar10: it needs server triton (Triton Inference Server), which mlops dev does not start (it runs MLServer only)',
    );
    expect(dev.output()).toMatch(
      /mlops dev: model cifar10: ScheduleFailed \(.*\) — mlops dev cannot run it: it needs server triton/,
    );
    expect(dev.output()).not.toMatch(/cannot run model (iris-xgboost|income)/);
    for (const a of await runPrinted(project, dev.output())) expect(a.outputs[0].data).toEqual([0]);
    const infer = async (target: string, request: string) =>
      (
        JSON.parse(
          await sh(
            project,
            `node bin/mlops.js infer ${target} '${request}' --gateway http://127.0.0.1:${port}`,
          ),
        ) as OipResponse
      ).outputs[0];
    expect((await infer('iris-ab.experiment', FLOWERS_REQUEST)).data).toEqual(SPECIES);
    // MLServer's XGBoost runtime: the same three flowers, one class each.
    expect(await infer('iris-xgboost', FLOWERS_REQUEST)).toMatchObject({ shape: [3, 1], data: SPECIES });
    // Seldon's income request: one label-encoded Adult row; 53 years old, 60 hours a week: over $50K.
    expect(await infer('income', INCOME_REQUEST)).toMatchObject({ shape: [1, 1], data: [1] });
    await dev.proc.stop(15_000);
  }, 200_000);

  it('pipelines: the join pipeline runs its models on MLServer and answers 2 × each input', async () => {
    const port = await freePort();
    const dev = startDev(project, `node bin/mlops.js dev --app pipelines --port ${port}`);
    running.push(dev.proc);
    await waitForOutput(dev, PRINTED, 150_000);
    await waitForOutput(dev, /mlops dev: pipeline join: Ready\n/, 30_000);
    for (const a of await runPrinted(project, dev.output())) {
      expect(a.outputs.map((o) => o.name)).toEqual(['OUTPUT0', 'OUTPUT1']);
    }
    const a = Array.from({ length: 16 }, (_, i) => i + 1);
    const b = Array.from({ length: 16 }, () => 3);
    const request = JSON.stringify({
      inputs: [
        { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: a },
        { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: b },
      ],
    });
    const out = await sh(
      project,
      `node bin/mlops.js infer join.pipeline '${request}' --gateway http://127.0.0.1:${port}`,
    );
    const outputs = Object.fromEntries((JSON.parse(out) as OipResponse).outputs.map((o) => [o.name, o.data]));
    expect(outputs).toEqual({ OUTPUT0: a.map((x) => 2 * x), OUTPUT1: b.map((x) => 2 * x) });
    await dev.proc.stop(15_000);
  }, 200_000);
});
