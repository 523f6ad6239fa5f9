import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';

export interface KubeLinterFinding {
  check: string;
  /** `Kind namespace/name` (namespace empty for cluster-scoped objects). */
  object: string;
  message: string;
}

export interface KubeLinterResult {
  findings: KubeLinterFinding[];
  /** kube-linter's own JSON output. */
  raw: string;
}

/**
 * Why kube-linter could not be provisioned on this machine (the provisioning script records a
 * registry refusal), or undefined when nothing was recorded.
 */
export function kubeLinterUnavailableReason(): string | undefined {
  const file = cachePath('kube-linter', 'UNAVAILABLE');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export function kubeLinterBinary(): string {
  const dir = cachePath('kube-linter', `v${pinnedVersion('KUBE_LINTER_VERSION')}`);
  const reason = kubeLinterUnavailableReason();
  if (reason && !existsSync(join(dir, '.stamp'))) {
    throw new Error(`kube-linter is unavailable on this machine: ${reason}`);
  }
  return join(provisioned('kube-linter', dir), 'kube-linter');
}

interface Report {
  Check: string;
  Diagnostic: { Message: string };
  Object: {
    K8sObject: { Namespace?: string; Name: string; GroupVersionKind: { Kind: string } };
  };
}

/** Runs `kube-linter lint --format json` on files or folders and returns its findings. */
export async function runKubeLinter(paths: string[]): Promise<KubeLinterResult> {
  const binary = kubeLinterBinary();
  // kube-linter exits 1 when it has findings: that is a result, not a failure.
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>(
    (resolve) => {
      execFile(
        binary,
        ['lint', '--format', 'json', ...paths],
        { maxBuffer: 64 << 20 },
        (err, out, errOut) => {
          const c = err ? Number((err as { code?: number }).code ?? 2) : 0;
          resolve({ stdout: out, stderr: errOut, code: c });
        },
      );
    },
  );
  let parsed: { Reports?: Report[] | null };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`kube-linter exited ${code} without JSON output: ${stderr || stdout}`);
  }
  const findings = (parsed.Reports ?? []).map((r) => {
    const o = r.Object.K8sObject;
    return {
      check: r.Check,
      object: `${o.GroupVersionKind.Kind} ${o.Namespace ?? ''}/${o.Name}`,
      message: r.Diagnostic.Message,
    };
  });
  findings.sort((a, b) =>
    `${a.object} ${a.check} ${a.message}`.localeCompare(`${b.object} ${b.check} ${b.message}`),
  );
  return { findings, raw: stdout };
}
