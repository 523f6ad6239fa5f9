import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from '../../../src/runtime/service/admin-server.ts';

describe('admin server', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const get = (path: string) => fetch(`http://127.0.0.1:${server?.port}${path}`);

  it('serves live, ready, metrics and the routes a component adds', async () => {
    const registry = new Registry();
    new Counter({ name: 'things_total', help: 'things', registers: [registry] }).inc(3);
    let ready = false;
    server = await startAdminServer({
      port: 0,
      host: '127.0.0.1',
      live: () => ({ status: 200, body: 'ok' }),
      ready: () => (ready ? { status: 200, body: { ready } } : { status: 503, body: { ready } }),
      metrics: registry,
      routes: { '/status': async () => ({ status: 200, body: '{\n  "a": 1\n}', type: 'application/json' }) },
    });
    expect(server.port).toBeGreaterThan(0);
    expect(await (await get('/live')).text()).toBe('ok');
    const notReady = await get('/ready?verbose');
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('content-type')).toBe('application/json');
    expect(await notReady.json()).toEqual({ ready: false });
    ready = true;
    expect((await get('/ready')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toBe(registry.contentType);
    expect(await metrics.text()).toContain('things_total 3');
    expect(await (await get('/status')).json()).toEqual({ a: 1 });
    const missing = await get('/nothing');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
  });

  it('answers unknown paths as the component says, and a failing route with 500', async () => {
    server = await startAdminServer({
      port: 0,
      live: () => ({ status: 200 }),
      ready: () => {
        throw new Error('broken');
      },
      metrics: new Registry(),
      notFound: (path) => ({ status: 404, body: { error: `no route ${path}` } }),
    });
    expect(await (await get('/x')).json()).toEqual({ error: 'no route /x' });
    const failed = await get('/ready');
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: 'broken' });
  });
});
