// Bulk retry on the queue page: the selection goes to the JSON API (/api/retry) with the CSRF token.
(function () {
  "use strict";
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const button = document.getElementById("bulk-retry");
  if (!button) return;
  const picks = () => Array.from(document.querySelectorAll("input.pick"));
  const selected = () => picks().filter((box) => box.checked).map((box) => box.value);
  const refresh = () => { button.disabled = selected().length === 0; };
  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") picks().forEach((box) => { box.checked = event.target.checked; });
    refresh();
  });
  button.addEventListener("click", async () => {
    const ids = selected();
    if (!ids.length) return;
    button.disabled = true;
    const result = document.getElementById("bulk-result");
    const response = await fetch("/api/retry", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({ ids: ids }),
    });
    const body = await response.json();
    if (!response.ok) { result.textContent = body.error || response.status; refresh(); return; }
    result.textContent = body.results.map((r) => r.id.slice(0, 8) + ": " + (r.state || r.error)).join(" · ");
    setTimeout(() => window.location.reload(), 1200);
  });
})();
