// Drives the built client against a running worker and prints what each call returned, as JSON.
//
//     DOCTOWN_WORKER_URL=http://127.0.0.1:8003 WORKER_API_KEY=... node test/smoke.mjs
//
// The last call documents a symbol named `over_budget`, which a test worker is scripted to
// answer with "out of quota".

import { GenerationClient, GenerationError } from "../dist/index.js";

const url = process.env.DOCTOWN_WORKER_URL ?? "http://localhost:8003";
const client = new GenerationClient(url, { apiKey: process.env.WORKER_API_KEY, timeoutMs: 30_000 });
const anonymous = new GenerationClient(url, { timeoutMs: 30_000 });

function symbolInput(symbolId, name) {
  return {
    symbol_id: symbolId,
    context: {
      name,
      kind: "function",
      language: "python",
      file_path: "src/utils.py",
      signature: `def ${name}(items: list[int]) -> int`,
      calls: ["sum", "len"],
      called_by: ["main"],
      centrality: 0.75,
    },
  };
}

async function outcome(call) {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (!(error instanceof GenerationError)) throw error;
    const { status, message, body, partial } = error;
    return { ok: false, status, message, body, partial: partial ?? null };
  }
}

const request = { job_id: "job_123", symbols: [symbolInput("sym_1", "calculate_total")] };
const overBudget = {
  job_id: "job_over_budget",
  symbols: [symbolInput("sym_1", "calculate_total"), symbolInput("sym_2", "over_budget")],
};

const results = {
  health: await outcome(() => client.health()),
  estimate: await outcome(() => client.estimate(request)),
  generate: await outcome(() => client.generate(request)),
  unauthorized: await outcome(() => anonymous.generate(request)),
  out_of_quota: await outcome(() => client.generate(overBudget)),
};
console.log(JSON.stringify(results, null, 2));
