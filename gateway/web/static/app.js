// Bulk retry on the queue page: the selection goes to the JSON API (/api/retry) with the CSRF token.
// The result stays on the page (a live region, read out by screen readers) with each document's file name and
// its new state in the page's language, until the operator closes it; it is kept in sessionStorage so that
// refreshing the list shows it once more.
(function () {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const result = document.getElementById("bulk-result");
  const bulk = document.getElementById("bulk");
  const KEY = "immex-bulk-result";
  const words = bulk ? JSON.parse(bulk.dataset.words) : null;
  const states = bulk ? JSON.parse(bulk.dataset.states) : {};
  const said = (text) => text.replace(/'(\w+)'/g, (m, s) => (states[s] ? "«" + states[s] + "»" : m));
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));

  function show(report) {
    if (!result || !report) return;
    result.textContent = "";
    const box = document.createElement("div");
    box.className = "flash " + (report.failed ? "bad" : "ok");
    const title = document.createElement("p");
    title.className = "bulk-title";
    title.textContent = report.title;
    box.appendChild(title);
    if (report.summary) { const p = document.createElement("p"); p.textContent = report.summary; box.appendChild(p); }
    const list = document.createElement("ul");
    list.id = "bulk-list";
    report.items.forEach((item) => {
      const li = document.createElement("li");
      li.dataset.id = item.id;
      li.dataset.state = item.state || "refused";
      const a = document.createElement("a");
      a.href = "/documents/" + encodeURIComponent(item.id);
      a.textContent = item.name;
      li.appendChild(a);
      li.appendChild(document.createTextNode(": " + item.text));
      list.appendChild(li);
    });
    box.appendChild(list);
    const actions = document.createElement("p");
    const reload = document.createElement("a");
    reload.href = window.location.pathname + window.location.search;
    reload.id = "bulk-reload";
    reload.textContent = report.reload;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "secondary";
    close.id = "bulk-close";
    close.textContent = report.close;
    close.addEventListener("click", () => { sessionStorage.removeItem(KEY); result.textContent = ""; });
    actions.appendChild(reload);
    actions.appendChild(document.createTextNode(" "));
    actions.appendChild(close);
    box.appendChild(actions);
    result.appendChild(box);
  }

  try { show(JSON.parse(sessionStorage.getItem(KEY) || "null")); } catch (e) { sessionStorage.removeItem(KEY); }

  const button = document.getElementById("bulk-retry");
  if (!button) return;
  const picks = () => Array.from(document.querySelectorAll("input.pick"));
  const chosen = () => picks().filter((box) => box.checked);
  const count = document.getElementById("bulk-count");
  const refresh = () => {
    const n = chosen().length;
    button.disabled = n === 0;
    count.textContent = n ? fill(words.bulk_selected, { n: n }) : "";
  };
  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") picks().forEach((box) => { box.checked = event.target.checked; });
    refresh();
  });
  button.addEventListener("click", async () => {
    const boxes = chosen();
    if (!boxes.length) return;
    const names = {};
    boxes.forEach((box) => { names[box.value] = box.dataset.name; });
    button.disabled = true;
    result.textContent = fill(words.bulk_working, { n: boxes.length });
    let report;
    try {
      const response = await fetch("/api/retry", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ ids: Object.keys(names) }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || String(response.status));
      const tally = { delivered: 0, still: 0, other: 0, refused: 0 };
      const items = body.results.map((r) => {
        if (r.error) { tally.refused += 1; return { id: r.id, name: names[r.id] || r.id, text: words.bulk_refused + " — " + said(r.error) }; }
        if (r.state === "forwarded") tally.delivered += 1; else if (r.state === "rejected") tally.still += 1; else tally.other += 1;
        return { id: r.id, name: names[r.id] || r.id, state: r.state, text: states[r.state] || r.state };
      });
      const time = new Date().toLocaleTimeString(document.documentElement.lang === "en" ? "en-US" : "es-MX",
                                                 { hour: "2-digit", minute: "2-digit" });
      report = { title: fill(words.bulk_title, { time: time, n: items.length }), summary: fill(words.bulk_summary, tally),
                 items: items, reload: words.bulk_reload, close: words.bulk_close };
    } catch (error) {
      report = { failed: true, title: words.bulk_failed + ": " + error.message, items: [],
                 reload: words.bulk_reload, close: words.bulk_close };
    }
    sessionStorage.setItem(KEY, JSON.stringify(report));
    show(report);
    refresh();
  });
})();

// The skip link puts the keyboard in the search box at once (a fragment alone only scrolls in some browsers).
(function () {
  "use strict";
  const skip = document.getElementById("skip-search");
  const box = document.getElementById("f-q");
  if (!skip || !box) return;
  skip.addEventListener("click", (event) => { event.preventDefault(); box.focus(); box.select(); });
  if (window.location.hash === "#f-q") box.focus();
})();
