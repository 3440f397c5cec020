// DOM helpers, toasts and the progress dialog for long operations. No framework: pages build elements with h().

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "html") el.innerHTML = value; // only ever given trusted, static markup
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// How long a toast stays, by kind: an error is read, perhaps copied, before it goes; a success is a glance.
const TOAST_MS = { bad: 15000, "": 6000, ok: 6000 };
// More than this many at once is a wall of messages; the oldest make way for the newest.
const MAX_TOASTS = 3;

export function toast(message, kind = "") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast ${kind}`, role: kind === "bad" ? "alert" : null }, h("span", { class: "toast-text" }, message));
  const dismiss = () => {
    clearTimeout(timer);
    el.remove();
  };
  if (kind === "bad") {
    el.append(h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss this message", onclick: dismiss }, "×"));
  }
  box.append(el);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  const timer = setTimeout(dismiss, TOAST_MS[kind] ?? TOAST_MS[""]);
  return el;
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function spinner() {
  return h("span", { class: "spinner", "aria-hidden": "true" });
}

export function emptyState(title, text, action) {
  return h("div", { class: "empty" }, h("h3", {}, title), text ? h("p", {}, text) : null, action || null);
}

export function errorBox(message) {
  return h("div", { class: "form-error", role: "alert" }, message);
}

export function okBox(message) {
  return h("div", { class: "form-ok", role: "status" }, message);
}

/** A labelled form field. `input` is an element; `help` shows under it; the error slot fills on validation. */
export function field(label, input, help) {
  const error = h("div", { class: "field-error", hidden: true });
  const wrap = h("label", { class: "field" }, h("span", {}, label), input, help ? h("small", {}, help) : null, error);
  wrap.setError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  };
  return wrap;
}

/**
 * Runs `steps` one after another in a modal showing each step's progress; `steps` are {label, run(ctx, note)}.
 * Resolves with the shared ctx when every step succeeded; on failure shows `explain(error)` and rethrows.
 */
export async function runSteps(title, steps, explain) {
  const dialog = document.getElementById("progress");
  const list = document.getElementById("progress-steps");
  const errorEl = document.getElementById("progress-error");
  const close = document.getElementById("progress-close");
  document.getElementById("progress-title").textContent = title;
  errorEl.hidden = true;
  close.hidden = true;
  const items = steps.map((step) =>
    h("li", {}, h("span", { class: "icon" }, "○"), h("span", {}, step.label, h("span", { class: "detail" }))),
  );
  mount(list, items);
  if (!dialog.open) dialog.showModal();
  const ctx = {};
  for (let i = 0; i < steps.length; i++) {
    const li = items[i];
    const icon = li.querySelector(".icon");
    const detail = li.querySelector(".detail");
    li.className = "active";
    mount(icon, spinner());
    try {
      await steps[i].run(ctx, (text) => (detail.textContent = text));
      li.className = "done";
      icon.textContent = "✓";
    } catch (error) {
      li.className = "failed";
      icon.textContent = "✕";
      errorEl.textContent = explain ? explain(error) : String(error?.message || error);
      errorEl.hidden = false;
      close.hidden = false;
      await new Promise((resolve) => close.addEventListener("click", resolve, { once: true }));
      dialog.close();
      throw error;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 350));
  dialog.close();
  return ctx;
}

/**
 * A list as a table; on a phone (app.css) each row becomes a card whose cells are labelled by their column, from
 * the cells' data-label. `columns` are {label, render(row), num?}.
 *
 * A row that opens something is a link: `rowHref(row)` gives its address and `onRow(row)` (older callers) what a
 * plain click does. The link wraps the first labelled column's content, so the keyboard reaches it and a screen
 * reader names it by that cell; a click anywhere else on the row follows it too.
 */
export function table(columns, rows, { onRow, rowHref, empty } = {}) {
  if (!rows.length && empty) return empty;
  const opens = Boolean(onRow || rowHref);
  const linkAt = Math.max(0, columns.findIndex((c) => c.label));
  const cell = (c, i, row) => {
    let content = c.render(row);
    if (opens && i === linkAt) content = rowLink(row, content, { onRow, rowHref });
    return h("td", { class: c.num ? "num" : "", "data-label": c.label || null }, content);
  };
  return h(
    "table",
    { class: opens ? "list opens" : "list" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "", scope: "col" }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) => {
        const tr = h("tr", { class: opens ? "clickable" : "" }, columns.map((c, i) => cell(c, i, row)));
        if (opens) {
          tr.addEventListener("click", (event) => {
            // Clicks on the link itself, or on another control in the row, do their own thing.
            if (event.target.closest("a, button, input, select, textarea, label")) return;
            tr.querySelector("a.row-link").click();
          });
        }
        return tr;
      }),
    ),
  );
}

function rowLink(row, content, { onRow, rowHref }) {
  const href = rowHref ? rowHref(row) : "#";
  const onclick = onRow
    ? (event) => {
      // A modified click (new tab, new window) on a real address is the browser's to handle.
      if (rowHref && (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) return;
      event.preventDefault();
      onRow(row);
    }
    : null;
  return h("a", { class: "row-link", href, onclick }, content);
}

export function pager(offset, limit, count, go) {
  if (count <= limit) return null;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.ceil(count / limit);
  return h(
    "div",
    { class: "pager" },
    h("button", { class: "btn small", disabled: offset === 0, onclick: () => go(Math.max(0, offset - limit)) }, "← Previous"),
    h("span", { class: "muted small" }, `Page ${page} of ${pages}`),
    h("button", { class: "btn small", disabled: offset + limit >= count, onclick: () => go(offset + limit) }, "Next →"),
  );
}
