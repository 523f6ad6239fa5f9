import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/errors.ts';
import { type InferOptions, runInfer } from '../../src/cli/infer/command.ts';
import { parseHeaderFlags } from '../../src/cli/infer/headers.ts';
import { loadInferData } from '../../src/cli/infer/infer-data.ts';
import { parseTarget } from '../../src/cli/infer/infer-target.ts';
import { defaultStickyFile, StickyState } from '../../src/cli/infer/sticky-state.ts';

const request = {
  inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
};

describe('infer targets', () => {
  it('routes models, pipelines and experiments like the gateway expects', () => {
    expect(parseTarget('iris')).toEqual({
      kind: 'model',
      name: 'iris',
      routeKey: 'iris',
      path: '/v2/models/iris/infer',
    });
    expect(parseTarget('iris.model').routeKey).toBe('iris');
    expect(parseTarget('fraud.pipeline')).toMatchObject({
      kind: 'pipeline',
      routeKey: 'fraud.pipeline',
      path: '/v2/pipelines/fraud/infer',
    });
    expect(parseTarget('fraud', { pipeline: true }).routeKey).toBe('fraud.pipeline');
    expect(parseTarget('ab.experiment')).toMatchObject({
      kind: 'experiment',
      routeKey: 'ab.experiment',
      path: '/v2/models/ab/infer',
    });
  });

  it('refuses bad names and contradictory flags', () => {
    expect(() => parseTarget('Iris')).toThrow(/"Iris" is not a valid target: .*lower-case/);
    expect(() => parseTarget('a/b.pipeline')).toThrow(/not a valid target/);
    expect(() => parseTarget('ab.experiment', { pipeline: true })).toThrow(
      /names a experiment but --pipeline was given/,
    );
  });
});

describe('infer data and headers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlops-infer-data-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads inline JSON, @file and stdin', () => {
    const file = join(dir, 'req.json');
    writeFileSync(file, JSON.stringify(request));
    const noStdin = () => {
      throw new Error('stdin read');
    };
    expect(loadInferData(JSON.stringify(request), noStdin)).toEqual(request);
    expect(loadInferData(`@${file}`, noStdin)).toEqual(request);
    expect(loadInferData('-', () => JSON.stringify(request))).toEqual(request);
  });

  it('names the source and the fix for bad data', () => {
    const stdin = () => '';
    expect(() => loadInferData('{"inputs":', stdin)).toThrow(
      /the DATA argument is not valid JSON .*"inputs":\[/,
    );
    expect(() => loadInferData(`@${join(dir, 'nope.json')}`, stdin)).toThrow(
      /cannot read .*nope.json: ENOENT/,
    );
    expect(() => loadInferData('-', () => '[1]')).toThrow(
      /stdin is not an OIP inference request: it needs an "inputs" array/,
    );
  });

  it('parses repeatable headers and rejects malformed ones', () => {
    expect(parseHeaderFlags(['X-Team=risk', 'x-a=b=c', 'x-team=ops'])).toEqual({
      'x-team': 'ops',
      'x-a': 'b=c',
    });
    expect(() => parseHeaderFlags(['novalue'])).toThrow(/--header "novalue": expected NAME=VALUE/);
    expect(() => parseHeaderFlags(['bad name=1'])).toThrow(/expected NAME=VALUE/);
  });
});

