// One image, one entry point: `mlops-runtime <component> [options]`.
const components: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  gateway: () => import('./gateway/main.ts'),
  dataflow: () => import('./dataflow/main.ts'),
  scheduler: () => import('./scheduler/main.ts'),
  agent: () => import('./agent/main.ts'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? components[name] : undefined;
if (!load) {
  process.stderr.write(`usage: mlops-runtime <${Object.keys(components).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).main(rest);
