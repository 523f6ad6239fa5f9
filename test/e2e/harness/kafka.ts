import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';
import { makeCertificates, makeUser, type SecuredListeners, securedBrokerConfig } from './kafka-tls.ts';
import { freePort } from './ports.ts';
import { logContains, type ManagedProcess, startProcess, waitUntilReady } from './process.ts';

export interface KafkaBroker {
  brokers: string[];
  /** Stops the broker and deletes its storage; the log directory is kept. */
  stop(): Promise<void>;
  /** Stops the broker gracefully and starts it again on the same ports and storage. */
  restart(): Promise<void>;
  /** Takes the broker down, gracefully (SIGTERM, controlled shutdown) or with SIGKILL; storage stays. */
  down(how: 'graceful' | 'kill'): Promise<void>;
  /** Starts a broker taken down by `down` again, on the same ports and storage; resolves once it serves. */
  up(): Promise<void>;
  logDir: string;
  /** The SASL_SSL and mutual-TLS listeners, when started with `secured`. */
  secured?: SecuredListeners;
}

export interface KafkaOptions {
  /** Also listen with SASL_SSL and with SSL requiring client certificates (certificates made with openssl). */
  secured?: boolean;
}

const STARTUP_TIMEOUT_MS = 90_000;

function kafkaLibs(): string {
  const dir = cachePath('kafka', `${pinnedVersion('KAFKA_SCALA_VERSION')}-${pinnedVersion('KAFKA_VERSION')}`);
  return join(provisioned('kafka', dir), 'libs');
}

/**
 * A Kafka cluster id: 16 random bytes, base64url without padding. One in 64 begins with `-`,
 * which kafka-storage's argument parser takes for an option: draw again, as Kafka's own ids do.
 */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

const jvmOptions = [
  '-Xms128m',
  '-Xmx512m',
  '-Djava.awt.headless=true',
  // Quick start on a small machine matters more than peak throughput here.
  '-XX:TieredStopAtLevel=1',
  '-XX:+UseSerialGC',
];

/**
 * Starts a single-node Kafka (KRaft: broker and controller in one process) on free 127.0.0.1
 * ports, with storage formatted in a fresh temporary directory.
 */
export async function startKafka(options: KafkaOptions = {}): Promise<KafkaBroker> {
  const libs = kafkaLibs();
  const classpath = `${libs}/*`;
  const dir = mkdtempSync(join(tmpdir(), 'mlops-e2e-kafka-'));
  const logDir = join(dir, 'logs');
  const dataDir = join(dir, 'data');
  mkdirSync(logDir);
  const [port, controllerPort] = [await freePort(), await freePort()];
  let secured: SecuredListeners | undefined;
  let extra: ReturnType<typeof securedBrokerConfig> = {
    listeners: [],
    protocols: [],
    properties: [],
    formatArgs: [],
  };
  if (options.secured) {
    const ports = { saslSsl: await freePort(), mtls: await freePort() };
    const certificates = makeCertificates(join(dir, 'tls'));
    const login = makeUser();
    extra = securedBrokerConfig(ports, certificates, login);
    secured = {
      saslSsl: `127.0.0.1:${ports.saslSsl}`,
      mtls: `127.0.0.1:${ports.mtls}`,
      certificates,
      ...login,
    };
  }
  const listeners = [`PLAINTEXT://127.0.0.1:${port}`, ...extra.listeners];
  const config = join(dir, 'server.properties');
  writeFileSync(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=${[...listeners, `CONTROLLER://127.0.0.1:${controllerPort}`].join(',')}`,
      `advertised.listeners=${listeners.join(',')}`,
      'controller.listener.names=CONTROLLER',
      `listener.security.protocol.map=${['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...extra.protocols].join(',')}`,
      ...extra.properties,
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=true',
      '',
    ].join('\n'),
  );
  const log4j = join(dir, 'log4j.properties');
  writeFileSync(
    log4j,
    [
      'log4j.rootLogger=INFO, out',
      'log4j.appender.out=org.apache.log4j.ConsoleAppender',
      'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.org.apache.kafka.clients=WARN',
      '',
    ].join('\n'),
  );
  const java = ['-cp', classpath, ...jvmOptions, `-Dlog4j.configuration=file:${log4j}`];

  const format = spawnSync(
    'java',
    [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', config, ...extra.formatArgs],
    { encoding: 'utf8' },
  );
  writeFileSync(join(logDir, 'format.log'), `${format.stdout ?? ''}${format.stderr ?? ''}`);
  if (format.status !== 0) {
    throw new Error(
      `Kafka storage format failed (exit ${format.status}): ${format.stderr || format.stdout || format.error}`,
    );
  }

  let generation = 0;
  let proc: ManagedProcess | undefined;
  const launch = async () => {
    generation += 1;
    const logFile = join(logDir, `kafka-${generation}.log`);
    proc = startProcess('kafka', 'java', [...java, 'kafka.Kafka', config], { logFile });
    const started = proc;
    await waitUntilReady(
      started,
      `Kafka broker on 127.0.0.1:${port}`,
      async () => logContains(started.logFile, 'Kafka Server started'),
      STARTUP_TIMEOUT_MS,
    );
  };
  await launch();

  return {
    brokers: [`127.0.0.1:${port}`],
    logDir,
    secured,
    async stop() {
      await proc?.stop(15_000);
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await proc?.stop(30_000);
      await launch();
    },
    async down(how) {
      if (how === 'graceful') {
        await proc?.stop(30_000);
        return;
      }
      // SIGKILL: no controlled shutdown, open transactions and unflushed segments are left as they are.
      if (proc?.isRunning()) process.kill(-proc.pid, 'SIGKILL');
      await proc?.exited;
    },
    up: launch,
  };
}
