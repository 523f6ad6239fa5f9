// Who may do what on the scheduler's control port. Every call carries a credential; an agent
// acts only as its own replica (the pod its token is bound to is `<server>-<idx>` in this
// namespace), and registers only as a replica its Server can have. Gateways need a valid
// credential of this namespace to read the route table.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { replicaPodName } from '../../spec/control-auth.ts';
import { AuthError, type Authenticator, bearerToken, type ControlIdentity } from '../service/identity.ts';

export interface ReplicaRegistry {
  whenSynced(): Promise<void>;
  replicaProblem(server: string, idx: number): string | undefined;
}

export interface ControlGuardOptions {
  authenticator: Authenticator;
  /** The scheduler's namespace: pods of other namespaces are refused. */
  namespace?: string;
  replicas: ReplicaRegistry;
  log: Logger;
}

type Refusal = Partial<grpc.StatusObject> & { code: grpc.status; details: string };

export class ControlGuard {
  constructor(private readonly opts: ControlGuardOptions) {}

  /** Undefined when the caller may act as replica `idx` of `server` (and, registering, it exists). */
  async agent(
    call: { metadata: grpc.Metadata; getPeer(): string },
    server: string,
    idx: number,
    registering = false,
  ): Promise<Refusal | undefined> {
    const who = await this.identify(call);
    if ('code' in who) return this.refuse(call, who, { server, replica: idx });
    if (who.kind === 'pod') {
      const expected = replicaPodName(server, idx);
      if (who.pod !== expected) {
        return this.refuse(
          call,
          {
            code: grpc.status.PERMISSION_DENIED,
            details: `pod ${who.namespace}/${who.pod} may act only as its own replica, not as ${expected}`,
          },
          { server, replica: idx, pod: who.pod },
        );
      }
    }
    if (!registering) return undefined;
    await this.opts.replicas.whenSynced();
    const problem = this.opts.replicas.replicaProblem(server, idx);
    if (problem) {
      return this.refuse(
        call,
        { code: grpc.status.NOT_FOUND, details: `registration refused: ${problem}` },
        { server, replica: idx },
      );
    }
    return undefined;
  }

  /** Undefined when the caller may subscribe to routes. */
  async routes(call: { metadata: grpc.Metadata; getPeer(): string }): Promise<Refusal | undefined> {
    const who = await this.identify(call);
    return 'code' in who ? this.refuse(call, who, { stream: 'routes' }) : undefined;
  }

  private async identify(call: { metadata: grpc.Metadata }): Promise<ControlIdentity | Refusal> {
    const token = bearerToken(call.metadata.get('authorization'));
    if (!token) {
      return {
        code: grpc.status.UNAUTHENTICATED,
        details:
          'no credential: present a bearer token (a projected service-account token for the scheduler)',
      };
    }
    let who: ControlIdentity;
    try {
      who = await this.opts.authenticator.authenticate(token);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return { code: grpc.status.UNAUTHENTICATED, details: err.message };
    }
    const ns = this.opts.namespace;
    if (who.kind === 'pod' && ns && who.namespace !== ns) {
      return {
        code: grpc.status.PERMISSION_DENIED,
        details: `pod ${who.namespace}/${who.pod} is not in this scheduler's namespace "${ns}"`,
      };
    }
    return who;
  }

  private refuse(call: { getPeer(): string }, r: Refusal, at: Record<string, unknown>): Refusal {
    this.opts.log.warn(
      { ...at, peer: call.getPeer(), code: grpc.status[r.code], reason: r.details },
      'control call refused',
    );
    return r;
  }
}
