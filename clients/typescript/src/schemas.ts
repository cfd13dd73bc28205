/**
 * The worker's wire contract, mirroring `doctown.schemas` field for field.
 *
 * A field is optional here when the worker gives it a default: on requests it may be left out,
 * and on responses an older worker may not send it.
 */

/** What static analysis computed about one symbol. */
export interface SymbolContext {
  /** Filled in from `SymbolInput.symbol_id` when left out; must equal it when given. */
  symbol_id?: string | null;
  name: string;
  kind: string;
  language: string;
  file_path: string;
  signature?: string;
  calls?: string[];
  called_by?: string[];
  imports?: string[];
  related_symbols?: string[];
  cluster_label?: string | null;
  /** Between 0 and 1. */
  centrality?: number;
  docstring?: string | null;
  source_excerpt?: string | null;
  /** Tests that call the symbol, kept out of `called_by`. */
  tested_by?: string[];
  /** Summaries already written for the symbols it calls (name -> summary). */
  callee_summaries?: Record<string, string> | null;
}

export interface SymbolInput {
  symbol_id: string;
  context: SymbolContext;
}

export interface GenerateRequest {
  job_id: string;
  symbols: SymbolInput[];
}

export interface UsageReport {
  input_tokens?: number;
  cached_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
  requests?: number;
  cost?: number;
}

export interface DocumentedSymbol {
  symbol_id: string;
  summary: string;
  tokens_used: number;
  input_tokens?: number;
  cached_tokens?: number;
  output_tokens?: number;
  reasoning_tokens?: number;
  cost?: number;
  attempts?: number;
  /** Set when an identical context earlier in the batch was asked. */
  reused_from?: string | null;
  /** Served from the summary cache; not paid for now. */
  cached?: boolean;
  /** What producing the summary cost when it was made, when not what it cost now. */
  original_usage?: UsageReport | null;
  /** Asked again because the first answer named identifiers that exist nowhere. */
  reasked?: boolean;
  /** Identifiers the summary names that exist nowhere. */
  ungrounded?: string[];
  /**
   * How the answer was read: json_schema, json_object, json_instructions, or text (the answer
   * held no JSON; its text was taken as the summary).
   */
  output_format?: "json_schema" | "json_object" | "json_instructions" | "text" | null;
  /** Answered through the Batch API, billed at its price. */
  batch?: boolean;
}

export interface FailedSymbol {
  symbol_id: string;
  /** A stable code: refusal, length, invalid_output, rejected, insufficient_quota, ... */
  reason: string;
  message: string;
  tokens_used?: number;
  cost?: number;
  attempts?: number;
}

export type JobStatus = "success" | "partial" | "failed" | "aborted";

export interface JobError {
  type: string;
  message: string;
}

export interface GenerateResponse {
  documented_symbols: DocumentedSymbol[];
  total_tokens: number;
  total_cost: number;
  job_id?: string;
  status?: JobStatus;
  failed_symbols?: FailedSymbol[];
  warnings?: string[];
  usage?: UsageReport;
  backend?: string;
  model?: string;
  /** True when summaries come from the embedded offline preview model. */
  preview?: boolean;
  duration_ms?: number;
  /** Why the job stopped early (out of quota, bad key, unknown model); null when it ran through. */
  error?: JobError | null;
}

export interface HealthResponse {
  status: "healthy" | "unhealthy";
  model: string;
  ready: boolean;
  backend?: string;
  detail?: string | null;
}

export interface EstimateResponse {
  job_id: string;
  symbols: number;
  unique_prompts: number;
  /** Requests that would ask them: several symbols of one file share one. */
  requests?: number;
  prompt_tokens: number;
  /** The completion cap of a one-symbol request. */
  max_completion_tokens: number;
  /** Dollars if every answer were empty. */
  cost_min: number;
  /** Dollars if every answer used the whole completion cap. */
  cost_max: number;
  backend: string;
  model: string;
}
