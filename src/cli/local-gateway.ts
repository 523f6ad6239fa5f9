import { PORTS } from '../spec/ports.ts';

/** Where `mlops dev` puts the gateway when the port is free, and where `mlops infer` looks first. */
export const DEFAULT_GATEWAY = `http://127.0.0.1:${PORTS.gatewayHttp}`;
