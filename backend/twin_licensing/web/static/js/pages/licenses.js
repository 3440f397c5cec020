// Brand: the licences the connected wallet holds.

import { api } from "../api.js";
import { state, walletChanged } from "../state.js";
import { signedInAs, signInPrompt } from "../session.js";
import { money, date, plural } from "../format.js";
import { h, mount, emptyState, table, pager } from "../ui.js";
import { licenseBadge } from "./common.js";

const LIMIT = 20;

export async function render(root, { params }) {
  if (!state.wallet) {
    mount(root, emptyState("Choose a wallet", "Connect a wallet (or pick a brand's development account, top right) to see its licences."));
    return;
  }
  if (!signedInAs()) {
    mount(root, h("div", { class: "page-head" }, h("h1", {}, "My licences")), signInPrompt("the licences you hold", walletChanged));
    return;
  }
  const offset = Number(params.get("offset") || 0);
  const page = await api("/licenses", { query: { holder: state.wallet.address, offset, limit: LIMIT } });
  mount(
    root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "My licences"), h("p", {}, `${state.wallet.label || state.wallet.address} holds ${plural(page.count, "licence")}.`)),
      h("a", { class: "btn primary", href: "#/catalogue" }, "Browse twins")),
    h("div", { class: "card", id: "license-list" },
      table(
        [
          { label: "", render: (l) => (l.twin.image ? h("img", { class: "thumb", src: l.twin.image, alt: "" }) : "") },
          { label: "Twin", render: (l) => h("div", {}, h("strong", {}, l.twin.name), h("div", { class: "muted small" }, `Licence #${l.license_id}`)) },
          { label: "Status", render: (l) => licenseBadge(l.status) },
          { label: "Expires", render: (l) => date(l.expiry) },
          { label: "Uses settled", num: true, render: (l) => `${l.uses_settled}${l.uses_pending ? ` (+${l.uses_pending} pending)` : ""}` },
          { label: "Escrow left", num: true, render: (l) => money(l.escrow) },
        ],
        page.data,
        {
          rowHref: (l) => `#/licenses/${l.license_id}`,
          empty: emptyState("No licence yet", "Find a twin in the catalogue and license it for your next campaign.",
            h("a", { class: "btn primary", href: "#/catalogue" }, "Open the catalogue")),
        },
      ),
    ),
    pager(offset, LIMIT, page.count, (o) => (location.hash = `#/licenses?offset=${o}`)),
  );
}
