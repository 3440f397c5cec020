// The usage log: every use of the twins the signed-in account may see (their model, payees, the guild), newest
// first, with filters, "older" pages, what is new since the last visit, live rows as uses settle, and a "Verify
// proof" check that runs in this browser: the use's leaf computed here, its proof checked with
// @openzeppelin/merkle-tree against the root read from the settlement's event on chain through the client's
// provider. The server is only asked for the proof's sibling hashes, which cannot make a wrong leaf verify.

import { api } from "../api.js";
import { licenses } from "../chain.js";
import { state, walletChanged, labelOf } from "../state.js";
import { signedInAs, signInPrompt } from "../session.js";
import { shortAddress, plural, useLabel } from "../format.js";
import { h, mount, emptyState } from "../ui.js";
import { explain } from "../errors.js";
import { useThumb } from "./use_asset.js"; // issue 13: the image attached to a use, small

const LIMIT = 25;
const FILTERS = ["twin", "license", "brand", "category", "territory", "from", "to"];
let stream = null; // the EventSource of the page on screen

export function leave() {
  stream?.close();
  stream = null;
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "");

export async function render(root, { params, isCurrent }) {
  const head = h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Usage log"),
    h("p", {}, "Every use of your twins: who used it, where, for what, and the proof it was paid.")));
  if (!state.wallet) {
    mount(root, head, emptyState("Choose a wallet", "Connect a wallet (or pick a model's development account, top right) to see the uses of your twins."));
    return;
  }
  if (!signedInAs()) {
    mount(root, head, signInPrompt("the uses of a twin", walletChanged));
    return;
  }
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
  const [summary, brands] = await Promise.all([api("/usage-log/summary"), brandAccounts()]);
  if (!isCurrent()) return;
  api("/usage-log/visit", { method: "POST" }).catch(() => {}); // this visit is the next one's "last visit"

  const body = h("tbody", {});
  const older = h("button", { type: "button", class: "btn", id: "usage-older", hidden: true }, "Older uses");
  const pageError = h("p", { class: "error-text", role: "alert", hidden: true });
  const live = h("p", { class: "muted small", id: "usage-live", "aria-live": "polite" });
  const empty = emptyState("No uses yet", summary.twins.length
    ? "When a brand reports a use of your twin, it appears here, and again once it is paid on chain."
    : "You are not the model or a payee of any twin yet, so there is nothing to show.");
  empty.hidden = true;
  const shown = new Map(); // use id -> row
  let cursor = null;

  const table = h("table", { class: "list usage-log", id: "usage-table" },
    h("thead", {}, h("tr", {}, ["Reported", "Twin", "Brand", "Licence", "Category", "Territory", "Asset", "Settled", "Proof"]
      .map((label) => h("th", { scope: "col" }, label)))),
    body);

  async function loadPage() {
    older.disabled = true;
    pageError.hidden = true;
    try {
      const page = await api("/usage-log", { query: { ...filters, cursor, limit: LIMIT } });
      if (!isCurrent()) return;
      for (const entry of page.data) {
        if (shown.has(entry.id)) continue;
        const row = usageRow(entry);
        shown.set(entry.id, row);
        body.append(row);
      }
      cursor = page.next_cursor;
      older.hidden = !cursor;
      empty.hidden = shown.size > 0;
      table.hidden = shown.size === 0;
    } catch (error) {
      pageError.textContent = explain(error);
      pageError.hidden = false;
    } finally {
      older.disabled = false;
    }
  }
  older.addEventListener("click", loadPage);

  const newCount = summary.last_visit
    ? `${plural(summary.new_since_last_visit, "new use")} since your last visit (${when(summary.last_visit)}).`
    : `${plural(summary.new_since_last_visit, "use")} so far: this is your first visit.`;
  mount(
    root,
    head,
    h("p", { class: "usage-new", id: "usage-new" }, h("strong", {}, newCount),
      summary.guild ? " You see every twin, as the guild." : ""),
    filters.license
      ? h("p", { id: "usage-licence-only" }, `Showing the uses of licence #${filters.license} only. `,
        h("a", { href: "#/usage" }, "Show every licence"))
      : null,
    filterForm(filters, summary, brands),
    pageError,
    h("div", { class: "card" }, live, table, empty, h("div", { class: "actions" }, older)),
  );
  await loadPage();
  if (isCurrent()) follow(filters, shown, body, live, empty, table);
}

