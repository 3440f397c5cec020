// Model: one of her twins. Publish or withdraw offers, revoke or grant consent.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { money, parseWhole, dateTime, duration, bps, names, plural, shortAddress, symbol } from "../format.js";
import { h, mount, errorBox, runSteps, toast, badge, field } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, registry, offers, send, events, chainTime } from "../chain.js";
import { portrait, consentBadge, verifiedBadge, payeeAcceptance, offerTerms, offerTitle, confirmDialog, amountField, exclusivityMinimum,
  exclusivityMinimumText, rulesProblem, offerTermsArg } from "./common.js";
import { consentTimeline, readConsent, storeConsent } from "./consent.js";
import { upfrontCard } from "./upfront.js";
import { categoryConsentCard, categoryStates, chainCategoryStates, withheld, publishingRefusal } from "./category_consent.js";

let timer = null;
const POLL_MS = 1000;

export function leave() {
  clearTimeout(timer);
  timer = null;
}

export async function render(root, { args, isCurrent }) {
  // One loader for the page's numbers: the twin, and whether any of its licences has a use waiting to settle.
  const load = async () => {
    const [twin, sold] = await Promise.all([
      api(`/twins/${args[0]}`),
      api("/licenses", { query: { twin_id: args[0], limit: 100 } }).catch(() => ({ data: [] })),
    ]);
    return { twin, sold: sold.data, pending: sold.data.some((l) => l.uses_pending > 0) };
  };
  const first = await load();
  const twin = first.twin;
  const isModel = state.wallet && state.wallet.address.toLowerCase() === twin.model.toLowerCase();
  const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const numbers = h("span", { class: "muted small", id: "twin-numbers" });
  const paint = (t) => {
    // `earned` is the twin's gross: everything its licences paid, before the split among the payees.
    numbers.textContent = `${plural(t.licenses_sold, "licence")} sold · ${plural(t.uses_settled, "use")} paid · ` +
      `${money(t.earned)} paid in total to all payees`;
  };
  paint(twin);
  // Poll while a use of this twin waits for settlement, so the numbers follow it; stop once none does.
  const follow = (pending) => {
    clearTimeout(timer);
    if (!pending) return;
    timer = setTimeout(async () => {
      if (!isCurrent()) return;
      try {
        const next = await load();
        if (!isCurrent()) return;
        paint(next.twin);
        follow(next.pending);
      } catch {
        follow(true);
      }
    }, POLL_MS);
  };
  mount(
    root,
    h("div", { class: "crumbs" }, h("a", { href: "#/model/twins" }, "My twins"), " / ", twin.name),
    h("div", { class: "page-head" },
      h("div", { class: "row" },
        h("div", { class: "portrait", style: "width:72px;border-radius:8px;overflow:hidden" }, portrait(twin)),
        h("div", {}, h("h1", {}, twin.name), h("div", { class: "row" }, consentBadge(twin.consent), verifiedBadge(twin), numbers))),
      h("div", { class: "row" },
        h("a", { class: "btn", href: `#/twins/${twin.twin_id}` }, "See it as brands do"),
        h("a", { class: "btn", href: "#/model/earnings", title: "Your own share, after the other payees'" }, "Your earnings"))),
    isModel ? null : errorBox("Only the twin's model can change its offers and consent. Switch to her wallet (top right)."),
    h("div", { class: "grid-2" },
      h("div", { class: "stack" }, offersCard(twin, isModel, reload), exclusiveCard(first.sold, isModel, reload), consentCard(twin, isModel, reload),
        categoryConsentCard(twin, isModel, reload)),
      h("div", { class: "stack" }, publishCard(twin, isModel, reload), payeesCard(twin))),
    upfrontCard([twin.twin_id]),
  );
  follow(first.pending);
}

