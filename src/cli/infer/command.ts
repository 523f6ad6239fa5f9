import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { HEADER_MODEL, HEADER_ROUTE } from '../../spec/headers.ts';
import { CliError } from '../errors.ts';
import { DEFAULT_GATEWAY } from '../local-gateway.ts';
import { parseHeaderFlags } from './headers.ts';
import { loadInferData } from './infer-data.ts';
import { parseTarget } from './infer-target.ts';
import { defaultStickyFile, StickyState } from './sticky-state.ts';

export interface InferOptions {
  gateway?: string;
  pipeline?: boolean;
  header: string[];
  sticky?: boolean;
  showHeaders?: boolean;
  timeoutMs: string;
}

export interface InferIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
  env: NodeJS.ProcessEnv;
}

export function register(program: Command): void {
  program
    .command('infer')
    .description(
      'send an Open Inference Protocol request to a model, pipeline or experiment through the gateway',
    )
    .argument('<target>', 'MODEL, PIPELINE.pipeline (or PIPELINE with --pipeline), or EXPERIMENT.experiment')
    .argument('<data>', 'OIP request JSON, @FILE, or - for stdin')
    .option('--gateway <url>', `gateway URL (default: $MLOPS_GATEWAY or ${DEFAULT_GATEWAY})`)
    .option('--pipeline', 'the target is a pipeline')
    .option('--header <name=value>', 'extra request header (repeatable)', collect, [])
    .option(
      '-s, --sticky',
      `replay the ${HEADER_ROUTE} saved from the previous --sticky call and save the new one`,
    )
    .option('--show-headers', 'print the response headers (to stderr)')
    .option('--timeout-ms <ms>', 'give up after this long', '60000')
    .addHelpText(
      'after',
      `
Examples:
  mlops infer iris '{"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2]]}]}'
  mlops infer fraud.pipeline @request.json --header x-team=risk
  cat request.json | mlops infer iris-ab.experiment - --sticky --show-headers`,
    )
    .action(async (target: string, data: string, opts: InferOptions) => {
      await runInfer(target, data, opts, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        readStdin: () => readFileSync(0, 'utf8'),
        env: process.env,
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Sends the request; prints the response body; throws a CliError (exit 1) on a 4xx/5xx. */
export async function runInfer(
  targetArg: string,
  dataArg: string,
  opts: InferOptions,
  io: InferIo,
): Promise<void> {
  const usage = (err: unknown) => new CliError(`infer: ${(err as Error).message}`, 2, { cause: err });
  let target: ReturnType<typeof parseTarget>;
  let body: Record<string, unknown>;
  let extra: Record<string, string>;
  try {
    target = parseTarget(targetArg, { pipeline: opts.pipeline });
    extra = parseHeaderFlags(opts.header ?? []);
    body = loadInferData(dataArg, io.readStdin);
  } catch (err) {
    throw usage(err);
  }
  const gateway = (opts.gateway ?? io.env.MLOPS_GATEWAY ?? DEFAULT_GATEWAY).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(target.path, `${gateway}/`);
  } catch {
    throw new CliError(`infer: --gateway "${gateway}" is not a URL; use e.g. ${DEFAULT_GATEWAY}`, 2);
  }
  const timeoutMs = Number(opts.timeoutMs);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CliError(
      `infer: --timeout-ms "${opts.timeoutMs}" must be a positive number of milliseconds`,
      2,
    );
  }
  const sticky = opts.sticky ? new StickyState(defaultStickyFile(io.env)) : undefined;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [HEADER_MODEL]: target.routeKey,
  };
  const saved = sticky?.get(gateway, target.routeKey);
  if (saved) headers[HEADER_ROUTE] = saved;
  Object.assign(headers, extra);

  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new CliError(
      `infer ${target.routeKey}: cannot reach the gateway at ${gateway} (${why}); is \`mlops dev\` running? ` +
        'Set --gateway or MLOPS_GATEWAY to its URL',
      1,
      { cause: err },
    );
  }
  const text = await res.text();
  if (opts.showHeaders) {
    const lines = [`HTTP ${res.status} ${res.statusText}`];
    for (const [k, v] of [...res.headers.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
      lines.push(`${k}: ${v}`);
    io.stderr(`${lines.join('\n')}\n\n`);
  }
  if (!res.ok) {
    throw new CliError(`infer ${target.routeKey}: HTTP ${res.status}: ${errorMessage(text)}`, 1);
  }
  const route = res.headers.get(HEADER_ROUTE);
  if (sticky && route) sticky.set(gateway, target.routeKey, route);
  io.stdout(`${pretty(text)}\n`);
}

/** The OIP error body's message (`{"error": "..."}`), else the raw text. */
function errorMessage(text: string): string {
  try {
    const value = JSON.parse(text) as { error?: unknown };
    if (typeof value?.error === 'string') return value.error;
  } catch {
    // not JSON
  }
  return text.trim() || '(empty response)';
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