/** The brands this deployment names (development accounts on the local chain), for the brand filter. */
async function brandAccounts() {
  try {
    const accounts = await api("/accounts");
    return (accounts.data || accounts || []).filter((a) => a.role === "brand");
  } catch {
    return [];
  }
}

function select(name, label, options, value) {
  const id = `usage-filter-${name}`;
  const input = h("select", { id, name }, h("option", { value: "" }, "Any"),
    options.map(([v, text]) => h("option", { value: String(v), selected: String(v) === value ? true : null }, text)));
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function filterForm(filters, summary, brands) {
  const dep = state.deployment;
  const dateField = (name, label) => h("div", { class: "field" }, h("label", { for: `usage-filter-${name}` }, label),
    h("input", { type: "date", id: `usage-filter-${name}`, name, value: filters[name] }));
  const form = h("form", { class: "card usage-filters", id: "usage-filters" },
    select("twin", "Twin", summary.twins.map((t) => [t.twin_id, t.name]), filters.twin),
    brands.length
      ? select("brand", "Brand", brands.map((b) => [b.address, b.name || b.label]), filters.brand)
      : h("div", { class: "field" }, h("label", { for: "usage-filter-brand" }, "Brand address"),
        h("input", { id: "usage-filter-brand", name: "brand", value: filters.brand, placeholder: "0x…", autocomplete: "off" })),
    select("category", "Category", (dep.categories || []).map((n, i) => [i, n]), filters.category),
    select("territory", "Territory", (dep.territories || []).map((n, i) => [i, n]), filters.territory),
    dateField("from", "From"),
    dateField("to", "To (included)"),
    filters.license ? h("input", { type: "hidden", name: "license", value: filters.license }) : null,
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "btn primary" }, "Show"),
      h("a", { class: "btn", href: "#/usage" }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    location.hash = `#/usage${query.toString() ? `?${query}` : ""}`;
  });
  return form;
}

function usageRow(entry) {
  const brand = entry.brand_label || labelOf(entry.brand) || shortAddress(entry.brand);
  const proofCell = h("td", { "data-label": "Proof" });
  const row = h("tr", { "data-use": String(entry.id) },
    h("td", { "data-label": "Reported" }, when(entry.reported_at)),
    h("td", { "data-label": "Twin" }, entry.twin_name),
    h("td", { "data-label": "Brand", title: entry.brand }, brand),
    h("td", { "data-label": "Licence" }, h("a", { href: `#/licenses/${entry.license_id}` }, `#${entry.license_id}`),
      h("span", { class: "muted small" }, ` ${useLabel(entry.seq)}`)),
    h("td", { "data-label": "Category" }, entry.category_name),
    h("td", { "data-label": "Territory" }, entry.territory_name),
    h("td", { "data-label": "Asset" }, useThumb(entry), entry.label ? h("div", {}, entry.label) : null,
      h("code", { class: "hash", title: entry.use_ref }, `${entry.use_ref.slice(0, 10)}…`)),
    h("td", { "data-label": "Settled" }, settledCell(entry)),
    proofCell,
  );
  fillProof(proofCell, entry);
  return row;
}

function settledCell(entry) {
  if (!entry.settled) return h("span", { class: "muted" }, "Not settled yet");
  return h("div", {}, h("div", {}, when(entry.settled_at)),
    h("div", { class: "small" }, "tx ", h("code", { class: "hash", title: entry.tx_hash }, `${entry.tx_hash.slice(0, 10)}…`)),
    h("div", { class: "small" }, "root ", h("code", { class: "hash", title: entry.uses_root }, `${entry.uses_root.slice(0, 10)}…`)));
}

