// Pieces several pages share: portraits, badges, offer terms.

import { h, badge } from "../ui.js";
import { money, duration, date, plural } from "../format.js";

export function portrait(twin) {
  if (twin.image) return h("img", { src: twin.image, alt: `Portrait of the digital twin of ${twin.name}` });
  const initials = (twin.name || "?").split(/\s+/).slice(0, 2).map((p) => p[0]).join("").toUpperCase();
  return h("div", { class: "initials", "aria-hidden": "true" }, initials);
}

export function consentBadge(consent) {
  if (!consent) return null;
  if (consent.state === "granted") return badge("Consent granted", "ok");
  if (consent.state === "revocation_pending") {
    return badge(`Consent revoked: uses stop ${date(consent.effective_at)}`, "warn");
  }
  return badge("Consent revoked", "bad");
}

const LICENSE_STATUS = {
  active: ["Active", "ok"],
  expired: ["Expired", ""],
  revoked: ["Consent revoked", "bad"],
  revocation_pending: ["Consent being revoked", "warn"],
  exhausted: ["All uses spent", "info"],
  reclaimed: ["Escrow reclaimed", ""],
};

export function licenseBadge(status) {
  const [text, kind] = LICENSE_STATUS[status] || [status, ""];
  return badge(text, kind);
}

const USE_STATUS = {
  pending: ["Pending", "info"],
  submitted: ["Submitted", "warn"],
  settled: ["Settled", "ok"],
  held: ["On hold", "bad"],
  rejected: ["Refused", "bad"],
};

export function useBadge(status) {
  const [text, kind] = USE_STATUS[status] || [status, ""];
  return badge(text, kind);
}

/** pending -> submitted -> settled, with the current stage marked. */
export function tracker(status) {
  const stages = ["pending", "submitted", "settled"];
  const at = stages.indexOf(status);
  const out = [];
  stages.forEach((stage, i) => {
    if (i) out.push(h("span", { class: `bar ${i <= at ? "done" : ""}` }));
    const cls = i < at || (i === at && stage === "settled") ? "done" : i === at ? "current" : "";
    out.push(h("span", { class: `stage ${cls}` }, h("span", { class: "pip" }), stage[0].toUpperCase() + stage.slice(1)));
  });
  return h("div", { class: "tracker", "data-status": status }, out);
}

export function offerTerms(offer) {
  return h(
    "dl",
    { class: "terms" },
    h("div", {}, h("dt", {}, "Upfront"), h("dd", {}, money(offer.upfront_fee))),
    h("div", {}, h("dt", {}, "Per use"), h("dd", {}, money(offer.per_use_fee))),
    h("div", {}, h("dt", {}, "Duration"), h("dd", {}, duration(offer.duration))),
    h("div", {}, h("dt", {}, "Uses"), h("dd", {}, offer.max_uses ? `up to ${plural(offer.max_uses, "use")}` : "unlimited")),
    h("div", {}, h("dt", {}, "Territories"), h("dd", {}, offer.territory_names.length === 8 ? "Worldwide" : offer.territory_names.join(", "))),
    h("div", {}, h("dt", {}, "Licence"), h("dd", {}, [offer.exclusive ? "Exclusive" : "Non-exclusive", offer.transferable ? ", transferable" : ""].join(""))),
  );
}

export function offerTitle(offer) {
  return offer.category_names.join(" · ");
}
