import { describe, expect, it } from 'vitest';
import { findCredentials, isCredentialName, redactCredentials } from '../../src/spec/credentials.ts';

const found = (v: unknown) => findCredentials(v).map((c) => [c.path, c.shape, c.name, c.secret]);

describe('credential-shaped values', () => {
  it('names: env vars, camelCase, dotted and dashed keys, but not tokenizer tokens or file paths', () => {
    for (const n of [
      'AWS_SECRET_ACCESS_KEY',
      'DB_PASSWORD',
      'hf_token',
      'dbPassword',
      'sasl.password',
      'api-key',
    ])
      expect(isCredentialName(n), n).toBe(true);
    for (const n of ['PASSWORD_FILE', 'secretName', 'eos_token', 'max_tokens', 'AWS_ACCESS_KEY_ID', 'PWD'])
      expect(isCredentialName(n), n).toBe(false);
  });

  it('env values and parameters named like credentials, and map keys', () => {
    const spec = {
      env: [
        { name: 'AWS_SECRET_ACCESS_KEY', value: 'wJalrXUtnFEMI' },
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'API_TOKEN', value: '$(TOKEN_FROM_SECRET)' },
        { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
      parameters: [{ name: 'hf_token', value: 'hf_abc' }],
      data: { 'sasl.password': 'pw1', eos_token: '</s>' },
    };
    expect(found(spec)).toEqual([
      ['env[0].value', 'named', 'AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI'],
      ['parameters[0].value', 'named', 'hf_token', 'hf_abc'],
      ['data["sasl.password"]', 'named', 'sasl.password', 'pw1'],
    ]);
  });

  it('URI user-info with a password, anywhere in a string; a user alone or a reference is not one', () => {
    expect(found({ storageUri: 's3://AKIA:SECRETKEY@minio:9000/models' })).toEqual([
      ['storageUri', 'uri', 's3', 'AKIA:SECRETKEY'],
    ]);
    expect(found({ url: 'connect to postgres://u:PASSWORD@db/x now' })).toEqual([
      ['url', 'uri', 'postgres', 'u:PASSWORD'],
    ]);
    expect(
      found({ a: 'ssh://git@github.com/x', b: 'postgres://u:$(DB_PASS)@db', c: 'https://h/p?q=a@b' }),
    ).toEqual([]);
  });

  it('flags: joined, as the next list item, and inside a shell command', () => {
    const args = [
      '--password=hunter2',
      '--token',
      'ghp_x',
      '--verbose',
      '--api-key',
      '$(API_KEY)',
      '--port',
      '80',
    ];
    expect(found({ args })).toEqual([
      ['args[0]', 'flag', 'password', 'hunter2'],
      ['args[2]', 'flag', 'token', 'ghp_x'],
    ]);
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell reference, on purpose
      found({ command: ['sh', '-c', 'serve --db-password "s3cr3t" --port 80 --token=${TOKEN}'] }),
    ).toEqual([['command[2]', 'flag', 'db-password', '"s3cr3t"']]);
    expect(found({ args: ['--password-file', '/etc/pw', '--token'] })).toEqual([]);
  });

  it('redaction replaces only the credential, and judges a part in its place', () => {
    const replace = () => '***';
    expect(redactCredentials('postgres://u:pw@db:5432/x --password=p', replace)).toBe(
      'postgres://***@db:5432/x --password=***',
    );
    expect(redactCredentials(['--token', 't', 'x'], replace)).toEqual(['--token', '***', 'x']);
    expect(redactCredentials('plain', replace, { key: 'value', parent: { name: 'DB_PASSWORD' } })).toBe(
      '***',
    );
    expect(redactCredentials('plain', replace, { key: 'value', parent: { name: 'LOG_LEVEL' } })).toBe(
      'plain',
    );
  });
});
