// Search as you type, for `doctown view` (asks the server) and exported sites (a prebuilt
// index loaded as a script, so it works from file://). Results are built with textContent:
// no pack text is ever parsed as HTML. Keys: "/" focuses the box, arrows move, Enter opens.
"use strict";

(function () {
  const body = document.body;
  const input = document.getElementById("search-input");
  const box = document.getElementById("search-results");
  if (!input || !box) return;
  const api = body.dataset.searchApi;
  const indexScript = body.dataset.searchIndex;
  const root = body.dataset.root || "";
  const LIMIT = 12;
  const PAGE_LIMIT = 50;
  let active = -1;
  let shown = [];
  let asked = 0;

  // --- the prebuilt index of an exported site -------------------------------------------------
  const WEIGHTS = [4, 2, 1, 1]; // name, qualified name, signature, summary: as the server ranks
  const WORD = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^\x00-\x7F]+/g;
  let loading = null;
  let prepared = null;

  function words(text) {
    return (text.match(WORD) || []).map((w) => w.toLowerCase());
  }

  function loadIndex() {
    if (!loading) {
      loading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = indexScript;
        script.onload = () => resolve(prepare(window.doctownSearchIndex));
        script.onerror = () => reject(new Error("the search index could not be loaded"));
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function prepare(index) {
    const rows = index.symbols.map((row) => {
      const fields = [row[0], row[1], row[5], row[4]].map((text) => " " + words(text).join(" ") + " ");
      return { row, fields, joined: fields.join("") };
    });
    return { rows };
  }

  function count(text, pattern) {
    let n = 0;
    let at = text.indexOf(pattern);
    while (at !== -1) {
      n += 1;
      at = text.indexOf(pattern, at + pattern.length);
    }
    return n;
  }

  function localSearch(index, query, limit) {
    const terms = [...new Set(words(query))];
    if (!terms.length) return [];
    const partial = /\s$/.test(query) ? null : terms[terms.length - 1];
    const scores = new Map();
    const total = index.rows.length;
    for (const term of terms) {
      const pattern = term === partial ? " " + term : " " + term + " ";
      const found = [];
      for (let i = 0; i < total; i++) {
        if (index.rows[i].joined.includes(pattern)) found.push(i);
      }
      const idf = Math.log(1 + (total - found.length + 0.5) / (found.length + 0.5));
      for (const i of found) {
        const f = index.rows[i].fields;
        let tf = 0;
        for (let k = 0; k < f.length; k++) tf += WEIGHTS[k] * count(f[k], pattern);
        scores.set(i, (scores.get(i) || 0) + (idf * tf * 2.2) / (tf + 1.2));
      }
    }
    const lowered = query.trim().toLowerCase();
    const ranked = [...scores.entries()].map(([i, score]) => {
      const row = index.rows[i].row;
      const exact = row[0].toLowerCase() === lowered || row[1].toLowerCase() === lowered;
      return { exact, score, row };
    });
    ranked.sort((a, b) => (b.exact - a.exact) || (b.score - a.score) || (a.row[6] < b.row[6] ? -1 : 1));
    return ranked.slice(0, limit).map(({ row }) => ({
      name: row[1] || row[0],
      kind: row[2],
      location: row[3],
      summary: row[4],
      url: root + row[6],
    }));
  }

  // --- asking, and showing -------------------------------------------------------------------
  async function search(query, limit) {
    if (api) {
      const response = await fetch(api + "?limit=" + limit + "&q=" + encodeURIComponent(query));
      if (!response.ok) throw new Error("search failed: HTTP " + response.status);
      return (await response.json()).results;
    }
    return localSearch(await loadIndex(), query, limit);
  }

  function item(result) {
    const li = document.createElement("li");
    li.setAttribute("role", "option");
    const a = document.createElement("a");
    a.href = result.url;
    const name = document.createElement("strong");
    name.textContent = result.name;
    const where = document.createElement("span");
    where.className = "where";
    where.textContent = result.kind + " · " + result.location;
    const summary = document.createElement("span");
    summary.className = "summary-line";
    summary.textContent = result.summary || "";
    a.append(name, where, summary);
    li.appendChild(a);
    return li;
  }

  function select(position) {
    const items = box.querySelectorAll("li[role=option]");
    items.forEach((li, i) => li.setAttribute("aria-selected", i === position ? "true" : "false"));
    active = position;
    if (items[position]) items[position].scrollIntoView({ block: "nearest" });
  }

  function show(results, query) {
    shown = results;
    box.replaceChildren();
    if (!results.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "No symbol matches “" + query + "”.";
      box.appendChild(empty);
    }
    for (const result of results) box.appendChild(item(result));
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
    select(results.length ? 0 : -1);
  }

  function hide() {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    active = -1;
  }

  async function update() {
    const query = input.value;
    if (!query.trim()) return hide();
    const ticket = ++asked;
    try {
      const results = await search(query, LIMIT);
      if (ticket === asked) show(results, query);
    } catch (error) {
      if (ticket === asked) show([], query);
    }
  }

  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 60);
  });
  input.addEventListener("focus", () => {
    if (indexScript) loadIndex().catch(() => {});
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && shown.length) {
      event.preventDefault();
      select(Math.min(active + 1, shown.length - 1));
    } else if (event.key === "ArrowUp" && shown.length) {
      event.preventDefault();
      select(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && !box.hidden && shown[active]) {
      event.preventDefault();
      window.location.href = shown[active].url;
    } else if (event.key === "Escape") {
      hide();
    }
  });
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if ((event.key === "/" || event.key === "s") && !typing && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
  document.addEventListener("click", (event) => {
    if (!box.contains(event.target) && event.target !== input) hide();
  });

  // --- the search page of an exported site: results for ?q= --------------------------------
  const list = document.getElementById("search-page-results");
  if (list && indexScript) {
    const query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    if (query.trim()) {
      const status = document.getElementById("search-status");
      search(query, PAGE_LIMIT).then((results) => {
        list.replaceChildren(...results.map(item));
        status.textContent = results.length + " result" + (results.length === 1 ? "" : "s") + " for “" + query + "”";
      });
    }
  }
})();