function offersCard(twin, isModel, reload) {
  const active = twin.all_offers.filter((o) => o.active);
  const withdrawn = twin.all_offers.filter((o) => !o.active);
  const slot = h("div");
  const withdraw = async (offer) => {
    mount(slot);
    try {
      await runSteps("Withdrawing the offer", [
        { label: `Withdraw offer #${offer.offer_id}`, run: (ctx, note) => send(licenses(true), "withdrawOffer", [offer.offer_id], note) },
        { label: "Update the catalogue", run: () => poll(async () => !(await api(`/twins/${twin.twin_id}`)).offers.some((o) => o.offer_id === offer.offer_id), { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast("Offer withdrawn: no new licence can be bought under it.", "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  return h("section", { class: "card", id: "offers" },
    h("div", { class: "card-head" }, h("h3", {}, "Published offers"), h("span", { class: "muted small" }, plural(active.length, "active offer"))),
    slot,
    active.length ? active.map((offer) =>
      h("article", { class: "offer", "data-offer-id": offer.offer_id },
        h("div", {}, h("h3", {}, offerTitle(offer)), h("div", { class: "tags" }, offer.exclusive ? badge("Exclusive", "warn") : null,
          h("span", { class: "muted small" }, `Offer #${offer.offer_id} · ${plural(offer.licenses_sold, "licence")} sold`)), offerTerms(offer)),
        h("div", { class: "fee" }, h("div", { class: "big" }, money(offer.per_use_fee)), h("div", { class: "muted small" }, "per use"),
          h("button", { class: "btn small danger", style: "margin-top:10px", disabled: !isModel, onclick: () => withdraw(offer) }, "Withdraw"))))
      : h("p", { class: "muted" }, "No active offer: brands cannot license this twin until you publish one."),
    withdrawn.length ? h("p", { class: "muted small", style: "margin-top:12px" }, `${plural(withdrawn.length, "withdrawn offer")}: #${withdrawn.map((o) => o.offer_id).join(", #")}`) : null);
}

/**
 * The exclusive licences of this twin still running, and for each whether the model may end it now because it
 * settled no use for the idle period her offer stated (the button shows only then; otherwise, why not yet).
 */
function exclusiveCard(sold, isModel, reload) {
  const running = sold.filter((l) => l.terms.exclusive && (l.status === "active" || l.status === "exhausted"));
  if (!running.length) return null;
  const slot = h("div");
  const end = async (l) => {
    mount(slot);
    const confirmed = await confirmDialog({
      title: `End licence #${l.license_id}?`,
      intro: `${l.holder_label || shortAddress(l.holder)} settled no use of it for ${duration(l.idleEndAfter)}, the idle period your offer ` +
        "stated. Ending it stops the licence now: its categories and territories are free for other brands, and the brand takes back its unspent escrow.",
      rows: [["Brand", l.holder_label || l.holder], ["Usage", l.terms.category_names.join(", ")], ["Uses settled", String(l.uses_settled)], ["Would run until", dateTime(l.expiry)]],
      confirmLabel: "End the licence",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await runSteps("Ending the idle licence", [
        { label: `End licence #${l.license_id}`, run: (ctx, note) => send(licenses(true), "endIdleExclusive", [l.license_id], note) },
        { label: "Update the licences", run: () => poll(async () => (await api(`/licenses/${l.license_id}`)).status !== l.status, { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(`Licence #${l.license_id} has ended: the twin is free for other brands in ${l.terms.category_names.join(", ")}.`, "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  return h("section", { class: "card", id: "exclusive-licences" },
    h("div", { class: "card-head" }, h("h3", {}, "Exclusive licences"), h("span", { class: "muted small" }, plural(running.length, "running"))),
    h("p", { class: "muted small" }, "You may end an exclusive licence that has settled no use for the idle period of its offer."),
    slot,
    running.map((l) => {
      const action = h("div", { class: "fee", "data-end-idle-slot": l.license_id }, h("span", { class: "muted small" }, "Checking…"));
      idleState(l).then(({ endable, reason }) => mount(action, endable
        ? h("button", { type: "button", class: "btn small danger", "data-end-idle": l.license_id, disabled: !isModel, onclick: () => end(l) }, "End the licence")
        : h("p", { class: "muted small", "data-end-idle-reason": l.license_id, style: "max-width:260px;margin:0" }, reason)))
        .catch((error) => mount(action, h("p", { class: "muted small" }, explain(error))));
      return h("article", { class: "offer", "data-license-id": l.license_id },
        h("div", {},
          h("h3", {}, `Licence #${l.license_id} · ${l.terms.category_names.join(" · ")}`),
          h("div", { class: "muted small" }, `${l.holder_label || shortAddress(l.holder)} · ${plural(l.uses_settled, "use")} settled · until ${dateTime(l.expiry)}`)),
        action);
    }));
}

/**
 * Whether the model may end this exclusive licence now, from the chain: its offer's idle period after its purchase
 * or its last settled use has passed (`idleEndableAt`). Otherwise, from when she may, in plain words.
 */
async function idleState(l) {
  const contract = licenses();
  const [endableAt, terms, now] = await Promise.all([contract.idleEndableAt(l.license_id), contract.licenseTerms(l.license_id), chainTime()]);
  l.idleEndAfter = Number(terms.idleEndAfter);
  const from = Number(endableAt);
  if (from && now >= from) return { endable: true };
  if (from > Number(l.expiry)) return { endable: false, reason: "It settled a use recently enough to run to the end of its term." };
  return {
    endable: false,
    reason: `You may end it from ${dateTime(from)} if it settles no use before then: your offer's idle period is ${duration(l.idleEndAfter)}.`,
  };
}

function consentCard(twin, isModel, reload) {
  const slot = h("div");
  // The twin's own notice period, the one in force when its consent was granted (an admin's later change of the
  // registry's period does not touch it): uses already licensed may still be reported that long after a revocation.
  const notice = Number(twin.notice_period) || 0;
  const revoke = async () => {
    mount(slot);
    // The chain's clock may run ahead of ours; ask it, but never keep the model waiting on a slow node for a date.
    let now = Math.floor(Date.now() / 1000);
    try {
      now = Math.max(now, await Promise.race([chainTime(), new Promise((resolve) => setTimeout(() => resolve(0), 2000))]));
    } catch { /* the wall clock will do */ }
    const after = notice
      ? `The notice period your consent keeps is ${duration(notice)}: brands' licences can still report uses until ` +
        `the revocation takes effect on ${dateTime(now + notice)}; then they end, and brands get back the part of ` +
        "their upfront fees that has not vested and, after the grace period, their unspent escrow."
      : "Your consent keeps no notice period: brands' licences end at once; brands get back the part of their " +
        "upfront fees that has not vested and, after the grace period, their unspent escrow.";
    if (!confirm(`Revoke consent for ${twin.name}? Your offers are withdrawn and no new licence can be bought from ` +
      `now on; granting consent again does not publish them back. ${after}`)) return;
    try {
      await runSteps("Revoking consent", [
        { label: "Revoke consent on chain", run: (ctx, note) => send(registry(true), "revokeConsent", [twin.twin_id], note) },
        { label: "Update the catalogue", run: () => poll(async () => (await api(`/twins/${twin.twin_id}`)).consent.state !== "granted", { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast("Consent revoked: your offers are withdrawn and no brand can buy a new licence.", "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  // Granting again may amend the document: the text is stored first, then its hash goes on chain.
  const text = h("textarea", { name: "consent-text", id: "consent-text", style: "min-height:140px" });
  const textField = field("Consent document", text, "You may amend it: brands read this text, and its hash goes on chain with the grant.");
  const current = twin.consent.state !== "granted" && twin.consent.consent_hash
    ? readConsent(twin.consent.consent_hash).then((doc) => { if (doc && !text.value) text.value = doc.text; }, () => {})
    : Promise.resolve();
  const grant = async () => {
    mount(slot);
    await current; // the current text, when the server has it, is what is granted unless the model amends it
    if (!text.value.trim()) {
      textField.setError("Write the consent document you grant (or keep the previous one).");
      return;
    }
    try {
      await runSteps("Granting consent", [
        { label: "Store the consent document", run: async (ctx) => { ctx.consentHash = await storeConsent(text.value); } },
        { label: "Grant consent on chain", run: (ctx, note) => send(registry(true), "grantConsent", [twin.twin_id, ctx.consentHash], note) },
        { label: "Update the catalogue", run: () => poll(async () => (await api(`/twins/${twin.twin_id}`)).consent.state === "granted", { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast("Consent granted: publish an offer so that brands can license the twin again.", "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  const granted = twin.consent.state === "granted";
  return h("section", { class: "card", id: "consent" },
    h("div", { class: "card-head" }, h("h3", {}, "Consent"), consentBadge(twin.consent)),
    h("p", { class: "small" }, granted
      ? `Brands may license this twin. If you revoke consent, your offers are withdrawn at once and licences end ${notice ? `after ${duration(notice)}` : "at once"}; ` +
        "brands then get back the upfront fees not vested and their unspent escrow."
      : `Consent is revoked${twin.consent.effective_at ? ` (uses stop ${dateTime(twin.consent.effective_at)})` : ""}. Granting it again publishes ` +
        "nothing: publish new offers to license the twin again. Licences the revocation ended stay ended."),
    slot,
    granted || !isModel ? null : textField,
    granted
      ? h("button", { class: "btn danger", id: "revoke-consent", disabled: !isModel, onclick: revoke }, "Revoke consent")
      : h("button", { class: "btn primary", id: "grant-consent", disabled: !isModel, onclick: grant }, "Grant consent again"),
    h("h4", { style: "margin:16px 0 0" }, "Consent timeline"),
    consentTimeline(twin));
}

function publishCard(twin, isModel, reload) {
  const dep = state.deployment;
  const checks = (list, prefix, initial) => list.map((label, i) => {
    const input = h("input", { type: "checkbox", name: `${prefix}-${i}`, value: String(i), checked: initial.includes(i) });
    return h("label", { class: "chip-toggle" }, input, h("span", {}, label));
  });
  const catBoxes = checks(dep.categories, "cat", [0, 1]);
  const terrBoxes = checks(dep.territories, "terr", [0, 1]);
  const upfront = h("input", { type: "text", name: "upfront", inputmode: "decimal", value: "500" });
  const perUse = h("input", { type: "text", name: "per_use", inputmode: "decimal", value: "2.50" });
  const days = h("input", { type: "text", name: "days", inputmode: "numeric", value: "90" });
  const maxUses = h("input", { type: "text", name: "max_uses", inputmode: "numeric", value: "0" });
  const exclusive = h("input", { type: "checkbox", name: "exclusive" });
  const transferable = h("input", { type: "checkbox", name: "transferable" });
  const floorHint = h("small", { id: "floor-hint" });
  const perUseField = field(`Per-use fee (${symbol()})`, perUse);
  perUseField.append(floorHint);
  const upfrontField = field(`Upfront fee (${symbol()})`, upfront);
  const daysField = field("Duration (days)", days);
  const maxUsesField = field("Maximum uses", maxUses, "0 = unlimited");
  const mask = (boxes) => boxes.reduce((m, el) => (el.querySelector("input").checked ? m | (1 << Number(el.querySelector("input").value)) : m), 0);
  const floorOf = (cats) => dep.floors.filter((f) => (cats >> f.category) & 1).reduce((m, f) => (BigInt(f.min_per_use_fee) > m ? BigInt(f.min_per_use_fee) : m), 0n);
  // The guild's floor is checked as the fee is typed, not by a refused transaction.
  const fee = amountField(perUseField, perUse, "per-use fee", (value) => {
    if (value === 0n) throw new Error("The per-use fee must be above zero: every use is paid.");
    const cats = mask(catBoxes);
    const floor = floorOf(cats);
    if (value < floor) {
      throw new Error(`The per-use fee of ${money(value)} is below the guild's minimum of ${money(floor)} for ${names(cats, dep.categories).join(", ")}. Raise it to at least ${money(floor)}.`);
    }
  });
  // An exclusive offer reserves its categories and territories: the guild asks an upfront fee of at least its minimum.
  let minimum = exclusivityMinimum(dep);
  const upfrontHint = h("small", { id: "exclusive-minimum-hint" });
  upfrontField.append(upfrontHint);
  const upfrontFee = amountField(upfrontField, upfront, "upfront fee", (value) => {
    if (exclusive.checked && value < minimum) throw new Error(exclusivityMinimumText(value, minimum));
  });
  const whole = (el, box, what, limits) => {
    const read = () => parseWhole(el.value, what, limits);
    el.addEventListener("input", () => { try { read(); box.setError(""); } catch (e) { box.setError(e.message); } });
    return read;
  };
  const readDays = whole(days, daysField, "duration in days", { min: 1, max: 3650 });
  const readMaxUses = whole(maxUses, maxUsesField, "maximum number of uses", { max: 4_000_000_000 });
  // The model may end an exclusive licence that settled no use for this long (it is part of the offer's terms).
  const idleDays = h("input", { type: "text", name: "idle_days", inputmode: "numeric", value: "30" });
  const idleField = field("End it if unused for (days)", idleDays,
    "If the brand settles no use for this long, you may end the exclusive licence and free the twin for others.");
  const readIdleDays = whole(idleDays, idleField, "idle period in days", { min: 1, max: 3650 });
  const showIdle = () => {
    idleField.hidden = !exclusive.checked;
    upfrontHint.textContent = exclusive.checked && minimum > 0n ? `An exclusive offer needs at least ${money(minimum)} upfront (the guild's minimum).` : "";
    if (upfront.value.trim()) upfrontFee.validate();
  };
  exclusive.addEventListener("change", showIdle);
  showIdle();
  // Today's minimum, from the chain (the deployment was read when the page loaded).
  registry().exclusivityMinimum().then((value) => { minimum = BigInt(value); showIdle(); }).catch(() => {});
  // A category whose consent the model withdrew cannot be in an offer: said as it is ticked.
  const withheldSlot = h("div", { "data-withheld-slot": "" });
  const updateFloor = () => {
    const cats = mask(catBoxes);
    floorHint.textContent = cats ? `The guild's minimum for ${names(cats, dep.categories).join(", ")} is ${money(floorOf(cats))} per use.` : "";
    if (perUse.value.trim()) fee.validate();
    const refused = publishingRefusal(withheld(categoryStates(twin), cats));
    mount(withheldSlot, refused ? h("div", { class: "form-error", role: "alert" }, refused) : null);
  };
  catBoxes.forEach((el) => el.addEventListener("change", updateFloor));
  updateFloor();
  const slot = h("div");
  const submit = async (event) => {
    event.preventDefault();
    mount(slot);
    const categories = mask(catBoxes);
    const territories = mask(terrBoxes);
    const checks = [() => fee.read(), () => upfrontFee.read(), readDays, readMaxUses, () => (exclusive.checked ? readIdleDays() : 0)];
    const boxes = [perUseField, upfrontField, daysField, maxUsesField, idleField];
    let bad = false;
    const values = checks.map((read, i) => {
      try {
        const value = read();
        boxes[i].setError("");
        return value;
      } catch (error) {
        boxes[i].setError(error.message);
        bad = true;
        return null;
      }
    });
    if (!categories || !territories) {
      mount(slot, errorBox(categories ? "Choose at least one territory." : "Choose at least one usage category."));
      return;
    }
    if (bad) return;
    const [perUseFee, upfrontValue, dayCount, usesCap, idleDayCount] = values;
    if (exclusive.checked && idleDayCount >= dayCount) {
      idleField.setError(`The idle period (${plural(idleDayCount, "day")}) must be shorter than the term (${plural(dayCount, "day")}), or it could never end the licence.`);
      return;
    }
    // The rules and her category consent as the chain holds them now (either may have changed since this page loaded).
    try {
      const problem = publishingRefusal(withheld(await chainCategoryStates(twin.twin_id, categories), categories)) ||
        await rulesProblem({ categories, perUseFee, upfront: upfrontValue, exclusive: exclusive.checked });
      if (problem) {
        mount(slot, errorBox(problem));
        return;
      }
    } catch { /* the chain could not be read: the contract still refuses, and says why */ }
    const terms = offerTermsArg({
      upfrontFee: upfrontValue, perUseFee, duration: dayCount * 86400, maxUses: usesCap, categories, territories,
      exclusive: exclusive.checked, transferable: transferable.checked, idleEndAfter: idleDayCount * 86400,
    });
    const confirmed = await confirmDialog({
      title: "Publish this offer",
      intro: `${twin.name}: brands can buy licences under these terms as soon as it is published.`,
      rows: [
        ["Per-use fee", money(perUseFee), "total"],
        ["Upfront fee", money(upfrontValue)],
        ["Uses", usesCap ? `up to ${plural(usesCap, "use")} (at most ${money(BigInt(usesCap) * perUseFee)} of use fees)` : "unlimited"],
        ["Term", duration(dayCount * 86400)],
        ["Usage", names(categories, dep.categories).join(", ")],
        ["Territories", names(territories, dep.territories).join(", ")],
        ["Licence", `${exclusive.checked ? "Exclusive" : "Non-exclusive"}, ${transferable.checked ? "transferable" : "locked (cannot be transferred)"}`],
        exclusive.checked ? ["Idle end", `you may end it after ${plural(idleDayCount, "day")} without a settled use`] : null,
      ].filter(Boolean),
      confirmLabel: "Publish the offer",
    });
    if (!confirmed) return;
    try {
      const ctx = await runSteps("Publishing the offer", [
        {
          label: "Publish the offer on chain",
          run: async (c, note) => {
            const receipt = await send(offers(true), "publishOffer", [twin.twin_id, terms], note);
            c.offerId = events(receipt, "LicenseToken", "OfferPublished")[0].offerId.toString();
          },
        },
        { label: "Add it to the catalogue", run: (c) => poll(async () => (await api(`/twins/${twin.twin_id}`)).offers.some((o) => String(o.offer_id) === c.offerId), { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(`Offer #${ctx.offerId} is live in the catalogue.`, "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  return h("form", { class: "card", id: "publish-offer", onsubmit: submit },
    h("h3", {}, "Publish an offer"),
    h("fieldset", { style: "border:0;padding:0;margin:0 0 12px" }, h("legend", { class: "small", style: "font-weight:600" }, "Usage categories"), h("div", { class: "chips" }, catBoxes)),
    withheldSlot,
    h("fieldset", { style: "border:0;padding:0;margin:0 0 12px" }, h("legend", { class: "small", style: "font-weight:600" }, "Territories"), h("div", { class: "chips" }, terrBoxes)),
    h("div", { class: "inline-fields" }, upfrontField, perUseField),
    h("div", { class: "inline-fields" }, daysField, maxUsesField),
    h("label", { class: "checkline" }, exclusive, "Exclusive: no other licence in these categories and territories while it runs"),
    idleField,
    h("label", { class: "checkline" }, transferable, "Transferable: the brand may pass the licence on"),
    slot,
    h("button", { class: "btn primary", type: "submit", disabled: !isModel }, "Publish"));
}

function payeesCard(twin) {
  const waiting = twin.payees.filter((p) => p.role !== "model" && p.accepted === false);
  return h("section", { class: "card", id: "payees" },
    h("h3", {}, "Payees"),
    waiting.length ? h("p", { class: "muted small" }, `${plural(waiting.length, "payee")} ${waiting.length === 1 ? "has" : "have"} not accepted yet: ` +
      "each is paid its share as uses settle, and withdraws it once it accepts the listing (or leaves it, and its share comes back to you).") : null,
    h("table", { class: "list" }, h("tbody", {}, twin.payees.map((p) =>
      h("tr", { "data-payee": p.account }, h("td", {}, p.label || shortAddress(p.account), h("div", { class: "muted small addr" }, shortAddress(p.account))),
        h("td", {}, badge(p.role)), h("td", {}, payeeAcceptance(p, twin.twin_id)), h("td", { class: "num" }, bps(p.share_bps)))))));
}
