import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { API_GROUP } from '../spec/types.ts';

/** The Lua health check of each kind, under the package's `argocd/health/`. */
export const HEALTH_SCRIPTS = {
  Model: 'conditions.lua',
  Server: 'conditions.lua',
  Pipeline: 'conditions.lua',
  Experiment: 'conditions.lua',
  ServerConfig: 'serverconfig.lua',
} as const;

/** The text of a shipped health script (this module sits two folders below the package root,
 * in src/cli or lib/cli). */
export function healthScript(file: string): string {
  return readFileSync(new URL(`../../argocd/health/${file}`, import.meta.url), 'utf8');
}

/** The `argocd-cm` entries: `resource.customizations.health.<group>_<Kind>` → its script. */
export function healthCustomizations(): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [kind, file] of Object.entries(HEALTH_SCRIPTS)) {
    data[`resource.customizations.health.${API_GROUP}_${kind}`] = healthScript(file);
  }
  return data;
}

/** The argocd-cm ConfigMap holding only those entries: merge it into Argo CD's own. */
export function argocdConfigMapYaml(namespace: string): string {
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'argocd-cm',
      namespace,
      labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' },
    },
    data: healthCustomizations(),
  };
  return `# Argo CD health checks for ${API_GROUP} resources (Model, Server, Pipeline, Experiment,\n# ServerConfig). Merge into argocd-cm, e.g. as a kustomize patch. Printed by \`mlops argocd-health\`.\n${stringify(configMap, { lineWidth: 0 })}`;
}

export function register(program: Command): void {
  program
    .command('argocd-health')
    .description(
      `print the argocd-cm ConfigMap entries that give Argo CD health checks (Lua) for every ${API_GROUP} kind`,
    )
    .option('-n, --namespace <ns>', "Argo CD's namespace", 'argocd')
    .addHelpText(
      'after',
      '\nExamples:\n  mlops argocd-health > argocd-cm-health.yaml   # then merge it into argocd-cm (kustomize patch)\n  kubectl -n argocd patch configmap argocd-cm --type merge --patch-file <(mlops argocd-health)',
    )
    .action((opts: { namespace: string }) => {
      process.stdout.write(argocdConfigMapYaml(opts.namespace));
    });
}
