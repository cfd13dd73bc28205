// The web app on `doctown serve`, on every page: the worker's key. Asked for once, kept in
// this tab's sessionStorage, sent only as a bearer header; a view pass cookie, bought with
// it at POST /session, opens the pages and downloads a link leads to. Whatever the server
// or a repository says is shown with textContent: nothing is parsed as HTML.

const KEY_ITEM = "doctown.worker-key";
const RENEWED_ITEM = "doctown.pass-renewed";
// The pass lasts 12 hours; renewing it hourly while the app is in use keeps links working.
const RENEW_MS = 3600 * 1000;
const keyRequired = document.body.hasAttribute("data-key-required");

export function workerKey() {
  return sessionStorage.getItem(KEY_ITEM) || "";
}

function withKey(headers) {
  const key = workerKey();
  return key ? { ...headers, Authorization: "Bearer " + key } : { ...headers };
}

/** `transport(url, options)` with the key; a 401 asks for the key once, then tries again. */
export async function api(url, options = {}, transport = fetch) {
  const response = await transport(url, { ...options, headers: withKey(options.headers) });
  if (response.status !== 401 || !keyRequired || !(await askForKey())) return response;
  return transport(url, { ...options, headers: withKey(options.headers) });
}

/** What the worker said was wrong, from its JSON answer. */
export async function problem(response) {
  try {
    const body = await response.json();
    const said = body.message || body.detail;
    if (typeof said === "string") return said;
    if (Array.isArray(said)) return said.map((error) => error.msg).join("; ");
  } catch (error) {
    // Not JSON: say what is known.
  }
  return "The worker answered HTTP " + response.status + ".";
}

// --- the key --------------------------------------------------------------------------------
async function offerKey(key) {
  const response = await fetch("/session", {
    method: "POST",
    headers: { Authorization: "Bearer " + key },
  });
  if (response.ok) {
    sessionStorage.setItem(KEY_ITEM, key);
    sessionStorage.setItem(RENEWED_ITEM, String(Date.now()));
  }
  return response;
}

async function onKeySubmit(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = form.querySelector(".form-status");
  status.textContent = "Checking the key…";
  let response;
  try {
    response = await offerKey(form.elements.key.value);
  } catch (error) {
    status.textContent = "The worker cannot be reached.";
    return;
  }
  if (response.ok) {
    form.reset();
    status.textContent = "";
    form.dispatchEvent(new CustomEvent("key-accepted", { bubbles: true }));
    return;
  }
  status.textContent =
    response.status === 401 ? "That is not this worker's key." : await problem(response);
  form.elements.key.select();
}

let asking = null;

/** Show the key dialog; true once a key is accepted, false if the reader closes it. */
function askForKey() {
  const dialog = document.getElementById("key-dialog");
  if (!dialog) return Promise.resolve(false);
  if (!asking) {
    asking = new Promise((resolve) => {
      const finish = (accepted) => {
        dialog.removeEventListener("key-accepted", accept);
        dialog.removeEventListener("close", dismiss);
        asking = null;
        resolve(accepted);
      };
      const accept = () => {
        finish(true);
        dialog.close();
      };
      const dismiss = () => finish(false);
      dialog.addEventListener("key-accepted", accept);
      dialog.addEventListener("close", dismiss);
      dialog.showModal();
      dialog.querySelector("input[name=key]").focus();
    });
  }
  return asking;
}

async function renewPass() {
  const key = workerKey();
  const renewed = Number(sessionStorage.getItem(RENEWED_ITEM) || 0);
  if (!key || Date.now() - renewed < RENEW_MS) return;
  const response = await offerKey(key);
  if (response.status === 401) sessionStorage.removeItem(KEY_ITEM); // the key has changed
}

async function onKeyPage() {
  const form = document.querySelector("form.key-form");
  form.addEventListener("key-accepted", () => window.location.reload());
  // A key this tab already holds renews the pass without asking (once, so a browser that
  // refuses the cookie is asked instead of reloading for ever).
  const key = workerKey();
  const renewed = Number(sessionStorage.getItem(RENEWED_ITEM) || 0);
  if (key && Date.now() - renewed > 10_000) {
    const response = await offerKey(key);
    if (response.ok) {
      window.location.reload();
      return;
    }
    sessionStorage.removeItem(KEY_ITEM);
  }
  form.elements.key.focus();
}

function setUpForget() {
  const button = document.getElementById("forget-key");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    sessionStorage.removeItem(KEY_ITEM);
    sessionStorage.removeItem(RENEWED_ITEM);
    await fetch("/session", { method: "DELETE" });
    window.location.assign("/");
  });
}

for (const form of document.querySelectorAll("form.key-form")) {
  form.addEventListener("submit", onKeySubmit);
}
const closeDialog = document.getElementById("key-dialog-close");
if (closeDialog) closeDialog.addEventListener("click", () => closeDialog.closest("dialog").close());
if (keyRequired) {
  if (document.body.dataset.page === "key") {
    onKeyPage();
  } else {
    setUpForget();
    renewPass();
  }
}
