// A build, live: its v1 events read from GET /jobs/{id}/events with fetch (EventSource cannot
// send the key), folded into the stage, the counts, the cost and the failures, and shown at
// most once a frame. A dropped stream is resumed with Last-Event-ID.

import { api, problem } from "./app.js";

const root = document.getElementById("watch");
const LOG_LINES = 200;
// A build where thousands fail lists the first ones; the pack says why for every one.
const FAILURES_SHOWN = 500;
const RETRY_MS = 2000;
const STAGE_OF = { ingest: "ingest", assembly: "analysis", generation: "generation", pack: "pack" };
const ENDED = new Set(["succeeded", "partial", "failed", "interrupted", "cancelled"]);
const PACKED = new Set(["succeeded", "partial"]);

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat("en");

function dollars(value) {
  if (!value) return "$0";
  return "$" + value.toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
}

/** Everything the page shows, as the events so far make it. */
function fresh() {
  return {
    stage: "queued",
    files: 0,
    symbols: null,
    total: null,
    documented: 0,
    cached: 0,
    failed: 0,
    reused: null,
    cost: 0,
    tokens: 0,
    failures: [],
    log: [],
    ended: null,
  };
}

let model = fresh();
let drawn = { failures: 0, log: 0 };
let scheduled = false;
let lastId = 0;

function line(text, kind) {
  model.log.push({ text, kind });
}

/** Fold one event into the model. */
function take(event) {
  const payload = event.payload || {};
  const family = event.type.split(".")[0];
  if (STAGE_OF[family]) model.stage = STAGE_OF[family];
  switch (event.type) {
    case "ingest.started.v1":
      line("Reading the repository");
      break;
    case "ingest.file_detected.v1":
      model.files += 1;
      break;
    case "ingest.completed.v1":
      model.files = payload.files;
      line(`${number.format(payload.files)} files read, ${number.format(payload.skipped)} skipped`);
      break;
    case "assembly.completed.v1":
      model.symbols = payload.symbols;
      line(`${number.format(payload.symbols)} symbols found`);
      break;
    case "assembly.graph_completed.v1":
      line(`${number.format(payload.calls_resolved)} calls resolved, ${number.format(payload.clusters)} clusters`);
      break;
    case "generation.started.v1":
      model.total = payload.symbol_count;
      line(`Writing ${number.format(payload.symbol_count)} summaries with ${payload.backend} (${payload.model})`);
      break;
    case "generation.symbol_documented.v1":
      model.documented += 1;
      model.cached += payload.cached ? 1 : 0;
      model.cost += payload.cost || 0;
      model.tokens += (payload.input_tokens || 0) + (payload.output_tokens || 0);
      line((payload.cached ? "cached " : "documented ") + payload.symbol_id, "ok");
      break;
    case "generation.symbol_failed.v1":
      model.cost += payload.cost || 0;
      // A symbol the job never asked (it stopped first) still remains; it did not fail.
      if (payload.reason === "not_attempted") break;
      model.failed += 1;
      if (model.failures.length < FAILURES_SHOWN) model.failures.push(payload);
      line(`failed ${payload.symbol_id}: ${payload.reason}`, "bad");
      break;
    case "generation.overview_documented.v1":
      model.stage = "overviews";
      model.cost += payload.cost || 0;
      line((payload.cached ? "cached overview of " : "overview of ") + payload.ref, "ok");
      break;
    case "generation.overview_failed.v1":
      model.stage = "overviews";
      model.cost += payload.cost || 0;
      line(`overview of ${payload.ref} failed: ${payload.reason}`, "bad");
      break;
    case "pack.started.v1":
      line("Packing");
      break;
    case "pack.completed.v1":
      line(`Packed ${number.format(payload.symbols)} symbols`);
      break;
    case "job.completed.v1":
      model.stage = "done";
      model.ended = event.status || "success";
      if (payload.usage) {
        model.cost = payload.usage.cost;
        model.tokens = payload.usage.input_tokens + payload.usage.output_tokens;
      }
      if (payload.reused !== undefined) model.reused = payload.reused;
      line(payload.error ? `Ended ${event.status}: ${payload.error.message}` : `Ended: ${event.status}`, payload.error ? "bad" : "");
      break;
    default:
      break;
  }
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(draw);
  }
}

function draw() {
  scheduled = false;
  const done = model.documented + model.failed;
  $("done").textContent = number.format(done);
  if (model.total !== null) {
    $("total").textContent = number.format(model.total);
    $("progress").max = Math.max(model.total, 1);
  }
  $("progress").value = done;
  $("documented").textContent = number.format(model.documented);
  $("failed").textContent = number.format(model.failed);
  $("cached").textContent = number.format(model.cached);
  if (model.reused !== null) $("reused").textContent = number.format(model.reused);
  $("cost").textContent = dollars(model.cost);
  $("tokens").textContent = number.format(model.tokens);
  $("files").textContent = number.format(model.files);
  $("symbols").textContent = model.symbols === null ? "-" : number.format(model.symbols);
  $("found").hidden = false;
  if (model.ended === null && model.stage !== "queued" && !ENDED.has(root.dataset.state)) {
    $("job-state").textContent = "running";
    $("job-state").className = "state state-running";
  }
  drawStages();
  drawFailures();
  drawLog();
}

