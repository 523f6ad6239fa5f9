import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { drainRoutes } from '../../../src/runtime/agent/drain-routes.ts';

const req = (method: string, remoteAddress: string, authorization?: string) =>
  ({
    method,
    socket: { remoteAddress },
    headers: authorization ? { authorization } : {},
  }) as http.IncomingMessage;

describe('drain routes', () => {
  it('POST from inside the pod drains once; other methods 405; other pods 403', async () => {
    let drains = 0;
    const routes = drainRoutes({ drain: async () => ++drains > 0 });
    for (const method of ['GET', 'OPTIONS', 'HEAD', 'PUT'])
      expect(await routes['/terminate'](req(method, '127.0.0.1'))).toMatchObject({
        status: 405,
        headers: { allow: 'POST' },
      });
    expect(await routes['/terminate'](req('POST', '10.1.2.3'))).toMatchObject({ status: 403 });
    expect(await routes['/terminate'](req('POST', '::ffff:10.1.2.3'))).toMatchObject({ status: 403 });
    expect(drains).toBe(0);
    expect(await routes['/terminate'](req('POST', '::ffff:127.0.0.1'))).toEqual({
      status: 200,
      body: { drained: true },
    });
    expect(await routes['/terminate'](req('POST', '::1'))).toEqual({ status: 200, body: { drained: true } });
    expect(drains).toBe(1);
  });

  it('with a control secret, loopback alone is not enough', async () => {
    let drains = 0;
    const routes = drainRoutes({ drain: async () => ++drains > 0, secret: 's3cret' });
    expect(await routes['/terminate'](req('POST', '127.0.0.1'))).toMatchObject({ status: 403 });
    expect(await routes['/terminate'](req('POST', '127.0.0.1', 'Bearer nope'))).toMatchObject({
      status: 403,
    });
    expect(await routes['/terminate'](req('POST', '10.0.0.1', 'Bearer s3cret'))).toMatchObject({
      status: 200,
    });
    expect(drains).toBe(1);
  });

  it('/drained waits for the drain the agent hook starts, and starts none itself', async () => {
    let finish: (ok: boolean) => void = () => {};
    const routes = drainRoutes({ drain: () => new Promise((r) => (finish = r)), waitForStartMs: 50 });
    expect(await routes['/drained'](req('GET', '10.0.0.1'))).toEqual({
      status: 200,
      body: { drained: false, draining: false },
    });
    const waiting = routes['/drained'](req('GET', '10.0.0.1'));
    const terminating = routes['/terminate'](req('POST', '127.0.0.1'));
    finish(true);
    expect(await waiting).toEqual({ status: 200, body: { drained: true } });
    expect(await terminating).toEqual({ status: 200, body: { drained: true } });
    expect(await routes['/drained'](req('POST', '127.0.0.1'))).toMatchObject({ status: 405 });
  });
});
