import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const runtime = (args: string[]) =>
  spawnSync(process.execPath, ['bin/mlops-runtime.js', ...args], { encoding: 'utf8', timeout: 30_000 });

describe('mlops-runtime command lines', () => {
  it.each([
    [
      'scheduler',
      ['--manifests', 'dist/quickstart', '--port', '90x1', '--batch-ms', '1.5'],
      ['port', 'batch-ms'],
    ],
    [
      'agent',
      ['--server', 's', '--replica', 'one', '--memory', '1Gi', '--http-port=-1'],
      ['replica', 'http-port'],
    ],
    ['gateway', ['--routes', 'routes.yaml', '--max-body-bytes', '64M'], ['max-body-bytes']],
    ['dataflow', ['--manifests', 'dist', '--timeout-ms', 'soon'], ['timeout-ms']],
  ])(
    '%s: values that are not whole numbers are each named, with the usage, exit 2',
    (component, args, bad) => {
      const run = runtime([component, ...args]);
      expect(run.status).toBe(2);
      const [first] = run.stderr.split('\n');
      expect(first.startsWith(`${component}: --${bad[0]} must be a whole number, got "`)).toBe(true);
      for (const flag of bad) expect(first).toContain(`--${flag} must be a whole number`);
      expect(first.split('must be a whole number')).toHaveLength(bad.length + 1);
      expect(run.stderr).toContain(`usage: mlops-runtime ${component}`);
      expect(run.stderr).not.toContain('    at ');
    },
  );

  it.each(['scheduler', 'agent', 'gateway', 'dataflow'])(
    '%s: an unknown flag is named, exit 2',
    (component) => {
      const run = runtime([component, '--no-such-flag']);
      expect(run.status).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(`${component}: Unknown option '--no-such-flag'`);
      expect(run.stderr).not.toContain('    at ');
    },
  );
});
