import { describe, expect, it } from 'vitest';
import { scrubServerDetail, upstreamErrorMessage } from '../../../src/runtime/oip/errors.ts';
import { jsonDepthExceeds } from '../../../src/runtime/oip/json-depth.ts';
import {
  checkHeaderValues,
  checkRequestId,
  decodePathSegment,
} from '../../../src/runtime/oip/request-text.ts';
import { flattenInto } from '../../../src/runtime/oip/validate.ts';

const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

describe('JSON depth', () => {
  it('counts levels of arrays and objects, up to the limit and not beyond', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds(nested(3), 3)).toBe(false);
    expect(jsonDepthExceeds(nested(4), 3)).toBe(true);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: [] }] }, 3)).toBe(true);
  });

  it('walks a million levels without exhausting the stack', () => {
    expect(jsonDepthExceeds(nested(1e6))).toBe(true);
    const out: unknown[] = [];
    flattenInto(JSON.parse(`${'['.repeat(1e6)}7${']'.repeat(1e6)}`), out);
    expect(out).toEqual([7]);
  });

  it('flattens in row-major order', () => {
    const out: unknown[] = [];
    flattenInto([[1, [2, 3]], 4, [[5], []], 6], out);
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('server detail scrubbing', () => {
  it.each([
    [
      'Traceback (most recent call last):\n  File "/opt/app/model.py", line 3, in predict\nKeyError: \'x\'',
      "KeyError: 'x'",
    ],
    [
      "[Errno 2] No such file or directory: '/mnt/models/iris/model.joblib'",
      "[Errno 2] No such file or directory: '<path>'",
    ],
    ['Error: boom\n    at run (/app/lib/server.js:10:5)\n    at /app/lib/x.js:1:1', 'Error: boom'],
    ['cannot open C:\\models\\iris.pkl', 'cannot open <path>'],
    // What callers can act on stays: OIP paths, URLs, relative names, plain messages.
    ['no model at /v2/models/iris/infer', 'no model at /v2/models/iris/infer'],
    ['see https://example.org/docs/errors', 'see https://example.org/docs/errors'],
    [
      'X has 3 features, but LogisticRegression is expecting 4',
      'X has 3 features, but LogisticRegression is expecting 4',
    ],
  ])('%j', (text, scrubbed) => {
    expect(scrubServerDetail(text)).toBe(scrubbed);
  });

  it('applies to plain-text bodies and OIP error bodies alike', () => {
    const traceback =
      'Traceback (most recent call last):\n  File "/srv/m.py", line 1, in f\nValueError: bad /srv/data/x.bin';
    expect(upstreamErrorMessage(500, Buffer.from(traceback), 'model "m"')).toBe(
      'model "m": ValueError: bad <path>',
    );
    expect(upstreamErrorMessage(500, Buffer.from(JSON.stringify({ error: traceback })), 'model "m"')).toBe(
      'ValueError: bad <path>',
    );
  });
});

describe('request text', () => {
  it('decodes good path segments and refuses bad ones with 400', () => {
    expect(decodePathSegment('caf%C3%A9')).toBe('café');
    expect(() => decodePathSegment('%FF%FE')).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('request ids: printable ASCII, no spaces, 128 characters at most', () => {
    expect(checkRequestId('0f8a-42', 'x-request-id')).toBe('0f8a-42');
    for (const bad of ['', 'a b', 'é', 'x'.repeat(129), 'tab\there'])
      expect(() => checkRequestId(bad, 'x-request-id')).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('header values: visible ASCII, spaces and tabs', () => {
    expect(() => checkHeaderValues({ a: 'text/plain; q=1', b: ['x\ty'] })).not.toThrow();
    expect(() => checkHeaderValues({ 'x-name': 'caf\u00e9' })).toThrow(/header x-name holds characters/);
    expect(() => checkHeaderValues({ 'x-ctl': ['ok', 'bell\u0007'] })).toThrow(/header x-ctl/);
  });
});
