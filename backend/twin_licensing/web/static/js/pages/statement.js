// A payee's statement on the earnings page: a period (month, quarter, year or dates), the totals with their check
// against the chain, the earnings per twin, brand and category, and the CSV and PDF to download.

import { api } from "../api.js";
import { state } from "../state.js";
import { money, plural } from "../format.js";
import { h, mount, errorBox, badge, table, spinner } from "../ui.js";
import { explain } from "../errors.js";

const KINDS = [["month", "Month"], ["quarter", "Quarter"], ["year", "Year"], ["custom", "Custom dates"]];
const pad = (n) => String(n).padStart(2, "0");

/** The query of the chosen period, as the API takes it. */
function periodQuery(form) {
  const kind = form.kind.value;
  if (kind === "custom") return { period: kind, from: form.from.value, to: form.to.value };
  const value = kind === "month" ? form.month.value : kind === "quarter" ? `${form.qyear.value}-Q${form.quarter.value}` : form.year.value;
  return { period: kind, value };
}

function categoryName(group) {
  if (group.kind === "upfront") return "Licence fee";
  if (group.kind === "rounding") return "Split rounding";
  if (group.kind === "unaccepted") return "Not counted until you accept the listing";
  if (group.category === null || group.category === undefined) return "Not recorded";
  return state.deployment?.categories?.[group.category] ?? `Category ${group.category}`;
}

export function statementCard(me) {
  const now = new Date();
  const year = now.getUTCFullYear();
  const years = [];
  for (let y = year; y >= year - 4; y--) years.push(y);
  const select = (name, id, options, value) => h("select", { name, id },
    ...options.map(([v, label]) => h("option", { value: String(v), selected: String(v) === String(value) }, label)));
  const labelled = (text, input, extra = {}) => h("label", { class: "field statement-field", ...extra }, h("span", {}, text), input);
  const today = `${year}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
  const first = `${year}-${pad(now.getUTCMonth() + 1)}-01`;
  const parts = {
    month: labelled("Month", h("input", { type: "month", name: "month", id: "statement-month", value: `${year}-${pad(now.getUTCMonth() + 1)}`, max: `${year}-${pad(now.getUTCMonth() + 1)}`, required: true })),
    quarter: h("div", { class: "row statement-pair" },
      labelled("Quarter", select("quarter", "statement-quarter", [[1, "Q1"], [2, "Q2"], [3, "Q3"], [4, "Q4"]], Math.floor(now.getUTCMonth() / 3) + 1)),
      labelled("of", select("qyear", "statement-qyear", years.map((y) => [y, String(y)]), year))),
    year: labelled("Year", select("year", "statement-year", years.map((y) => [y, String(y)]), year)),
    custom: h("div", { class: "row statement-pair" },
      labelled("From", h("input", { type: "date", name: "from", id: "statement-from", value: first, max: today })),
      labelled("To", h("input", { type: "date", name: "to", id: "statement-to", value: today, max: today }))),
  };
  const kind = select("kind", "statement-kind", KINDS, "month");
  const result = h("div", { id: "statement-result", "aria-live": "polite" });
  const form = h("form", { class: "row statement-form", id: "statement-form" },
    labelled("Period", kind), ...Object.values(parts),
    h("button", { type: "submit", class: "btn primary", id: "statement-show" }, "Show statement"));
  const showParts = () => Object.entries(parts).forEach(([k, el]) => { el.hidden = k !== kind.value; });
  kind.addEventListener("change", () => { showParts(); load(); });
  let asked = 0;
  const load = async () => {
    const query = periodQuery(form);
    const ticket = ++asked;
    mount(result, spinner());
    try {
      const s = await api(`/statements/${me}`, { query });
      if (ticket === asked) mount(result, statementView(me, s, query));
    } catch (error) {
      if (ticket === asked) mount(result, errorBox(explain(error)));
    }
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  showParts();
  load();
  return h("section", { class: "card", id: "statement", style: "margin-top:20px" },
    h("div", { class: "card-head" }, h("h3", {}, "Statement"),
      h("span", { class: "muted small" }, "Totals from the chain's events at the period's first and last block")),
    form, result);
}

function statementView(me, s, query) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  const download = (ext, label) => h("a", {
    class: "btn", id: `statement-${ext}`, href: `/api/v1/statements/${me}/${ext}?${params}`, download: "",
  }, label);
  const closing = s.running ? "Claimable now (period still running)" : "Closing claimable";
  return h("div", {},
    h("div", { class: "stats statement-totals", style: "margin-top:12px" },
      h("div", { class: "stat" }, h("div", { class: "label" }, "Opening claimable"), h("div", { class: "value", id: "statement-opening" }, money(s.opening.claimable)),
        h("div", { class: "hint" }, `before block ${s.opening.block_number}`)),
      h("div", { class: "stat" }, h("div", { class: "label" }, "+ Earned"), h("div", { class: "value", id: "statement-earned" }, money(s.earned)),
        h("div", { class: "hint" }, plural(s.uses, "settled use"))),
      h("div", { class: "stat" }, h("div", { class: "label" }, "− Withdrawn"), h("div", { class: "value", id: "statement-withdrawn" }, money(s.withdrawn)),
        h("div", { class: "hint" }, plural(s.withdrawals.length, "withdrawal"))),
      h("div", { class: "stat accent" }, h("div", { class: "label" }, `= ${closing}`), h("div", { class: "value", id: "statement-closing" }, money(s.closing.claimable)),
        h("div", { class: "hint" }, s.running ? `at block ${s.closing.block_number - 1}, the latest indexed` : `before block ${s.closing.block_number}`))),
    h("p", { class: "row statement-check", id: "statement-check" },
      s.ties ? badge("Totals tie to the chain", "ok") : badge("Totals do not tie", "warn"),
      h("span", { class: "small" }, `${money(s.opening.claimable)} + ${money(s.earned)} − ${money(s.withdrawn)} = ${money(s.closing.claimable)}`)),
    h("div", { class: "row", style: "margin:8px 0 12px" },
      download("csv", "Download CSV"), download("pdf", "Download PDF"),
      h("span", { class: "muted small" }, `${s.period}: every line with its settlement transaction and Merkle root`)),
    table(
      [
        { label: "Twin", render: (g) => g.twin_name || "" },
        { label: "Brand", render: (g) => (g.brand_label || (g.brand ? `${g.brand.slice(0, 8)}…` : "")).replace(/^Brand: /, "") },
        { label: "Category", render: (g) => categoryName(g) },
        { label: "Uses", num: true, render: (g) => (g.uses ? String(g.uses) : "") },
        { label: "Your share", num: true, render: (g) => money(g.amount) },
      ],
      s.groups,
      { empty: h("p", { class: "muted" }, `No earnings in ${s.period}.`) },
    ));
}
