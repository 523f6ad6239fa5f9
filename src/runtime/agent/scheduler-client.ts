import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  AgentSubscribeRequest,
  ModelEvent,
  ModelOperation,
  ModelScalingTriggerMessage,
} from '../protocol/control.ts';
import { controlPackage, SCHEDULER_CHANNEL_OPTIONS } from '../protocol/control-proto.ts';
import { ReconnectBackoff } from '../protocol/reconnect.ts';
import { type CredentialSource, credentialOptions } from '../service/identity.ts';

/** Refusals that retrying with the same credential cannot change (logged as errors). */
const REFUSED = new Set([grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED, grpc.status.NOT_FOUND]);

/** A refused agent asks again this rarely (its token may be renewed, its Server scaled up). */
const REFUSED_RETRY_MS = 5000;

type UnaryFn<Req, Res> = (
  req: Req,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => void;

/**
 * The agent's connection to the scheduler: one Subscribe stream (re-opened whenever it drops,
 * quickly at first, each time re-sending what the agent holds), unary event reports and the drain
 * call. Every call carries the agent's credential.
 */
export class SchedulerClient {
  private readonly client: grpc.Client & Record<string, unknown>;
  private stream?: grpc.ClientReadableStream<ModelOperation>;
  private closed = false;
  private readonly backoff = new ReconnectBackoff();
  private refused = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private scaling?: grpc.ClientWritableStream<ModelScalingTriggerMessage>;
  connected = false;

  constructor(
    address: string,
    private readonly subscription: () => AgentSubscribeRequest,
    private readonly onOperation: (op: ModelOperation) => void,
    private readonly log: Logger,
    credential?: CredentialSource,
  ) {
    this.client = new (controlPackage().AgentService)(address, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 5000,
      'grpc.keepalive_timeout_ms': 5000,
      ...SCHEDULER_CHANNEL_OPTIONS,
      ...credentialOptions(credential),
    }) as grpc.Client & Record<string, unknown>;
  }

  /** Opens the Subscribe stream; `retire`, the one it replaces, is closed once this one is
   * registered (or has failed). */
  start(retire?: grpc.ClientReadableStream<ModelOperation>): void {
    if (this.closed) return;
    const req = this.subscription();
    const stream = (
      this.client.Subscribe as (r: AgentSubscribeRequest) => grpc.ClientReadableStream<ModelOperation>
    ).call(this.client, req);
    this.stream = stream;
    stream.on('metadata', () => {
      this.connected = true;
      this.refused = false;
      this.failures = 0;
      this.backoff.reset();
      this.log.info({ models: req.loadedModels.length }, 'subscribed to scheduler');
      retire?.cancel();
    });
    stream.on('data', (op: ModelOperation) => {
      this.connected = true;
      this.onOperation(op);
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (this.closed || err.code === grpc.status.CANCELLED) return;
      this.refused = REFUSED.has(err.code);
      if (this.refused) this.log.error({ err: err.details }, 'the scheduler refused this agent');
      // Once per outage: the retries that follow are expected until it is back.
      else if (this.failures++ === 0) this.log.warn({ err: err.message }, 'scheduler stream error');
    });
    stream.on('close', () => {
      retire?.cancel();
      if (this.stream !== stream) return;
      this.connected = false;
      if (this.closed) return;
      // A newly elected or restarted scheduler waits for its agents before serving routes.
      const delay = this.backoff.next();
      this.timer = setTimeout(() => this.start(), this.refused ? Math.max(delay, REFUSED_RETRY_MS) : delay);
    });
  }

  /** Registers again (what the agent holds may have changed under the scheduler). The old stream
   * closes only once the new one is registered: closed first, it would read as the pod leaving,
   * and the scheduler would move the pod's models elsewhere in between. */
  resubscribe(): void {
    if (!this.connected) {
      // Not registered now: the reconnect under way (or this cancel's) sends the new state.
      this.stream?.cancel();
      return;
    }
    this.start(this.stream);
  }

  report(event: ModelEvent): Promise<void> {
    return this.unary<ModelEvent, object>('AgentEvent', event, 30_000).then(() => undefined);
  }

  drain(serverName: string, replicaIdx: number, timeoutMs: number): Promise<boolean> {
    return this.unary<{ serverName: string; replicaIdx: number }, { success: boolean }>(
      'AgentDrain',
      { serverName, replicaIdx },
      timeoutMs,
    ).then((r) => r.success);
  }

  /** Sends a scaling trigger on a long-lived client stream (opened on first use). */
  trigger(msg: ModelScalingTriggerMessage): void {
    if (!this.scaling) {
      const fn = this.client.ModelScalingTrigger as (
        cb: (err: Error | null) => void,
      ) => grpc.ClientWritableStream<ModelScalingTriggerMessage>;
      const s = fn.call(this.client, () => {
        if (this.scaling === s) this.scaling = undefined;
      });
      s.on('error', () => {
        if (this.scaling === s) this.scaling = undefined;
      });
      this.scaling = s;
    }
    this.scaling.write(msg);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.stream?.cancel();
    this.scaling?.end();
    this.client.close();
  }

  private unary<Req, Res>(method: string, req: Req, timeoutMs: number): Promise<Res> {
    const fn = this.client[method] as UnaryFn<Req, Res>;
    return new Promise((resolve, reject) =>
      fn.call(this.client, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }
}
