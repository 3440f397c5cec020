// Pieces several pages share: portraits, badges, offer terms, the confirmation before paying or publishing, the
// test faucet, and an amount field that checks itself as it is typed.

import { h, badge, mount, runSteps, toast } from "../ui.js";
import { money, duration, date, plural, parseAmount, symbol } from "../format.js";
import { state } from "../state.js";
import { explain } from "../errors.js";
import { token, send, balanceOf } from "../chain.js";

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

/**
 * Asks the person to confirm what is about to be paid or published, in a modal listing `rows` ([label, value]
 * pairs; a third element "total" marks the sum). Resolves true when confirmed, false when cancelled or closed.
 */
export function confirmDialog({ title, intro, rows = [], confirmLabel, danger = false }) {
  let dialog = document.getElementById("confirm-dialog");
  if (!dialog) {
    dialog = h("dialog", { id: "confirm-dialog", class: "progress-dialog", "aria-labelledby": "confirm-title" });
    document.body.append(dialog);
  }
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onClose = () => done(false);
    mount(dialog,
      h("h2", { id: "confirm-title" }, title),
      intro ? h("p", { class: "small" }, intro) : null,
      rows.length ? h("dl", { class: "kv", style: "margin:12px 0 18px" }, rows.map(([label, value, kind]) => [
        h("dt", { style: kind === "total" ? "font-weight:700" : "" }, label),
        h("dd", { style: kind === "total" ? "font-weight:700;margin:0" : "margin:0" }, value),
      ])) : null,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: danger ? "btn danger" : "btn primary", "data-confirm": "", onclick: () => done(true) }, confirmLabel)));
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    dialog.querySelector("[data-confirm]").focus();
  });
}

/** How much one press of the faucet hands out: enough for a few licences, far below its per-call limit. */
const faucetAmount = () => parseAmount("10000");

/**
 * "Get test tUSDC": on the local chain with the test stablecoin only (`deployment.faucet`), mints test tokens to
 * the connected wallet, then calls `onFunded(balance)`. Null anywhere else: real money is never conjured.
 */
export function faucetButton(onFunded) {
  if (!state.deployment?.faucet || !state.wallet) return null;
  const button = h("button", { type: "button", class: "btn small", "data-faucet": "" }, `Get test ${symbol()}`);
  button.addEventListener("click", async () => {
    const amount = faucetAmount();
    button.disabled = true;
    try {
      await runSteps(`Getting test ${symbol()}`, [
        { label: `Mint ${money(amount)} to your wallet`, run: (ctx, note) => send(token(true), "faucet", [state.wallet.address, amount], note) },
      ], explain);
      toast(`${money(amount)} of test tokens are in your wallet.`, "ok");
      onFunded?.(await balanceOf(state.wallet.address));
    } catch {
      /* the progress dialog showed why */
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/**
 * Wires an amount input inside a ui.field(): parses it on every keystroke (parseAmount, then `check(value)` which
 * may throw a sentence) and shows the error under the field, gone as soon as the text is right. Returns
 * `read()`, which gives the parsed amount or throws the field's error.
 */
export function amountField(fieldEl, input, what, check = () => {}) {
  const read = () => {
    const value = parseAmount(input.value, what);
    check(value);
    return value;
  };
  const validate = () => {
    try {
      read();
      fieldEl.setError("");
      return true;
    } catch (error) {
      fieldEl.setError(error.message);
      return false;
    }
  };
  input.addEventListener("input", validate);
  return { read, validate };
}
