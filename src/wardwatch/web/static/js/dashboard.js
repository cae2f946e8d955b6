// Dashboard editing: reorder (SortableJS), resize, remove and add widgets; the layout is saved per user
// through PUT /api/v1/dashboard with the session's CSRF token.
(function () {
  const grid = document.getElementById("dashboard");
  if (!grid) return;
  const csrf = grid.dataset.csrf;
  function layout() {
    return Array.from(grid.querySelectorAll("[data-widget]")).map(el => ({ id: el.dataset.widget, size: el.dataset.size }));
  }
  async function save(items, reload) {
    const response = await fetch("/api/v1/dashboard", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ widgets: items }),
    });
    if (!response.ok) { alert("Could not save the dashboard: " + response.status); return; }
    grid.dataset.saved = String(Date.now());
    if (reload) window.location.reload();
  }
  new Sortable(grid, { handle: ".handle", animation: 120, onEnd: () => save(layout(), false) });
  grid.addEventListener("click", ev => {
    const button = ev.target.closest("button");
    if (!button) return;
    const card = button.closest("[data-widget]");
    if (button.classList.contains("remove")) { card.remove(); save(layout(), false); }
    if (button.classList.contains("resize")) {
      card.classList.remove("size-s", "size-m", "size-l");
      card.classList.add("size-" + button.dataset.size);
      card.dataset.size = button.dataset.size;
      save(layout(), false);
    }
  });
  const add = document.getElementById("add-widget-button");
  if (add) add.addEventListener("click", () => {
    const id = document.getElementById("add-widget").value;
    const items = layout().filter(w => w.id !== id);
    items.push({ id: id, size: "m" });
    save(items, true);
  });
})();