function fillProof(cell, entry) {
  if (!entry.settled) {
    mount(cell, h("span", { class: "muted small" }, "After settlement"));
    return;
  }
  const result = h("span", { class: "proof-result", role: "status" });
  const button = h("button", { type: "button", class: "btn small verify-proof" }, "Verify proof");
  button.addEventListener("click", async () => {
    button.disabled = true;
    result.className = "proof-result";
    result.textContent = "Checking against the chain…";
    try {
      const verdict = await verifyUse(entry.id);
      result.className = `proof-result ${verdict.ok ? "ok" : "failed"}`;
      result.textContent = verdict.text;
    } catch (error) {
      result.className = "proof-result failed";
      result.textContent = `Could not check: ${explain(error)}`;
    } finally {
      button.disabled = false;
    }
  });
  mount(cell, button, " ", result);
}

/** The use's record, leaf and proof checked here against the root of its UsesSettled event, read on chain. */
async function verifyUse(useId) {
  const [{ default: merkle }, proof] = await Promise.all([import("/vendor/merkle-tree.js"), api(`/uses/${useId}/proof`)]);
  const record = proof.record;
  const token = licenses(false);
  const receipt = await token.runner.provider.getTransactionReceipt(proof.settlement.tx_hash);
  if (!receipt || receipt.status !== 1) {
    return { ok: false, text: "Failed: the settlement transaction is not on this chain." };
  }
  const address = (await token.getAddress()).toLowerCase();
  const settled = receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => token.interface.parseLog(log))
    .find((event) => event?.name === "UsesSettled" && event.args.licenseId === BigInt(record.license_id) &&
      Number(event.args.firstSeq) <= record.seq && record.seq < Number(event.args.firstSeq) + Number(event.args.count));
  if (!settled) {
    return { ok: false, text: `Failed: transaction ${proof.settlement.tx_hash.slice(0, 10)}… settled no uses of licence #${record.license_id} covering ${useLabel(record.seq)}.` };
  }
  const root = settled.args.usesRoot;
  // The leaf's members and types are UseProofVerifier's UseRecord, as its ABI declares them.
  const members = state.abis.UseProofVerifier.find((f) => f.name === "leafOf").inputs[0].components;
  const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const values = members.map((m) => record[snake(m.name)]);
  const ok = merkle.StandardMerkleTree.verify(root, members.map((m) => m.type), values, proof.proof);
  const block = `block ${receipt.blockNumber}`;
  return ok
    ? { ok: true, text: `Verified: this use is in the root ${root.slice(0, 10)}… that the chain recorded at ${block}.` }
    : { ok: false, text: `Failed: this use does not match the root ${root.slice(0, 10)}… recorded on chain at ${block}.` };
}

/** Live rows: each use of these twins that settles replaces its row, or comes in on top when it matches. */
function follow(filters, shown, body, live, empty, table) {
  stream?.close();
  stream = new EventSource("/api/v1/usage-log/stream");
  stream.addEventListener("use", (event) => {
    const entry = JSON.parse(event.data);
    const row = usageRow(entry);
    row.classList.add("fresh");
    const old = shown.get(entry.id);
    if (old) {
      old.replaceWith(row);
    } else if (matches(entry, filters)) {
      body.prepend(row);
      empty.hidden = true;
      table.hidden = false;
    } else {
      return;
    }
    shown.set(entry.id, row);
    live.textContent = `${useLabel(entry.seq, { start: true })} of licence #${entry.license_id} was just settled on chain.`;
  });
}

function matches(entry, filters) {
  const reported = entry.reported_at.slice(0, 10);
  return (!filters.twin || String(entry.twin_id) === filters.twin)
    && (!filters.license || String(entry.license_id) === filters.license)
    && (!filters.brand || entry.brand.toLowerCase() === filters.brand.toLowerCase())
    && (!filters.category || String(entry.category) === filters.category)
    && (!filters.territory || String(entry.territory) === filters.territory)
    && (!filters.from || reported >= filters.from)
    && (!filters.to || reported <= filters.to);
}
