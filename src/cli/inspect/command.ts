import { type Command, Option } from 'commander';
import { HEADER_REQUEST_ID } from '../../spec/headers.ts';
import { DEFAULT_NAMING } from '../../spec/topics.ts';
import { CliError } from '../errors.ts';
import { addKafkaSecurityOptions, kafkaSecurityFromOptions } from '../kafka-security-options.ts';
import { type DecodedRecord, decodeRecord, formatText, withTensor } from './inspect-format.ts';
import { parseInspectPath, topicsFor } from './inspect-path.ts';
import { TopicReader } from './topic-reader.ts';

interface InspectOptions {
  kafka?: string;
  namespace: string;
  topicPrefix: string;
  requestId?: string;
  n: string;
  format: 'text' | 'json';
  scan: string;
  timeoutMs: string;
  [kafkaSecurityOption: string]: unknown;
}

export function register(program: Command): void {
  const command = program
    .command('inspect')
    .description("print the latest messages of a pipeline's Kafka topics, with their tensors decoded")
    .argument(
      '<path>',
      'PIPELINE, PIPELINE.inputs|outputs[.TENSOR], or PIPELINE.STEP[.inputs|outputs[.TENSOR]]',
    )
    .option('--kafka <brokers>', 'Kafka bootstrap servers (default: $MLOPS_KAFKA_BROKERS)')
    .option('--namespace <ns>', 'namespace in the topic names', DEFAULT_NAMING.namespace)
    .option('--topic-prefix <prefix>', 'topic prefix', DEFAULT_NAMING.prefix)
    .option('--request-id <id>', 'only messages of this request (record key or x-request-id header)')
    .option('-n <count>', 'latest messages per topic', '1')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--scan <count>', 'how many of the last records of each partition to search', '1000')
    .option('--timeout-ms <ms>', 'give up reading after this long', '15000');
  addKafkaSecurityOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  mlops inspect fraud --kafka 127.0.0.1:9092 --namespace prod
  mlops inspect fraud.scorer.outputs.probs -n 5
  mlops inspect fraud.outputs --request-id 3f0c… --format json
  MLOPS_KAFKA_PASSWORD=… mlops inspect fraud --kafka kafka:9093 --kafka-ca ca.crt \\
    --kafka-sasl-mechanism scram-sha-512 --kafka-user fraud-reader`,
    )
    .action(async (pathArg: string, opts: InspectOptions) => {
      const out = await runInspect(pathArg, opts, process.env);
      process.stdout.write(out);
    });
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`inspect: ${flag} "${value}" must be a positive integer`, 2);
  return n;
}

/** Reads and renders; throws a CliError (exit 1) when no message matches. */
export async function runInspect(
  pathArg: string,
  opts: InspectOptions,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  let path: ReturnType<typeof parseInspectPath>;
  try {
    path = parseInspectPath(pathArg);
  } catch (err) {
    throw new CliError(`inspect: ${(err as Error).message}`, 2);
  }
  const latest = positive('-n', opts.n);
  const scan = positive('--scan', opts.scan);
  const timeoutMs = positive('--timeout-ms', opts.timeoutMs);
  const brokers = (opts.kafka ?? env.MLOPS_KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) {
    throw new CliError(
      'inspect: give --kafka HOST:PORT (or set MLOPS_KAFKA_BROKERS); pipelines that `mlops dev` runs on its in-process bus cannot be read from outside, start it with --kafka',
      2,
    );
  }
  const security = kafkaSecurityFromOptions('inspect', opts, env);
  const naming = { prefix: opts.topicPrefix, namespace: opts.namespace };
  let reader: TopicReader;
  try {
    reader = new TopicReader(brokers, security);
  } catch (err) {
    throw new CliError(`inspect: ${(err as Error).message}`, 2);
  }
  try {
    let existing: string[];
    try {
      existing = await reader.listTopics();
    } catch (err) {
      throw new CliError(`inspect: ${(err as Error).message}`, 1);
    }
    const selections = topicsFor(path, naming, existing);
    // A pipeline's own topics (or the step's model topics) must exist; other model topics may not.
    const required = path.step ? selections : selections.filter((s) => !s.pipelineHeader);
    const missing = required.filter((s) => !existing.includes(s.topic)).map((s) => s.topic);
    if (missing.length > 0) {
      const nearby = existing.filter((t) => t.startsWith(`${naming.prefix}.${naming.namespace}.`));
      throw new CliError(
        `inspect ${pathArg}: no topic ${missing.join(', ')} on ${brokers.join(',')}; ` +
          (nearby.length
            ? `topics of namespace ${naming.namespace}: ${nearby.join(', ')}`
            : `nothing under ${naming.prefix}.${naming.namespace}. (check --namespace and --topic-prefix)`),
        1,
      );
    }
    let records: Awaited<ReturnType<TopicReader['readLatest']>>;
    try {
      records = await reader.readLatest(
        selections.map((s) => s.topic),
        { scan, timeoutMs },
      );
    } catch (err) {
      throw new CliError(`inspect: ${(err as Error).message}`, 1);
    }
    const shown: DecodedRecord[] = [];
    for (const sel of selections) {
      const matching = records
        .filter((r) => r.topic === sel.topic)
        .filter((r) => !sel.pipelineHeader || r.headers.pipeline === sel.pipelineHeader)
        .filter(
          (r) =>
            !opts.requestId || r.key === opts.requestId || r.headers[HEADER_REQUEST_ID] === opts.requestId,
        )
        .sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset)
        .map(decodeRecord)
        .map((r) => withTensor(r, path.tensor))
        .filter((r): r is DecodedRecord => r !== undefined);
      shown.push(...matching.slice(-latest));
    }
    if (shown.length === 0) {
      throw new CliError(
        `inspect ${pathArg}: no messages${opts.requestId ? ` of request ${opts.requestId}` : ''}${path.tensor ? ` with tensor ${path.tensor}` : ''} ` +
          `in the last ${scan} records of ${selections.map((s) => s.topic).join(', ')}`,
        1,
      );
    }
    return opts.format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : `${formatText(shown)}\n`;
  } finally {
    await reader.close().catch(() => {});
  }
}
