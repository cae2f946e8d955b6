// Dashboard editing: reorder (SortableJS, or the ◀ ▶ buttons from the keyboard), resize, remove and add
// widgets; the layout is saved per user through PUT /api/v1/dashboard with the session's CSRF token.
// After each successful save #dashboard gets data-saved (a counter) so tests can wait on it.
(function () {
  const grid = document.getElementById("dashboard");
  if (!grid) return;
  const csrf = grid.dataset.csrf;
  const status = document.getElementById("dashboard-status");
  let saves = 0;
  function layout() {
    return Array.from(grid.querySelectorAll("[data-widget]")).map(el => ({ id: el.dataset.widget, size: el.dataset.size }));
  }
  async function save(items, reload) {
    const response = await fetch("/api/v1/dashboard", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ widgets: items }),
    });
    if (!response.ok) {
      if (status) status.textContent = "Could not save the dashboard (" + response.status + ").";
      return;
    }
    saves += 1;
    grid.dataset.saved = String(saves);
    if (status) status.textContent = "Saved.";
    if (reload) window.location.reload();
  }
  // forceFallback: mouse/pointer events rather than native HTML5 drag and drop (steadier across browsers).
  new Sortable(grid, { handle: ".handle", animation: 120, forceFallback: true, onEnd: () => save(layout(), false) });
  grid.addEventListener("click", ev => {
    const button = ev.target.closest("button");
    if (!button) return;
    const card = button.closest("[data-widget]");
    if (!card) return;
    if (button.classList.contains("remove")) { card.remove(); save(layout(), false); }
    if (button.classList.contains("move")) {
      if (button.dataset.dir === "-1" && card.previousElementSibling) {
        grid.insertBefore(card, card.previousElementSibling);
      } else if (button.dataset.dir === "1" && card.nextElementSibling) {
        grid.insertBefore(card.nextElementSibling, card);
      }
      button.focus();
      save(layout(), false);
    }
    if (button.classList.contains("resize")) {
      card.classList.remove("size-s", "size-m", "size-l");
      card.classList.add("size-" + button.dataset.size);
      card.dataset.size = button.dataset.size;
      save(layout(), false);
    }
  });
  const add = document.getElementById("add-widget-button");
  if (add) add.addEventListener("click", () => {
    const select = document.getElementById("add-widget");
    if (!select || !select.value) return;
    const items = layout().filter(w => w.id !== select.value);
    items.push({ id: select.value, size: "m" });
    save(items, true);
  });
})();
