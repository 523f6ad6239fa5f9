import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';

export interface KubeScoreFinding {
  /** kube-score's check id, e.g. `container-ephemeral-storage-request-and-limit`. */
  check: string;
  /** `Kind namespace/name` (namespace empty for cluster-scoped objects). */
  object: string;
  /** What the finding is about inside the object (a container name), or empty. */
  path: string;
  message: string;
  /** `critical` or `warning`, as kube-score grades them. */
  grade: 'critical' | 'warning';
}

interface Report {
  type_meta: { kind: string };
  object_meta: { name: string; namespace?: string };
  checks: {
    check: { id: string };
    grade: number;
    skipped: boolean;
    comments: { path: string; summary: string }[] | null;
  }[];
}

/** kube-score grades: 1 critical, 5 warning, 7 almost OK, 10 OK. */
const CRITICAL = 1;
const OK = 10;

export function kubeScoreBinary(): string {
  const dir = cachePath('kube-score', `v${pinnedVersion('KUBE_SCORE_VERSION')}`);
  return join(provisioned('kube-score', dir), 'kube-score');
}

/** Runs `kube-score score -o json` on YAML files and returns every finding below OK. */
export async function runKubeScore(files: string[], kubernetesVersion: string): Promise<KubeScoreFinding[]> {
  // kube-score exits 1 when it has findings: that is a result, not a failure.
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
    execFile(
      kubeScoreBinary(),
      ['score', '--kubernetes-version', kubernetesVersion, '-o', 'json', ...files],
      { maxBuffer: 64 << 20 },
      (_err, out, errOut) => resolve({ stdout: out, stderr: errOut }),
    );
  });
  let reports: Report[];
  try {
    reports = JSON.parse(stdout);
  } catch {
    throw new Error(`kube-score gave no JSON output: ${stderr || stdout}`);
  }
  const findings: KubeScoreFinding[] = [];
  for (const r of reports) {
    const object = `${r.type_meta.kind} ${r.object_meta.namespace ?? ''}/${r.object_meta.name}`;
    for (const c of r.checks) {
      if (c.skipped || c.grade >= OK) continue;
      const grade = c.grade <= CRITICAL ? 'critical' : 'warning';
      for (const comment of c.comments ?? [{ path: '', summary: '' }]) {
        findings.push({ check: c.check.id, object, path: comment.path, message: comment.summary, grade });
      }
    }
  }
  return findings.sort((a, b) =>
    `${a.object} ${a.check} ${a.path}`.localeCompare(`${b.object} ${b.check} ${b.path}`),
  );
}
