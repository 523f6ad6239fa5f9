import { basename, extname, join } from 'node:path';
import { App, type AppProps } from 'cdk8s';
import { writeOutput } from './output.ts';
import { isLoadingApps, registerApp } from './registry.ts';
import { synthesizeApp } from './synthesize.ts';

/**
 * The root of a cdk8s-mlops app: one app per file in `apps/`, synthesized to `dist/<app>/`.
 *
 * ```ts
 * const app = new MlopsApp();
 * // ...charts and constructs...
 * app.synth();
 * ```
 *
 * `mlops synth` imports the file and synthesizes the app itself (so `app.synth()` does nothing
 * then); running the file directly (`npx tsx apps/prod.ts`) writes the output right away.
 */
export class MlopsApp extends App {
  /**
   * @param props `outdir` defaults to `$CDK8S_OUTDIR`, else `dist/<name of the app file>`.
   */
  constructor(props: AppProps = {}) {
    super({ ...props, outdir: props.outdir ?? process.env.CDK8S_OUTDIR ?? defaultOutdir() });
    registerApp(this);
  }

  /**
   * Validates the app and writes its output folder (runtime target): every problem is reported
   * together in one SynthError and nothing is written then. Stale files are removed.
   */
  override synth(): void {
    if (isLoadingApps()) return;
    writeOutput(this.outdir, synthesizeApp(this));
  }
}

function defaultOutdir(): string {
  const main = process.argv[1];
  return main ? join('dist', basename(main, extname(main))) : 'dist';
}
