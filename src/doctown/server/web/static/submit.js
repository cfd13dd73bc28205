// The submit page: send an archive (multipart, with upload progress) or a git URL or server
// path (JSON) to POST /jobs, then follow the new build on its page.

import { api, problem } from "./app.js";

const form = document.getElementById("submit-form");
const button = document.getElementById("submit-button");
const status = document.getElementById("submit-status");
const bar = document.getElementById("upload-progress");
const OPTIONS = ["limit", "max_cost", "docstrings"];
const FLAGS = ["include_private", "distributed"];

function say(text) {
  status.textContent = text;
}

function chosen() {
  const radio = form.querySelector("input[name=source]:checked");
  return radio ? radio.value : "archive";
}

function showChosen() {
  for (const fieldset of form.querySelectorAll("fieldset.source")) {
    fieldset.hidden = fieldset.dataset.source !== chosen();
  }
}

function megabytes(bytes) {
  return (bytes / 1e6).toFixed(1) + " MB";
}

/** XMLHttpRequest as a fetch-like transport: fetch cannot report upload progress. */
function upload(url, options) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(options.method, url);
    for (const [name, value] of Object.entries(options.headers || {})) {
      request.setRequestHeader(name, value);
    }
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.hidden = false;
        bar.value = event.loaded / event.total;
      }
    });
    request.addEventListener("load", () =>
      resolve(new Response(request.responseText || null, { status: request.status })),
    );
    request.addEventListener("error", () => reject(new Error("the connection failed")));
    request.send(options.body);
  });
}

/** The request for the chosen source and options, or a sentence saying what is missing. */
function request() {
  const options = {};
  for (const name of OPTIONS) {
    const value = form.elements[name].value.trim();
    if (value) options[name] = value;
  }
  for (const name of FLAGS) {
    if (form.elements[name] && form.elements[name].checked) options[name] = true;
  }
  const source = chosen();
  if (source === "archive") {
    const input = form.elements.archive;
    const file = input.files[0];
    if (!file) return "Choose a .zip or .tar.gz archive of the repository first.";
    const limit = Number(input.dataset.maxBytes);
    if (file.size > limit) {
      return `${file.name} is ${megabytes(file.size)}; this worker takes archives up to ${megabytes(limit)}.`;
    }
    const body = new FormData();
    body.append("archive", file, file.name);
    for (const [name, value] of Object.entries(options)) body.append(name, String(value));
    return { body, headers: {}, transport: upload };
  }
  const value = form.elements[source].value.trim();
  if (!value) return source === "url" ? "Give the repository's git URL." : "Give the folder's path.";
  const json = { [source]: value };
  for (const [name, given] of Object.entries(options)) {
    json[name] = name === "limit" || name === "max_cost" ? Number(given) : given;
  }
  if (source === "url" && form.elements.ref.value.trim()) json.ref = form.elements.ref.value.trim();
  return { body: JSON.stringify(json), headers: { "Content-Type": "application/json" }, transport: fetch };
}

async function submit(event) {
  event.preventDefault();
  const made = request();
  if (typeof made === "string") {
    say(made);
    return;
  }
  button.disabled = true;
  say("Sending…");
  try {
    const options = { method: "POST", body: made.body, headers: made.headers };
    const response = await api("/jobs", options, made.transport);
    if (response.status === 202) {
      const job = await response.json();
      say("Accepted: opening the build…");
      window.location.assign("/jobs/" + encodeURIComponent(job.id) + "/watch");
      return;
    }
    say(await problem(response));
  } catch (error) {
    say("The worker cannot be reached (" + error.message + ").");
  } finally {
    button.disabled = false;
    bar.hidden = true;
  }
}

if (form) {
  for (const radio of form.querySelectorAll("input[name=source]")) {
    radio.addEventListener("change", showChosen);
  }
  showChosen();
  form.addEventListener("submit", submit);
  button.disabled = false;
}
