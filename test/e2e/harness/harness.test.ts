import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { provisioned, repoRoot } from './cache.ts';
import { clusterId } from './kafka.ts';
import { freePort } from './ports.ts';
import { startProcess, waitUntilReady } from './process.ts';
import { missingToolsMessage } from './toolchain.ts';

const dir = mkdtempSync(join(tmpdir(), 'mlops-harness-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Running, and not a zombie waiting for a parent that is gone to reap it.
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('freePort', () => {
  it('hands out distinct ports that can be listened on', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer().once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });
});

describe('startProcess / waitUntilReady', () => {
  it('includes the log tail when the process exits during startup', async () => {
    const proc = startProcess('failing', 'sh', ['-c', 'echo "bad flag --x"; exit 3'], {
      logFile: join(dir, 'failing.log'),
    });
    await expect(waitUntilReady(proc, 'failing server', async () => false, 5_000)).rejects.toThrow(
      /failing server exited during startup \(3\)[\s\S]*bad flag --x/,
    );
  });

  it('says what did not start, and stops it, when readiness times out', async () => {
    const proc = startProcess('slow', 'sh', ['-c', 'echo starting; sleep 30'], {
      logFile: join(dir, 'slow.log'),
    });
    await expect(waitUntilReady(proc, 'slow server', async () => false, 600)).rejects.toThrow(
      /slow server was not ready within 1s[\s\S]*starting/,
    );
    expect(proc.isRunning()).toBe(false);
  });

  it('stop() ends the whole process group, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const proc = startProcess('parent', 'sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`], {
      logFile: join(dir, 'parent.log'),
    });
    await waitUntilReady(
      proc,
      'parent',
      async () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
      5_000,
    );
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(child)).toBe(true);
    await proc.stop(2_000);
    for (let i = 0; i < 20 && alive(child); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(child)).toBe(false);
  });
});

describe('Kafka cluster ids', () => {
  it('never begin with "-", which kafka-storage would take for an option (1 draw in 64 did)', () => {
    const ids = Array.from({ length: 5000 }, clusterId);
    expect(ids.filter((id) => id.startsWith('-'))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  });
});

describe('toolchain messages', () => {
  it('names what to install and the provisioning command', () => {
    const message = missingToolsMessage(['java', 'go']);
    expect(message).toMatch(/missing java, go/);
    expect(message).toMatch(/openjdk-17/);
    expect(message).toMatch(/Go 1\.24/);
    expect(message).toMatch(/npm run provision/);
  });
});

describe('servers outlive no test process', () => {
  it('a server dies within seconds when its test process is SIGKILLed', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const script = `
      import { startProcess } from ${JSON.stringify(new URL('./process.ts', import.meta.url).pathname)};
      import { writeFileSync } from 'node:fs';
      const p = startProcess('orphan', 'sleep', ['60'], { logFile: ${JSON.stringify(join(dir, 'orphan.log'))} });
      writeFileSync(${JSON.stringify(pidFile)}, String(p.pid));
      setInterval(() => {}, 1000);
    `;
    const runner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    // The file exists a moment before its content is written: wait for a whole pid.
    const pid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0);
    for (let i = 0; i < 100 && !(pid() > 0); i++) await new Promise((r) => setTimeout(r, 100));
    const server = pid();
    expect(alive(server)).toBe(true);
    runner.kill('SIGKILL');
    for (let i = 0; i < 50 && alive(server); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(server)).toBe(false);
  }, 20_000);
});

describe('requireToolchain', () => {
  // A child process whose PATH has no Go: the probe must see it missing.
  const probe = (env: Record<string, string>) => {
    const script = `
      import { requireToolchain } from ${JSON.stringify(new URL('./toolchain.ts', import.meta.url).pathname)};
      try { console.log(String(requireToolchain('go'))); } catch (e) { console.log('threw: ' + e.message); }
    `;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { HOME: process.env.HOME ?? '/', PATH: dir, ...env },
      encoding: 'utf8',
    }).stdout.trim();
  };

  it('returns false (skip) when a tool is missing and MLOPS_E2E is not required', () => {
    expect(probe({})).toBe('false');
  });

  it('throws, naming what to install, when MLOPS_E2E=required', () => {
    expect(probe({ MLOPS_E2E: 'required' })).toMatch(/^threw: MLOPS_E2E=required but missing go: install Go/);
  });
});

describe('provisioned', () => {
  it('names the provisioning command when a component is missing', () => {
    expect(() => provisioned('kafka', join(dir, 'nothing-here'))).toThrow(
      /kafka is not provisioned .*Run `npm run provision` \(or `bash scripts\/provision\/kafka.sh`\)/,
    );
  });
});
