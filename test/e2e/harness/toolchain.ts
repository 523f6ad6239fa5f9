import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

export type Tool = 'java' | 'python3' | 'go' | 'openssl';

const installHints: Record<Tool, string> = {
  java: 'Java 17 and Maven (apt-get install openjdk-17-jre-headless maven)',
  python3: 'Python 3.9+ with venv (apt-get install python3 python3-venv)',
  go: 'Go 1.24 or newer (https://go.dev/dl)',
  openssl: 'OpenSSL (apt-get install openssl)',
};

const probes: Record<Tool, [string, string[]]> = {
  java: ['java', ['-version']],
  python3: ['python3', ['--version']],
  go: ['go', ['version']],
  openssl: ['openssl', ['version']],
};

const found = new Map<Tool, boolean>();

function hasTool(tool: Tool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    const [cmd, args] = probes[tool];
    ok = spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
    found.set(tool, ok);
  }
  return ok;
}

/** `MLOPS_E2E=required` (CI): a missing toolchain or artifact is a failure, never a skip. */
export function e2eRequired(): boolean {
  return process.env.MLOPS_E2E === 'required';
}

export function missingToolsMessage(missing: Tool[]): string {
  return `missing ${missing.join(', ')}: install ${missing.map((t) => installHints[t]).join('; ')}, then run \`npm run provision\``;
}

/**
 * True when every tool is on the PATH. When one is missing: false (so the caller skips) unless
 * MLOPS_E2E=required, in which case it throws.
 */
export function requireToolchain(...tools: Tool[]): boolean {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return true;
  const message = missingToolsMessage(missing);
  if (e2eRequired()) throw new Error(`MLOPS_E2E=required but ${message}`);
  return false;
}

/**
 * A describe block for an end-to-end suite: it runs when the toolchain is present, is skipped
 * (its title says what to install) when a tool is missing and MLOPS_E2E is not `required`, and
 * fails with that message when it is.
 */
export function describeE2E(name: string, tools: Tool[], fn: () => void): void {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) {
    describe(name, fn);
  } else if (e2eRequired()) {
    describe(name, () => {
      it('has its toolchain', () => {
        throw new Error(`MLOPS_E2E=required but ${missingToolsMessage(missing)}`);
      });
    });
  } else {
    describe.skip(`${name} — skipped, ${missingToolsMessage(missing)}`, fn);
  }
}
