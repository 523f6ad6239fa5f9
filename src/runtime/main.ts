// One image, one entry point: `mlops-runtime <component> [options]`.
import type { Component } from '../spec/flags.ts';

const components: Record<Component, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  gateway: () => import('./gateway/main.ts'),
  dataflow: () => import('./dataflow/main.ts'),
  scheduler: () => import('./scheduler/main.ts'),
  agent: () => import('./agent/main.ts'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name && Object.hasOwn(components, name) ? components[name as Component] : undefined;
if (!load) {
  process.stderr.write(`usage: mlops-runtime <${Object.keys(components).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).main(rest);
