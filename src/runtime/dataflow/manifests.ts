import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { API_VERSION, type PipelineResource } from '../../spec/types.ts';

/** Every Pipeline custom resource in the YAML/JSON files under `dir` (recursively), sorted by name. */
export function readPipelines(dir: string, namespace?: string): PipelineResource[] {
  const out: PipelineResource[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ya?ml|json)$/.test(name)) {
        for (const doc of YAML.parseAllDocuments(readFileSync(path, 'utf8'))) {
          if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
          const obj = doc.toJS() as Partial<PipelineResource> | null;
          if (obj?.apiVersion !== API_VERSION || obj.kind !== 'Pipeline') continue;
          if (namespace && (obj.metadata?.namespace ?? 'default') !== namespace) continue;
          if (!obj.metadata?.name || !Array.isArray(obj.spec?.steps)) {
            throw new Error(`${path}: Pipeline needs metadata.name and spec.steps`);
          }
          out.push(obj as PipelineResource);
        }
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
