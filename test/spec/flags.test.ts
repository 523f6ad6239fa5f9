import { describe, expect, it } from 'vitest';
import {
  COMPONENT_FLAGS,
  COMPONENTS,
  type Component,
  componentArgv,
  type Flag,
  FlagError,
  parseFlags,
  usage,
} from '../../src/spec/flags.ts';

const table = (c: Component): Record<string, Flag> => COMPONENT_FLAGS[c];

/** A value for every flag that differs from its default, of the flag's type. */
function nonDefaults(c: Component): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(table(c)).map(([name, flag], i) => {
      if (flag.type === 'int') return [name, Number(flag.default ?? 0) + i + 1];
      if (flag.type === 'bool') return [name, !flag.default];
      if (flag.type === 'list') return [name, [`${name}-a`, `${name}-b`]];
      if (flag.type === 'repeated') return [name, [`h${i}:1:2`, `-h${i}:3:4`]];
      return [name, `-value of ${name}`];
    }),
  );
}

describe('component flags', () => {
  it.each(COMPONENTS)('%s: parse(componentArgv(values)) gives the values back', (c) => {
    const values = nonDefaults(c);
    const argv = componentArgv(c, values);
    expect(argv[0]).toBe(c);
    expect(parseFlags(c, argv.slice(1))).toEqual(values);
  });

  it.each(COMPONENTS)('%s: the defaults also go round, and none is rendered twice', (c) => {
    const defaults = parseFlags(c, []);
    for (const [name, flag] of Object.entries(table(c))) {
      const expected = Array.isArray(flag.default) ? [...flag.default] : flag.default;
      expect(defaults[name as keyof typeof defaults]).toEqual(expected);
    }
    expect(parseFlags(c, componentArgv(c, defaults).slice(1))).toEqual(defaults);
  });

  it('renders flags in the order given, a $(VAR) as is, and names a flag the component lacks', () => {
    expect(
      componentArgv('dataflow', {
        partitions: '$(MLOPS_KAFKA_PARTITIONS)',
        manifests: '/p',
        roles: ['engine'],
      }),
    ).toEqual([
      'dataflow',
      '--partitions',
      '$(MLOPS_KAFKA_PARTITIONS)',
      '--manifests',
      '/p',
      '--roles',
      'engine',
    ]);
    expect(
      componentArgv('scheduler', { kubernetes: true, 'no-model-autoscaling': false, manifests: undefined }),
    ).toEqual(['scheduler', '--kubernetes']);
    expect(() => componentArgv('gateway', { replica: 1 } as never)).toThrow('gateway has no flag --replica');
  });

  it('reads env vars when a flag is absent; the flag wins', () => {
    const env = {
      MLOPS_GATEWAY_HTTP_PORT: '8080',
      MLOPS_SCHEDULER_ADDRESS: 's:1',
      LOG_LEVEL: 'debug',
    };
    const gw = parseFlags('gateway', ['--scheduler', 'other:2'], env);
    expect(gw['http-port']).toBe(8080);
    expect(gw.scheduler).toBe('other:2');
    expect(gw['log-level']).toBe('debug');
    const agent = parseFlags('agent', [], {
      SELDON_SCALING_STATS_PERIOD_SECONDS: '5',
      SELDON_SERVER_CAPABILITIES: 'sklearn, xgboost,',
    });
    expect(agent['scaling-period-ms']).toBe(5000);
    expect(agent.capabilities).toEqual(['sklearn', 'xgboost']);
  });

  it('names every value that is not a whole number, from a flag or an env var', () => {
    const bad = () => parseFlags('scheduler', ['--port', '90x1', '--batch-ms=1.5'], {});
    expect(bad).toThrow(FlagError);
    expect(bad).toThrow(
      'scheduler: --port must be a whole number, got "90x1"; --batch-ms must be a whole number, got "1.5"',
    );
    expect(() => parseFlags('gateway', [], { MLOPS_GATEWAY_GRPC_PORT: 'x' })).toThrow(
      'gateway: --grpc-port must be a whole number, got "x"',
    );
  });

  it('names an unknown flag', () => {
    expect(() => parseFlags('agent', ['--no-such-flag'])).toThrow("agent: Unknown option '--no-such-flag'");
  });

  it.each(COMPONENTS)('%s: the usage shows every flag with its help, default and env var', (c) => {
    const [first, ...rest] = usage(c).split('\n');
    expect(first).toBe(`usage: mlops-runtime ${c} [options]`);
    // Each flag's block: its line and the continuation lines under it.
    const blocks = rest.join('\n').split(/\n(?= {2}--)/);
    const names = Object.keys(table(c));
    expect(blocks.map((b) => /^ {2}--([\w-]+)/.exec(b)?.[1])).toEqual(names);
    names.forEach((name, i) => {
      const flag = table(c)[name];
      const block = blocks[i].replace(/\s+/g, ' ');
      expect(block).toContain(flag.help.replace(/\s+/g, ' '));
      if (flag.env) expect(block).toContain(`env ${flag.env}`);
      if (flag.type === 'int' && flag.default !== undefined)
        expect(block).toContain(`default ${flag.default}`);
      if (flag.defaultHelp) expect(block).toContain(`default ${flag.defaultHelp}`);
    });
  });
});