function drawStages() {
  let passed = true;
  for (const item of $("stages").children) {
    const current = item.dataset.stage === model.stage;
    if (current) passed = false;
    item.toggleAttribute("data-passed", passed && !current);
    if (current) item.setAttribute("aria-current", "step");
    else item.removeAttribute("aria-current");
  }
}

function drawFailures() {
  const list = $("failures");
  for (const failure of model.failures.slice(drawn.failures)) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = failure.symbol_id;
    const reason = document.createElement("span");
    reason.className = "status s-failed";
    reason.textContent = failure.reason;
    const message = document.createElement("p");
    message.className = "summary";
    message.textContent = failure.message;
    item.append(name, " ", reason, message);
    list.appendChild(item);
  }
  drawn.failures = model.failures.length;
  const count = model.failed;
  $("failure-count").textContent = !count
    ? ""
    : count > FAILURES_SHOWN
      ? `${number.format(count)} (the first ${FAILURES_SHOWN} shown)`
      : number.format(count);
  $("no-failures").hidden = count > 0;
  $("no-failures").textContent = model.ended ? "None." : "None so far.";
}

function drawLog() {
  const log = $("log");
  const added = model.log.slice(drawn.log).slice(-LOG_LINES);
  for (const entry of added) {
    const item = document.createElement("li");
    item.textContent = entry.text;
    if (entry.kind) item.className = entry.kind;
    log.appendChild(item);
  }
  while (log.children.length > LOG_LINES) log.firstElementChild.remove();
  model.log = model.log.slice(-LOG_LINES);
  drawn.log = model.log.length;
}

/** The Server-Sent Events in a streamed response body: {id, data} for each message. */
async function* messages(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = 0;
      const data = [];
      for (const field of block.split("\n")) {
        if (field.startsWith("id: ")) id = Number(field.slice(4));
        else if (field.startsWith("data: ")) data.push(field.slice(6));
      }
      if (data.length) yield { id, data: JSON.parse(data.join("\n")) };
    }
  }
}

function say(text) {
  $("watch-status").textContent = text;
}

async function follow(jobId) {
  const url = "/jobs/" + encodeURIComponent(jobId) + "/events";
  while (model.ended === null) {
    try {
      const headers = lastId ? { "Last-Event-ID": String(lastId) } : {};
      const response = await api(url, { headers, cache: "no-store" });
      if (!response.ok) {
        say(await problem(response));
        return;
      }
      say("");
      for await (const message of messages(response)) {
        lastId = message.id;
        take(message.data);
        schedule();
      }
    } catch (error) {
      say("The connection to the worker was lost; trying again…");
    }
    if (model.ended === null) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  await finished(jobId);
}

/** The links to a packed build's pages and file, as the server draws them for a finished one. */
function showOutcome(jobId) {
  const base = "/jobs/" + encodeURIComponent(jobId);
  const read = document.createElement("a");
  read.className = "button primary";
  read.href = base + "/view/";
  read.textContent = "Read the documentation";
  const download = document.createElement("a");
  download.className = "button";
  download.href = base + "/docpack";
  download.download = "";
  download.textContent = "Download the .docpack";
  $("outcome").append(read, download);
}

/** The job's final record: its state says whether there is a pack to open. */
async function finished(jobId) {
  $("cancel").hidden = true;
  const response = await api("/jobs/" + encodeURIComponent(jobId), { cache: "no-store" });
  if (!response.ok) {
    say(await problem(response));
    return;
  }
  const job = await response.json();
  const state = $("job-state");
  state.textContent = job.state;
  state.className = "state state-" + job.state;
  root.dataset.state = job.state;
  if (PACKED.has(job.state) && !$("outcome").children.length) showOutcome(jobId);
  if (job.error) {
    $("job-error").textContent = job.error.message;
    $("job-error").hidden = false;
  }
  model.reused = job.counts.reused;
  schedule();
}

function setUpCancel(jobId) {
  const button = $("cancel");
  if (ENDED.has(root.dataset.state)) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("Cancelling: requests already sent finish first, and their summaries are kept…");
    const response = await api("/jobs/" + encodeURIComponent(jobId), { method: "DELETE" });
    if (response.status !== 202) {
      say(await problem(response));
      button.disabled = false;
    }
  });
}

if (root) {
  const jobId = root.dataset.job;
  setUpCancel(jobId);
  follow(jobId);
}
