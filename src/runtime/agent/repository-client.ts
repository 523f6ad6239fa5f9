/** The inference server's model-repository API (Open Inference Protocol extension, REST). MLServer
 * and Triton expose the same endpoints. */
export interface ModelServer {
  load(name: string): Promise<void>;
  unload(name: string): Promise<void>;
  ready(): Promise<boolean>;
  /** Whether the server process is there: a busy one that answers late still is. */
  alive?(): Promise<boolean>;
}

export class RepositoryClient implements ModelServer {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = 10 * 60_000,
  ) {}

  load(name: string): Promise<void> {
    return this.post(`/v2/repository/models/${encodeURIComponent(name)}/load`, 'load');
  }

  unload(name: string): Promise<void> {
    return this.post(`/v2/repository/models/${encodeURIComponent(name)}/unload`, 'unload');
  }

  async alive(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/v2/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch (err) {
      // A server loading a model in its one process may not answer in time; only a refused
      // connection (or a broken one) says it is gone.
      return (err as Error).name === 'TimeoutError';
    }
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.baseUrl}/v2/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }

  private async post(path: string, what: string): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new Error(`inference server ${what} request failed: ${(err as Error).message}`);
    }
    if (res.ok) return;
    const text = await res.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`inference server refused ${what} (HTTP ${res.status}): ${message}`);
  }
}
