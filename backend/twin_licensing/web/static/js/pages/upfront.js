// The upfront fees of a model's licences, licence by licence: each fee (before the payees' split) vests day by day
// over its licence's term; what had not vested when consent was revoked goes back to the brand. Shown on her
// earnings page (all her twins) and on each twin's page.

import { api } from "../api.js";
import { money, dateTime, plural, toBig, shortAddress } from "../format.js";
import { h, mount, table } from "../ui.js";

/** A card listing the licences of `twinIds` that have an upfront fee, with the totals; it removes itself when none
 * has one (or the API cannot be read). `withTwin`: name each licence's twin (more than one twin listed). */
export function upfrontCard(twinIds, { withTwin = false } = {}) {
  const box = h("section", { class: "card", id: "upfront-licences", style: "margin-top:20px" });
  Promise.all(twinIds.map((id) => api("/licenses", { query: { twin_id: id, limit: 100 } }).catch(() => ({ data: [] }))))
    .then((pages) => {
      const rows = pages.flatMap((p) => p.data).filter((l) => l.upfront && toBig(l.upfront.amount) > 0n)
        .sort((a, b) => b.license_id - a.license_id);
      if (!rows.length) return box.remove();
      const total = (key) => rows.reduce((sum, l) => sum + toBig(l.upfront[key]), 0n);
      const refunded = total("refunded") + total("refundable");
      mount(box,
        h("div", { class: "card-head" }, h("h3", {}, "Upfront fees, licence by licence"), h("span", { class: "muted small" }, plural(rows.length, "licence"))),
        h("p", { class: "muted small" }, "Each licence's upfront fee, before the payees' split, vests day by day over its term. " +
          "If consent is revoked, the part not vested goes back to the brand."),
        table(
          [
            { label: "Licence", render: (l) => h("a", { href: `#/usage?license=${l.license_id}` }, withTwin ? `#${l.license_id} · ${l.twin.name}` : `#${l.license_id}`) },
            { label: "Brand", render: (l) => l.holder_label || shortAddress(l.holder) },
            { label: "Term until", render: (l) => dateTime(l.ends_at ?? l.expiry) },
            { label: "Upfront fee", num: true, render: (l) => money(l.upfront.amount) },
            { label: "Vested", num: true, render: (l) => h("span", { "data-vested": l.license_id }, money(l.upfront.vested)) },
            { label: "Still vesting", num: true, render: (l) => h("span", { "data-vesting": l.license_id }, money(l.upfront.still_vesting)) },
          ],
          rows.slice(0, 50),
        ),
        h("p", { class: "small", id: "upfront-totals" },
          `In all: ${money(total("vested"))} vested, ${money(total("still_vesting"))} still vesting` +
          (refunded > 0n ? `, ${money(refunded)} going back to brands whose licences ended early.` : ".")));
    })
    .catch(() => box.remove());
  return box;
}
