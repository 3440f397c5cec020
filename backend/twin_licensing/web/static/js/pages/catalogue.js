// Brand: browse and filter the catalogue of twins.

import { api } from "../api.js";
import { state } from "../state.js";
import { money, amountText, parseAmount, symbol } from "../format.js";
import { h, mount, emptyState, errorBox, pager, spinner } from "../ui.js";
import { explain } from "../errors.js";
import { portrait, consentBadge, verifiedBadge } from "./common.js";
import { categoryStates, withheld } from "./category_consent.js";

const LIMIT = 24;

export async function render(root, { params }) {
  const dep = state.deployment;
  const filters = {
    category: params.get("category") ?? "",
    territory: params.get("territory") ?? "",
    min_fee: params.get("min_fee") ?? "",
    max_fee: params.get("max_fee") ?? "",
    q: params.get("q") ?? "",
    offset: Number(params.get("offset") || 0),
  };

  const category = h("select", { id: "filter-category", name: "category" },
    h("option", { value: "" }, "Any category"),
    dep.categories.map((name, i) => h("option", { value: String(i) }, name)));
  category.value = filters.category;
  const territory = h("select", { id: "filter-territory", name: "territory" },
    h("option", { value: "" }, "Anywhere"),
    dep.territories.map((name, i) => h("option", { value: String(i) }, name)));
  territory.value = filters.territory;
  const toText = (micro) => (micro === "" || !/^\d+$/.test(micro) ? "" : amountText(micro));
  const minFee = h("input", { type: "text", id: "filter-min-fee", inputmode: "decimal", placeholder: "0", value: toText(filters.min_fee) });
  const maxFee = h("input", { type: "text", id: "filter-max-fee", inputmode: "decimal", placeholder: "any", value: toText(filters.max_fee) });
  const search = h("input", { type: "search", id: "filter-q", placeholder: "Search by name", value: filters.q });
  const formError = h("div");

  const apply = (event) => {
    event?.preventDefault();
    const next = new URLSearchParams();
    try {
      if (category.value) next.set("category", category.value);
      if (territory.value) next.set("territory", territory.value);
      const low = minFee.value.trim() ? parseAmount(minFee.value, "lowest fee") : null;
      const high = maxFee.value.trim() ? parseAmount(maxFee.value, "highest fee") : null;
      if (low !== null && high !== null && low > high) {
        throw new Error(`The fee range is upside down: from ${money(low)} to ${money(high)}. Swap them, or widen the range.`);
      }
      if (low !== null) next.set("min_fee", low.toString());
      if (high !== null) next.set("max_fee", high.toString());
      if (search.value.trim()) next.set("q", search.value.trim());
    } catch (error) {
      mount(formError, errorBox(error.message));
      return;
    }
    mount(formError);
    location.hash = `#/catalogue${next.toString() ? "?" + next : ""}`;
  };
  // A range error goes away as soon as either bound changes; Apply checks the new range.
  [minFee, maxFee].forEach((input) => input.addEventListener("input", () => mount(formError)));
  category.addEventListener("change", apply);
  territory.addEventListener("change", apply);

  const results = h("div", {}, h("div", { class: "loading-page" }, spinner(), " Loading the catalogue…"));
  mount(
    root,
    h("section", { class: "hero" },
      h("div", {},
        h("h1", {}, "License a digital twin. Pay the model for every use."),
        h("p", { class: "lede" },
          "Each twin is registered by the model herself, with her consent on record. Buy a licence, report every " +
          "image or film you make with it, and the fee reaches her and her agency within seconds, on chain."),
      ),
      h("div", { class: "hero-portraits", id: "hero-portraits" }),
    ),
    h("div", { class: "split" },
      h("aside", { class: "card filters" },
        h("form", { onsubmit: apply, id: "filters" },
          h("h3", {}, "Find a twin"),
          h("label", { class: "field" }, h("span", {}, "Name"), search),
          h("label", { class: "field" }, h("span", {}, "Usage category"), category),
          h("label", { class: "field" }, h("span", {}, "Territory"), territory),
          h("div", { class: "inline-fields" },
            h("label", { class: "field" }, h("span", {}, "Per-use fee from"), minFee),
            h("label", { class: "field" }, h("span", {}, `to (${symbol()})`), maxFee)),
          formError,
          h("div", { class: "row" },
            h("button", { class: "btn primary", type: "submit" }, "Apply filters"),
            h("a", { class: "btn", href: "#/catalogue" }, "Clear")),
        ),
      ),
      results,
    ),
  );

  let page;
  try {
    page = await api("/twins", {
      query: {
        category: filters.category, territory: filters.territory, min_fee: filters.min_fee, max_fee: filters.max_fee,
        q: filters.q, offset: filters.offset, limit: LIMIT, available: "true",
      },
    });
  } catch (error) {
    mount(results, errorBox(explain(error)));
    return;
  }
  const heroes = page.data.filter((t) => t.image).slice(0, 3);
  mount(root.querySelector("#hero-portraits"), heroes.map((t) => h("img", { src: t.image, alt: "" })));

  const go = (offset) => {
    const next = new URLSearchParams(params);
    next.set("offset", String(offset));
    location.hash = `#/catalogue?${next}`;
  };
  mount(
    results,
    h("div", { class: "page-head" },
      h("p", { id: "result-count" }, page.count === 1 ? "1 twin available" : `${page.count} twins available`)),
    page.data.length
      ? h("div", { class: "twin-grid", id: "twin-grid" }, page.data.map(card))
      : emptyState("No twin matches these filters", "Try another category or territory, or widen the fee range."),
    pager(filters.offset, LIMIT, page.count, go),
  );
}

function card(twin) {
  const offers = twin.offers || [];
  const cheapest = offers.reduce((min, o) => (min === null || BigInt(o.per_use_fee) < min ? BigInt(o.per_use_fee) : min), null);
  // The categories the model consents to among her offers'; the ones she withdrew are said apart.
  const out = withheld(categoryStates(twin), 0xff);
  const outNames = new Set(out.map((c) => c.name));
  const categories = new Set();
  offers.forEach((o) => o.category_names.forEach((c) => outNames.has(c) || categories.add(c)));
  return h(
    "a",
    { class: "twin-card", href: `#/twins/${twin.twin_id}`, "data-twin-id": twin.twin_id },
    h("div", { class: "portrait" }, portrait(twin), twin.consent.state !== "granted" ? h("span", { class: "badge-wrap" }, consentBadge(twin.consent)) : null),
    h("div", { class: "body" },
      h("div", { class: "name" }, twin.name),
      h("div", { class: "meta" }, twin.agency ? `${twin.agency}` : "Independent"),
      verifiedBadge(twin),
      h("div", { class: "tags" }, [...categories].slice(0, 3).map((c) => h("span", { class: "tag" }, c))),
      out.length ? h("div", { class: "withheld small", "data-withheld": "" }, `No consent for ${out.map((c) => c.name).join(", ")}`) : null,
      h("div", { class: "price" },
        cheapest === null
          ? h("span", { class: "muted" }, "No offer published")
          : [h("span", { class: "muted" }, "from "), h("strong", {}, money(cheapest)), h("span", { class: "muted" }, " per use")]),
    ),
  );
}
