// Consent per usage category (issue 12): a model may withhold one category of her twin ("e-commerce yes,
// AI-generated campaigns no") with the twin's notice period. This module reads each category's state (from the
// index for lists, from the chain right before a signature), says in plain words what a withheld category means to
// a brand or a model, and draws the model's per-category list with its revoke / grant buttons.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { dateTime, duration } from "../format.js";
import { h, mount, errorBox, runSteps, toast, badge } from "../ui.js";
import { explain } from "../errors.js";
import { registry, send, chainTime } from "../chain.js";
import { confirmDialog } from "./common.js";

// TwinTypes.ConsentState, in its order on chain; the API uses the same words.
const STATES = ["granted", "revocation_pending", "revoked"];

/** Each usage category of `twin` with its consent: [{ category, name, state, effective_at }], all of them. */
export function categoryStates(twin) {
  const known = new Map((twin.category_consent || []).map((c) => [Number(c.category), c]));
  return state.deployment.categories.map((name, category) => {
    const c = known.get(category);
    return { category, name, state: c?.state || "granted", effective_at: c?.effective_at || null };
  });
}

/** The categories of the bitmask `mask` as the chain holds their consent now (read right before a signature). */
export async function chainCategoryStates(twinId, mask) {
  const wanted = state.deployment.categories.map((name, category) => ({ name, category })).filter((c) => (Number(mask) >> c.category) & 1);
  const contract = registry();
  return Promise.all(wanted.map(async (c) => {
    const [consent, effectiveAt] = await contract.categoryConsentOf(twinId, c.category);
    return { ...c, state: STATES[Number(consent)], effective_at: Number(effectiveAt) || null };
  }));
}

/** The states in `states` whose category is not granted (revocation pending or in effect) and in the bitmask `mask`. */
export function withheld(states, mask) {
  return states.filter((c) => c.state !== "granted" && (Number(mask) >> c.category) & 1);
}

