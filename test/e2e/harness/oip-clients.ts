import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachePath, provisioned, repoRoot } from './cache.ts';

const run = promisify(execFile);

/** One client call's outcome, as the case runners print it. */
export interface CaseResult {
  ok: boolean;
  value?: unknown;
  status?: string;
  message?: string;
  seconds: number;
}

/** Where `scripts/provision/oip-clients.sh` put tritonclient, the KServe SDK and grpcurl. */
export function oipClientsDir(): string {
  const root = cachePath('oip-clients');
  const dir = existsSync(root)
    ? readdirSync(root)
        .filter((d) => d.startsWith('py') && existsSync(join(root, d, '.stamp')))
        .map((d) => join(root, d))[0]
    : undefined;
  return provisioned('oip-clients', dir ?? join(root, 'py<python>'));
}

export interface ClientTarget {
  http: string;
  grpc: string;
  model: string;
  version?: string;
  headers?: Record<string, string>;
  cases?: string[];
}

/**
 * Runs one of the Python case runners (test/e2e/clients/<runner>_cases.py) against a target and
 * returns its results by case name.
 */
export async function runClientCases(
  runner: 'triton' | 'kserve',
  target: ClientTarget,
): Promise<Record<string, CaseResult>> {
  const python = join(oipClientsDir(), 'venv', 'bin', 'python');
  const script = join(repoRoot, 'test', 'e2e', 'clients', `${runner}_cases.py`);
  try {
    const { stdout } = await run(python, [script, JSON.stringify(target)], {
      timeout: 120_000,
      maxBuffer: 8 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${runner} cases against ${target.http} failed to run: ${e.stderr || e.message}`);
  }
}

export interface GrpcurlResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs grpcurl (plaintext) with `args`, feeding `input` on stdin when given. */
export function grpcurl(args: string[], input?: string): Promise<GrpcurlResult> {
  const bin = join(oipClientsDir(), 'bin', 'grpcurl');
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(bin, ['-plaintext', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
