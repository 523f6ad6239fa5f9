// Who is calling the scheduler. Clients attach a bearer credential to every control-plane call:
// a projected service-account token (re-read as the kubelet rotates it) or, under `mlops dev`,
// the run's shared secret. The scheduler turns the credential into an identity with an
// `Authenticator` (the TokenReview one lives with the scheduler).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { CONTROL_SECRET_ENV } from '../../spec/control-auth.ts';

/** A pod, proven by a token bound to it; or a local component that knows the run's secret. */
export type ControlIdentity =
  | { kind: 'pod'; namespace: string; pod: string; serviceAccount: string }
  | { kind: 'local' };

/** A credential that does not prove an identity; the message says why (never the credential). */
export class AuthError extends Error {}

export interface Authenticator {
  /** Resolves to who holds `token`, or rejects with an `AuthError`. */
  authenticate(token: string): Promise<ControlIdentity>;
}

/** The current credential, or undefined when there is none to present. */
export type CredentialSource = () => string | undefined;

/**
 * The credential a component presents: the token file when given (read again once it changes,
 * as the kubelet rotates it), else the shared secret from the environment, else none.
 */
export function controlCredential(
  tokenFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): CredentialSource | undefined {
  if (tokenFile) return tokenFileSource(tokenFile);
  const secret = env[CONTROL_SECRET_ENV];
  return secret ? () => secret : undefined;
}

function tokenFileSource(path: string): CredentialSource {
  let cached: { mtimeMs: number; token: string } | undefined;
  return () => {
    try {
      const mtimeMs = statSync(path).mtimeMs;
      if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, token: readFileSync(path, 'utf8').trim() };
      return cached.token;
    } catch {
      // Not there (yet): the call goes without, and the scheduler's refusal says so.
      return undefined;
    }
  };
}

/** gRPC client options that put the credential on every call as `authorization: Bearer …`. */
export function credentialOptions(source: CredentialSource | undefined): grpc.ClientOptions {
  if (!source) return {};
  const interceptor: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const token = source();
        if (token) metadata.set('authorization', `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return { interceptors: [interceptor] };
}

/** The bearer credential of a call or request, if it has one. */
export function bearerToken(value: unknown): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(raw);
  return m?.[1];
}

/** Accepts exactly the run's shared secret (compared in constant time). */
export function sharedSecretAuthenticator(secret: string): Authenticator {
  const expected = digest(secret);
  return {
    authenticate: async (token) => {
      if (timingSafeEqual(digest(token), expected)) return { kind: 'local' };
      throw new AuthError('the credential is not this run’s control secret');
    },
  };
}

/** Whether the shared secret is presented as a bearer credential. */
export function holdsSecret(header: unknown, secret: string | undefined): boolean {
  const token = bearerToken(header);
  return !!secret && !!token && timingSafeEqual(digest(token), digest(secret));
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
