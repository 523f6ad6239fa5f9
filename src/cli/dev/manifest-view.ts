import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadManifests } from '../../review/manifests.ts';
import { isMlopsApiVersion } from '../../spec/objects.ts';
import type { KubeObject } from '../../spec/types.ts';

/**
 * The objects of one namespace, copied from the app folder into a folder of their own and kept
 * up to date: the scheduler's local mode reads every file of a folder, whatever its namespace.
 */
export class ManifestView {
  readonly dir: string;
  private last = '';
  private lastError = '';
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly source: string,
    private readonly namespace: string,
    workDir: string,
    private readonly onError: (message: string) => void,
    /** Applied to the objects read (e.g. pointing Models at local copies). */
    private readonly transform: (objects: KubeObject[]) => KubeObject[] = (o) => o,
  ) {
    this.dir = join(workDir, 'manifests');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Writes the current objects; a change to the app folder is copied within `pollMs`. */
  start(objects: KubeObject[], pollMs = 500): void {
    this.write(objects);
    this.timer = setInterval(() => this.refresh(), pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private refresh(): void {
    let objects: KubeObject[];
    try {
      objects = this.transform(loadManifests([this.source]).map((m) => m.object));
    } catch (err) {
      // Half-written files during a synth: keep what the scheduler has, say so once.
      const message = `${(err as Error).message}; keeping the previous objects`;
      if (message !== this.lastError) this.onError(message);
      this.lastError = message;
      return;
    }
    this.lastError = '';
    this.write(objects);
  }

  private write(objects: KubeObject[]): void {
    const text = objects
      .filter(
        (o) => isMlopsApiVersion(o.apiVersion) && (o.metadata.namespace ?? 'default') === this.namespace,
      )
      .map((o) => YAML.stringify(o))
      .join('---\n');
    if (text === this.last) return;
    this.last = text;
    const file = join(this.dir, 'manifests.yaml');
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}
