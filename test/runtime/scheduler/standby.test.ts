import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../../src/runtime/agent/agent.ts';
import type { RouteUpdate } from '../../../src/runtime/protocol/control.ts';
import { controlPackage } from '../../../src/runtime/protocol/control-proto.ts';
import { type Leadership, startSchedulerService } from '../../../src/runtime/scheduler/main.ts';
import { DirectorySource } from '../../../src/runtime/sources/directory.ts';

const log = pino({ level: 'silent' });

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Leadership the test hands over by calling `lead()`. */
function fakeLeadership(): Leadership & { lead(): void } {
  let resolve: () => void = () => {};
  const leading = new Promise<void>((r) => {
    resolve = r;
  });
  const l = {
    isLeader: false,
    holder: 'other-replica',
    whenLeading: () => leading,
    lead() {
      l.isLeader = true;
      l.holder = 'me';
      resolve();
    },
  };
  return l;
}

/** The first route update served on `port`, or undefined if none comes within `ms`. */
function firstRoutes(port: number, ms: number): Promise<RouteUpdate | Error | undefined> {
  return new Promise((resolve) => {
    const client = new (controlPackage().RouteService)(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    );
    const call = client.SubscribeRoutes({ subscriberName: 't' }) as grpc.ClientReadableStream<RouteUpdate>;
    const done = (v: RouteUpdate | Error | undefined) => {
      clearTimeout(timer);
      call.cancel();
      client.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    call.on('data', (u: RouteUpdate) => done(u));
    call.on('error', (err: Error) => done(err));
  });
}

describe('startSchedulerService with leadership', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-scheduler-standby-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a standby reads nothing and serves no one; once leading it serves routes only after rebuilding them', async () => {
    writeFileSync(
      join(dir, 'app.yaml'),
      `apiVersion: mlops.seldon.io/v1alpha1
kind: Server
metadata: {name: mlserver}
spec: {serverConfig: mlserver, replicas: 1}
`,
    );
    const source = new DirectorySource(dir, log, 50);
    const started = vi.spyOn(source, 'start');
    const leadership = fakeLeadership();
    const port = await freePort();
    const service = await startSchedulerService({
      source,
      log,
      port,
      healthPort: 0,
      host: '127.0.0.1',
      // Long enough that only the agent's report can make it ready.
      waitForServersMs: 60_000,
      leadership,
    });
    let agent: Agent | undefined;
    try {
      const base = `http://127.0.0.1:${service.healthPort}`;
      expect(await (await fetch(`${base}/ready`)).text()).toBe('standby');
      expect(await (await fetch(`${base}/status`)).json()).toEqual({
        role: 'standby',
        leader: 'other-replica',
      });
      expect(await firstRoutes(port, 1000)).toMatchObject({ code: grpc.status.UNAVAILABLE });
      expect(started).not.toHaveBeenCalled();

      leadership.lead();
      await vi.waitFor(() => expect(started).toHaveBeenCalled());
      // Leading, but its Server's agent has not reported yet: an empty table would wipe gateways'.
      expect(await firstRoutes(port, 500)).toBeUndefined();
      agent = new Agent({
        serverName: 'mlserver',
        replicaIdx: 0,
        schedulerAddress: `127.0.0.1:${port}`,
        inferenceUrl: 'http://127.0.0.1:1',
        modelsDir: join(dir, 'models'),
        cacheDir: join(dir, 'cache'),
        memoryBytes: 1024 ** 3,
        overCommitPercentage: 10,
        capabilities: [],
        advertiseHost: '127.0.0.1',
        httpPort: 0,
        adminPort: 0,
        log,
        modelServer: { load: async () => {}, unload: async () => {}, ready: async () => true },
      });
      await agent.start();
      expect(await firstRoutes(port, 5000)).toMatchObject({ full: true });
    } finally {
      await agent?.stop();
      await service.stop();
    }
  });
});
