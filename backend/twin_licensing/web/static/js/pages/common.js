// Pieces several pages share: portraits, badges, offer terms, the confirmation before paying or publishing, the
// test faucet, and an amount field that checks itself as it is typed.

import { h, badge, mount, runSteps, toast } from "../ui.js";
import { money, duration, date, plural, parseAmount, symbol, names } from "../format.js";
import { state } from "../state.js";
import { explain } from "../errors.js";
import { token, send, balanceOf, attestations, registry, offers } from "../chain.js";

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

/** "Verified by the guild" with the day of the attestation the twin was registered under (null when the API has
 * none to show: a twin registered before attestations existed). */
export function verifiedBadge(twin) {
  const v = twin.verification;
  if (!v || !v.attestation_id) return null;
  if (!v.verified) {
    return badge(`Guild attestation ${v.state === "revoked" ? "revoked" : "expired"} (verified ${date(v.issued_at)})`, "warn");
  }
  return h("span", { class: "badge ok verified", "data-verified": "" }, `Verified by the guild · ${date(v.issued_at)}`);
}

/** Whether a listed payee (not the model) accepted her listing: until she does, the twin does not count in her
 * withdraw(). Null for the model herself, or when the API does not say. */
export function payeeAcceptance(p, twinId) {
  if (p.role === "model") return null;
  const show = (accepted) => (accepted ? badge("Accepted", "ok") : badge("Not accepted yet", "warn"));
  if (typeof p.accepted === "boolean") return show(p.accepted);
  if (twinId === undefined) return null;
  // The index does not say: the registry does.
  const slot = h("span", { "data-acceptance": "" });
  registry().isPayeeAccepted(twinId, p.account).then((yes) => mount(slot, show(yes))).catch(() => {});
  return slot;
}

/** The contract's attestation roles (TwinTypes.PayeeRole: Model 0, Agency 1), by the API's names. */
export const ATTESTATION_ROLE = { model: 0, agency: 1 };

export function attestationBadge(a) {
  if (a.state === "valid" && a.current === false) return badge("Replaced", "");
  if (a.state === "valid") return badge("Valid", "ok");
  if (a.state === "revoked") return badge(`Revoked${a.revoked_at ? ` ${date(a.revoked_at)}` : ""}`, "bad");
  return badge("Expired", "warn");
}

/** Whether `address` holds the guild's role on chain (the deployment's guild address when the chain cannot say). */
export async function isGuild(address) {
  try {
    const contract = attestations();
    return await contract.hasRole(await contract.GUILD_ROLE(), address);
  } catch {
    return String(state.deployment.roles?.guild || "").toLowerCase() === address.toLowerCase();
  }
}

const LICENSE_STATUS = {
  active: ["Active", "ok"],
  expired: ["Expired", ""],
  revoked: ["Consent revoked", "bad"],
  revocation_pending: ["Consent being revoked", "warn"],
  exhausted: ["All uses spent", "info"],
  ended: ["Ended by the model (idle)", ""],
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
    h("div", {}, h("dt", {}, "Licence"), h("dd", {}, [offer.exclusive ? "Exclusive" : "Non-exclusive", offer.transferable ? ", transferable" : ", locked"].join(""))),
    offer.exclusive && offer.idle_end_after
      ? h("div", {}, h("dt", {}, "If unused"), h("dd", {}, `the model may end it after ${duration(offer.idle_end_after)} without a use`))
      : null,
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

/** The guild's exclusivity minimum (the least upfront fee of an exclusive offer), as the deployment read it. */
export function exclusivityMinimum(dep = state.deployment) {
  return BigInt(dep.exclusivity_minimum ?? 0);
}

export function exclusivityMinimumText(upfront, minimum) {
  return `An exclusive offer needs an upfront fee of at least ${money(minimum)} (the guild's exclusivity minimum); ` +
    `${money(upfront)} is less. Raise it, or make the offer non-exclusive.`;
}

/**
 * What today's rules on chain refuse in an offer (null when nothing): a per-use fee below the guild's floor for one
 * of its categories, an exclusive offer below the exclusivity minimum. `buying` words it for a brand about to buy
 * an offer the model published earlier. Read from the chain, not the index: the guild may have changed them since.
 */
export async function rulesProblem({ categories, perUseFee, upfront, exclusive, buying = false }) {
  const dep = state.deployment;
  const bits = [];
  for (let i = 0; i < dep.categories.length; i++) if ((Number(categories) >> i) & 1) bits.push(i);
  const [floors, minimum] = await Promise.all([
    Promise.all(bits.map((i) => registry().categoryFloor(i))),
    exclusive ? registry().exclusivityMinimum() : 0n,
  ]);
  const fee = BigInt(perUseFee);
  const below = bits.filter((i, n) => fee < BigInt(floors[n]));
  if (below.length) {
    const floor = floors.reduce((m, f) => (BigInt(f) > m ? BigInt(f) : m), 0n);
    const where = names(below.reduce((m, i) => m | (1 << i), 0), dep.categories).join(", ");
    return buying
      ? `The guild's minimum per-use fee for ${where} is now ${money(floor)}, above this offer's ${money(fee)}: it can no ` +
        "longer be bought. Choose another offer, or ask the model to publish one at today's minimum."
      : `The per-use fee of ${money(fee)} is below the guild's minimum of ${money(floor)} for ${where}. Raise it to at least ${money(floor)}.`;
  }
  if (exclusive && BigInt(upfront) < BigInt(minimum)) {
    return buying
      ? `An exclusive licence now needs an upfront fee of at least ${money(minimum)} (the guild's exclusivity minimum); ` +
        `this offer asks ${money(upfront)}, so it can no longer be bought. Ask the model to publish a new offer.`
      : exclusivityMinimumText(BigInt(upfront), BigInt(minimum));
  }
  return null;
}

/** An offer's terms as publishOffer takes them, in the order of the contract's struct (named by its ABI). */
export function offerTermsArg(values) {
  const inputs = offers().interface.getFunction("publishOffer").inputs;
  const struct = inputs[inputs.length - 1];
  return struct.components.map((c) => {
    if (!(c.name in values)) throw new Error(`The offer form does not know the contract's term “${c.name}”: reload the page.`);
    return values[c.name];
  });
}
