/**
 * A client for the doctown generation worker: `GET /health`, `POST /generate`, `POST /estimate`.
 *
 *     const client = new GenerationClient("http://localhost:8003", { apiKey: "..." });
 *     const response = await client.generate({ job_id: "job_123", symbols });
 */

import type {
  EstimateResponse,
  GenerateRequest,
  GenerateResponse,
  HealthResponse,
} from "./schemas.js";

export type * from "./schemas.js";

export interface GenerationClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>`; the worker demands it when WORKER_API_KEY is set. */
  apiKey?: string;
  /** The fetch to send requests with; the global one by default. */
  fetch?: typeof fetch;
  /** Abort a call that takes longer, with a `TimeoutError`; unset, a call waits for the worker. */
  timeoutMs?: number;
}

/** The worker answered with a status outside 2xx; `body` is its JSON (or its text). */
export class GenerationError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    super(`The worker answered ${status}: ${describe(body)}`);
    this.name = "GenerationError";
    this.status = status;
    this.body = body;
  }

  /**
   * The job's full response when `/generate` stopped early (402 out of quota, 503 bad key or
   * unknown model): the summaries already generated, `failed_symbols` and `error`.
   */
  get partial(): GenerateResponse | undefined {
    return isRecord(this.body) && Array.isArray(this.body.documented_symbols)
      ? (this.body as unknown as GenerateResponse)
      : undefined;
  }
}

export class GenerationClient {
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetch: typeof fetch | undefined;
  private readonly timeoutMs: number | undefined;

  constructor(baseUrl: string, options: GenerationClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.fetch = options.fetch;
    this.timeoutMs = options.timeoutMs;
  }

  /**
   * Readiness, without spending a token. A worker that is not ready answers 503: the thrown
   * `GenerationError` carries its `HealthResponse` (with `detail`) as `body`.
   */
  health(): Promise<HealthResponse> {
    return this.request("GET", "/health");
  }

  /**
   * Document a batch of symbols. Symbols that fail are listed in `failed_symbols`; a job that
   * stops early throws a `GenerationError` whose `partial` keeps what was already done.
   */
  generate(request: GenerateRequest): Promise<GenerateResponse> {
    return this.request("POST", "/generate", request);
  }

  /** Prompt tokens and a cost range for a request, counted exactly; no model is called. */
  estimate(request: GenerateRequest): Promise<EstimateResponse> {
    return this.request("POST", "/estimate", request);
  }

  private async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    // Called as a plain function: browsers refuse a fetch invoked as a method of another object.
    const send = this.fetch ?? fetch;
    const response = await send(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: this.timeoutMs === undefined ? null : AbortSignal.timeout(this.timeoutMs),
    });
    const parsed = parseBody(await response.text());
    if (!response.ok) throw new GenerationError(response.status, parsed);
    return parsed as T;
  }
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The worker's own explanation: `message` (422), `detail` (401, 413, 503) or `error.message`. */
function describe(body: unknown): string {
  if (isRecord(body)) {
    if (typeof body.message === "string") return body.message;
    if (typeof body.detail === "string") return body.detail;
    if (isRecord(body.error) && typeof body.error.message === "string") return body.error.message;
    return JSON.stringify(body);
  }
  return String(body).slice(0, 500) || "(empty body)";
}