describe('sticky state', () => {
  it('keeps one route per gateway and key, in the config dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-sticky-'));
    try {
      expect(defaultStickyFile({ XDG_CONFIG_HOME: dir })).toBe(join(dir, 'mlops', 'sticky-routes.json'));
      const state = new StickyState(defaultStickyFile({ XDG_CONFIG_HOME: dir }));
      expect(state.get('http://a', 'iris')).toBeUndefined();
      state.set('http://a/', 'iris', ':iris2_1:');
      state.set('http://b', 'iris', ':iris_1:');
      expect(state.get('http://a', 'iris')).toBe(':iris2_1:');
      expect(state.get('http://b', 'iris')).toBe(':iris_1:');
      expect(state.get('http://a', 'fraud.pipeline')).toBeUndefined();
      writeFileSync(state.file, 'garbage');
      expect(state.get('http://a', 'iris')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('runInfer against a fake gateway', () => {
  let server: Server;
  let gateway: string;
  let configHome: string;
  const seen: Seen[] = [];
  let reply: (s: Seen) => { status: number; headers?: Record<string, string>; body: string };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const s = { method: req.method, url: req.url, headers: req.headers, body };
        seen.push(s);
        const r = reply(s);
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end(r.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
    configHome = mkdtempSync(join(tmpdir(), 'mlops-infer-cfg-'));
    reply = (s) => ({
      status: 200,
      headers: { 'x-seldon-route': s.headers['seldon-model'] === 'ab.experiment' ? ':iris2_1:' : ':iris_1:' },
      body: JSON.stringify({
        model_name: 'iris',
        outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [0] }],
      }),
    });
  });

  const run = async (target: string, opts: Partial<InferOptions> = {}, env: NodeJS.ProcessEnv = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    await runInfer(
      target,
      JSON.stringify(request),
      { header: [], timeoutMs: '5000', gateway, ...opts },
      {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        readStdin: () => '',
        env: { XDG_CONFIG_HOME: configHome, ...env },
      },
    );
    return { stdout: out.join(''), stderr: err.join('') };
  };

  it('posts the request with seldon-model and extra headers, prints the response', async () => {
    const r = await run('iris', { header: ['x-team=risk'] });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v2/models/iris/infer' });
    expect(seen[0].headers['seldon-model']).toBe('iris');
    expect(seen[0].headers['x-team']).toBe('risk');
    expect(seen[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0].body)).toEqual(request);
    expect(JSON.parse(r.stdout).outputs[0].data).toEqual([0]);
    expect(r.stderr).toBe('');
  });

  it('routes pipelines through their path and experiments through the header', async () => {
    await run('fraud', { pipeline: true });
    await run('ab.experiment');
    expect(seen.map((s) => [s.url, s.headers['seldon-model']])).toEqual([
      ['/v2/pipelines/fraud/infer', 'fraud.pipeline'],
      ['/v2/models/ab/infer', 'ab.experiment'],
    ]);
  });

  it('takes the gateway from MLOPS_GATEWAY', async () => {
    await run('iris', { gateway: undefined }, { MLOPS_GATEWAY: `${gateway}/` });
    expect(seen).toHaveLength(1);
  });

  it('replays the saved route with --sticky, and only then', async () => {
    await run('ab.experiment', { sticky: true });
    expect(seen[0].headers['x-seldon-route']).toBeUndefined();
    await run('ab.experiment', { sticky: true });
    expect(seen[1].headers['x-seldon-route']).toBe(':iris2_1:');
    await run('ab.experiment');
    expect(seen[2].headers['x-seldon-route']).toBeUndefined();
    const saved = JSON.parse(readFileSync(join(configHome, 'mlops', 'sticky-routes.json'), 'utf8'));
    expect(saved).toEqual({ [`${gateway} ab.experiment`]: ':iris2_1:' });
  });

  it('shows the response headers on stderr', async () => {
    const r = await run('iris', { showHeaders: true });
    expect(r.stderr).toMatch(/^HTTP 200 OK\n/);
    expect(r.stderr).toContain('x-seldon-route: :iris_1:');
  });

  it('fails with the OIP error message on 4xx/5xx', async () => {
    reply = () => ({ status: 404, body: JSON.stringify({ error: 'model "nope" not found' }) });
    const err = await run('nope').catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ exitCode: 1, message: 'infer nope: HTTP 404: model "nope" not found' });
    reply = () => ({ status: 503, body: 'upstream down' });
    await expect(run('iris')).rejects.toThrow('infer iris: HTTP 503: upstream down');
  });

  it('says how to fix an unreachable gateway', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await run('iris', { gateway: `http://127.0.0.1:${port}` }).catch((e) => e);
    expect(err.message).toMatch(
      /cannot reach the gateway at http:\/\/127.0.0.1:\d+ \(ECONNREFUSED\).*mlops dev/,
    );
    expect(err.exitCode).toBe(1);
  });

  it('exits 1 with the message through the real command line', async () => {
    reply = () => ({
      status: 400,
      body: JSON.stringify({ error: 'iris: invalid inference request: inputs[0]: bad' }),
    });
    const bin = fileURLToPath(new URL('../../bin/mlops.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'infer', 'iris', '-', '--gateway', gateway], {
      env: { ...process.env, XDG_CONFIG_HOME: configHome },
    });
    child.stdin.end(JSON.stringify(request));
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(stderr).toBe('infer iris: HTTP 400: iris: invalid inference request: inputs[0]: bad\n');
    expect(JSON.parse(seen[0].body)).toEqual(request);
  }, 30_000);
});