const list = (items) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`);

/** Why an offer including the withheld categories `refused` cannot be bought (null when none is withheld). */
export function buyingRefusal(twin, refused) {
  if (!refused.length) return null;
  const one = refused.length === 1;
  return `${twin.name || "The model"} has withdrawn her consent for ${list(refused.map((c) => c.name))}: ` +
    `an offer including ${one ? "this category" : "these categories"} cannot be bought. Choose an offer without ` +
    `${one ? "it" : "them"}, or wait until she grants ${one ? "it" : "them"} again.`;
}

/** Why the model cannot publish an offer including the withheld categories `refused` (null when none is withheld). */
export function publishingRefusal(refused) {
  if (!refused.length) return null;
  const one = refused.length === 1;
  return `You have withdrawn your consent for ${list(refused.map((c) => c.name))}: an offer cannot include ` +
    `${one ? "this category" : "these categories"}. Untick ${one ? "it" : "them"}, or grant ${one ? "it" : "them"} again first (under Consent per category).`;
}

/** Why a use in category `c` cannot be reported now (null when it can): its revocation has taken effect at `now`. */
export function reportRefusal(c, now) {
  if (!c || c.state === "granted") return null;
  if (c.state === "revocation_pending" && c.effective_at && Number(c.effective_at) > now) return null;
  return `The model withdrew her consent for ${c.name}, in effect since ${dateTime(c.effective_at)}: a use in this ` +
    "category can no longer be reported or paid. Report uses in the licence's other categories only.";
}

/** The title of a consent timeline entry that concerns one usage category (null for the whole twin's consent). */
export function categoryChangeTitle(change) {
  if (change.category === null || change.category === undefined) return null;
  const name = state.deployment.categories[Number(change.category)] || `category ${change.category}`;
  return change.kind === "revoked" ? `Consent for ${name} withdrawn` : `Consent for ${name} granted again`;
}

/** For a brand about to report a use in category `c` whose withdrawal is pending at `now`: until when it can (else null). */
export function reportNotice(c, now) {
  if (!c || c.state === "granted" || reportRefusal(c, now)) return null;
  return `The model withdrew her consent for ${c.name}: uses in this category can be reported and paid until ` +
    `${dateTime(c.effective_at)}, not after.`;
}

function stateBadge(c) {
  if (c.state === "granted") return badge("Consents", "ok");
  if (c.state === "revocation_pending") return badge(`Withdrawn: uses stop ${dateTime(c.effective_at)}`, "warn");
  return badge("Withdrawn", "bad");
}

/** For brands: which usage categories the model consents to (a list of chips, the withheld ones said as such). */
export function categoryConsentSummary(twin) {
  const states = categoryStates(twin);
  const out = withheld(states, 0xff);
  return h("section", { class: "card", id: "category-consent" },
    h("h3", {}, "Consent per category"),
    h("p", { class: "small" }, out.length
      ? `${twin.name} consents to ${states.length - out.length} of the ${states.length} usage categories. An offer including a withdrawn one cannot be bought.`
      : `${twin.name} consents to every usage category.`),
    h("ul", { class: "category-consent columns" }, states.map((c) =>
      h("li", { "data-category": c.category, "data-state": c.state }, h("span", {}, c.name), stateBadge(c)))));
}

/** The model's list: each category's consent, with a button to withdraw it (after a confirmation that says the
 * notice period in plain words) or to grant it again. */
export function categoryConsentCard(twin, isModel, reload) {
  const slot = h("div");
  const knownNotice = twin.notice_period ?? state.deployment.notice_period;
  const knownText = knownNotice ? duration(knownNotice) : "the notice period";
  const indexed = (category, wanted) => poll(async () => {
    const c = categoryStates(await api(`/twins/${twin.twin_id}`)).find((x) => x.category === category);
    return wanted(c.state);
  }, { timeoutMs: INDEX_WAIT_MS });

  const revoke = async (c) => {
    mount(slot);
    // The chain's clock may run ahead of ours, and the twin's notice period is the one its consent keeps
    // (`noticePeriodOf`; the index cannot tell a period of 0): ask the chain, but never keep the model waiting on a
    // slow node for them.
    let now = Math.floor(Date.now() / 1000);
    let notice = knownNotice;
    const late = new Promise((resolve) => setTimeout(() => resolve(null), 2000));
    try {
      const [chainNow, period] = await Promise.race([Promise.all([chainTime(), registry().noticePeriodOf(twin.twin_id)]), late]) || [0, null];
      now = Math.max(now, chainNow);
      if (period !== null) notice = Number(period);
    } catch { /* the wall clock and the index will do */ }
    const known = notice !== null && notice !== undefined;
    const noticeText = !known ? "the notice period" : notice === 0 ? "none" : duration(notice);
    const uses = !known
      ? `Licences already sold may still report ${c.name} uses during the notice period; after that none is paid.`
      : notice === 0
        ? `This twin's consent has no notice period: licences already sold can no longer report ${c.name} uses.`
        : `Licences already sold may still report ${c.name} uses during the notice period of ${noticeText}, until ` +
          `${dateTime(now + notice)}; after that no ${c.name} use is paid.`;
    const confirmed = await confirmDialog({
      title: `Withdraw consent for ${c.name}?`,
      intro: `Your offers including ${c.name} are withdrawn, and you cannot publish one. ${uses} ` +
        "Your other categories go on as before. You can grant this one again at any time, but that publishes nothing: " +
        "you publish new offers for it.",
      rows: [["Category", c.name], ["Notice period", noticeText], known && notice ? ["Uses stop", dateTime(now + notice)] : null].filter(Boolean),
      confirmLabel: `Withdraw ${c.name}`,
      danger: true,
    });
    if (!confirmed) return;
    try {
      await runSteps(`Withdrawing consent for ${c.name}`, [
        { label: `Withdraw ${c.name} on chain`, run: (ctx, note) => send(registry(true), "revokeCategoryConsent", [twin.twin_id, c.category], note) },
        { label: "Update the catalogue", run: () => indexed(c.category, (s) => s !== "granted") },
      ], explain);
      toast(`Consent for ${c.name} withdrawn: your offers including it are withdrawn, and no new licence can include it.`, "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };

  const grant = async (c) => {
    mount(slot);
    try {
      await runSteps(`Granting consent for ${c.name}`, [
        { label: `Grant ${c.name} on chain`, run: (ctx, note) => send(registry(true), "grantCategoryConsent", [twin.twin_id, c.category], note) },
        { label: "Update the catalogue", run: () => indexed(c.category, (s) => s === "granted") },
      ], explain);
      toast(`Consent for ${c.name} granted again: publish an offer including it so that brands can license it.`, "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };

  const row = (c) => h("li", { "data-category": c.category, "data-state": c.state },
    h("div", {}, h("strong", {}, c.name), " ", stateBadge(c)),
    c.state === "granted"
      ? h("button", { type: "button", class: "btn small danger", "data-revoke-category": c.category, disabled: !isModel, onclick: () => revoke(c) }, "Withdraw")
      : h("button", { type: "button", class: "btn small", "data-grant-category": c.category, disabled: !isModel, onclick: () => grant(c) }, "Grant again"));

  return h("section", { class: "card", id: "category-consent" },
    h("h3", {}, "Consent per category"),
    h("p", { class: "small" }, `Withdraw consent for one usage category and keep the others. Offers including it stop at once; ` +
      `its uses stop after the notice period of ${knownText}.`),
    slot,
    h("ul", { class: "category-consent" }, categoryStates(twin).map(row)));
}

/** "Withdrawn: …" for the categories of the bitmask `mask` the model withheld, for an offer's card (null if none). */
export function offerWithheldNote(twin, mask) {
  const out = withheld(categoryStates(twin), mask);
  if (!out.length) return null;
  return h("div", { class: "form-error", role: "note", "data-withheld": "" }, buyingRefusal(twin, out));
}
