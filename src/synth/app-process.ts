// The process `mlops synth` runs each app in (see run-app.ts): it loads and synthesizes one app
// file and sends the files, or why there are none, to its parent. An app that hangs, or exits
// on its own, then cannot take the CLI down with it.
import { type AppOutcome, describeThrown } from './app-outcome.ts';
import { loadApp } from './load-apps.ts';
import { SynthError, type SynthTarget, synthesizeApp } from './synthesize.ts';

const [file, target] = process.argv.slice(2);

async function outcome(): Promise<AppOutcome> {
  try {
    const files = synthesizeApp(await loadApp(file), { target: target as SynthTarget });
    return { kind: 'files', files: [...files] };
  } catch (err) {
    if (err instanceof SynthError)
      return { kind: 'invalid', message: `${file}: synthesis failed, ${err.message.trimEnd()}` };
    return describeThrown(file, err);
  }
}

const result = await outcome();
// Exit once the message is out, even if the app left timers or sockets open.
process.send?.(result, undefined, {}, () => process.exit(0));
