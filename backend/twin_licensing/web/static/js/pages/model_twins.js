// Model: the twins of the connected wallet.

import { api } from "../api.js";
import { state } from "../state.js";
import { money, plural } from "../format.js";
import { h, mount, emptyState } from "../ui.js";
import { portrait, consentBadge } from "./common.js";
import { categoryStates, withheld } from "./category_consent.js";

export async function render(root) {
  if (!state.wallet) {
    mount(root, emptyState("Choose a wallet", "Connect your wallet (or pick a model's development account, top right) to manage your twins."));
    return;
  }
  const page = await api("/twins", { query: { payee: state.wallet.address, limit: 100 } });
  const mine = page.data.filter((t) => t.model.toLowerCase() === state.wallet.address.toLowerCase());
  const shared = page.data.filter((t) => t.model.toLowerCase() !== state.wallet.address.toLowerCase());
  mount(
    root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "My twins"), h("p", {}, `${state.wallet.label || state.wallet.address}: ${plural(mine.length, "twin")} of your own${shared.length ? `, paid a share of ${plural(shared.length, "other twin")}` : ""}.`)),
      h("div", { class: "row" },
        h("a", { class: "btn", href: "#/model/earnings" }, "Earnings"),
        h("a", { class: "btn primary", href: "#/model/twins/new" }, "Register a twin"))),
    mine.length
      ? h("div", { class: "twin-grid", id: "my-twins" }, mine.map((t) => tile(t, `#/model/twins/${t.twin_id}`)))
      : shared.length
        // A payee (an agency, a crew member) without a twin of her own: her shares matter, not an empty page.
        ? h("p", { class: "muted", id: "no-own-twin" }, "You have no twin of your own. The twins below pay you a share of every use.")
        : emptyState("You have no twin yet", "Register a digital twin of yourself, name who is paid, and publish your terms.",
        h("a", { class: "btn primary", href: "#/model/twins/new" }, "Register a twin")),
    shared.length ? [h("h2", { style: "margin-top:32px" }, "Twins that pay you a share"),
      h("div", { class: "twin-grid" }, shared.map((t) => tile(t, `#/twins/${t.twin_id}`)))] : null,
  );
}

function tile(twin, href) {
  const out = withheld(categoryStates(twin), 0xff);
  return h("a", { class: "twin-card", href, "data-twin-id": twin.twin_id },
    h("div", { class: "portrait" }, portrait(twin)),
    h("div", { class: "body" },
      h("div", { class: "name" }, twin.name),
      h("div", {}, consentBadge(twin.consent)),
      out.length ? h("div", { class: "withheld small", "data-withheld": "" }, `Consent withdrawn for ${out.map((c) => c.name).join(", ")}`) : null,
      h("div", { class: "meta" }, `${plural(twin.offers.length, "active offer")} · ${plural(twin.licenses_sold, "licence")} sold · ${plural(twin.uses_settled, "use")} paid`)));
}
