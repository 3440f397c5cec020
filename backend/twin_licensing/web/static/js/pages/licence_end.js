// A licence's end as its holder (or the seller of a licence bought second-hand) reads it: when it ends, until when
// the uses reported before then are still paid (the grace period), and what comes back, from when:
// - the escrow left: reclaimEscrow, once the grace is over (escrowReclaim, painted by the escrow card);
// - the upfront fee that did not vest: reclaimUnvested, once a licence that ended early has ended;
// - a seller's escrow: reclaimSellerEscrow, once the grace after the handover is over.
// The numbers are the API's (ends_at, grace_ends_at, refundable_escrow, upfront, handover); "now" is the chain's
// clock, which decides on chain and may run ahead of the wall clock on a local node.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { money, dateTime, duration, plural, toBig, toSeconds, shortAddress } from "../format.js";
import { h, mount, errorBox, runSteps, toast } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, send, chainTime } from "../chain.js";

/** The contract's default grace period (ILicenseToken.gracePeriod), until the chain has been read. */
export const DEFAULT_GRACE_S = 7 * 86400;

let skew = 0; // chain time − wall time, in seconds
let grace = null; // the contract's grace period, once read

/** Reads the chain's clock and grace period once per page; the page paints again when they arrive. */
export async function syncChain() {
  const [chainNow, period] = await Promise.all([
    chainTime().catch(() => null),
    grace === null ? licenses().gracePeriod().then(Number).catch(() => null) : grace,
  ]);
  if (chainNow) skew = Math.max(0, chainNow - Date.now() / 1000);
  if (period !== null) grace = period;
}

/** Now, on the chain's clock (unix seconds). */
export function now() {
  return Math.floor(Date.now() / 1000 + skew);
}

export function gracePeriod() {
  return grace ?? state.deployment?.grace_period ?? DEFAULT_GRACE_S;
}

const secondsOr = (value, fallback) => toSeconds(value) ?? fallback;

/**
 * When the licence ends (`endsAt`), until when uses signed before then settle (`graceEndsAt`), whether it ended
 * (`ended`) or its grace is over (`graceOver`), and `why` it ends, in words.
 */
export function endOf(l, at = now()) {
  const revocation = l.consent && l.consent.state !== "granted" ? toSeconds(l.consent.effective_at) : null;
  const fallbackEnd = revocation ? Math.min(revocation, Number(l.expiry)) : Number(l.expiry);
  const endsAt = secondsOr(l.ends_at, fallbackEnd);
  const graceEndsAt = secondsOr(l.grace_ends_at, endsAt + gracePeriod());
  let why;
  if (l.ended_at) why = "the model ended it for being idle";
  else if (revocation && revocation <= Number(l.expiry) && endsAt === revocation) why = "the model's revocation of consent took effect";
  else why = "it expired";
  return { endsAt, graceEndsAt, ended: at >= endsAt, graceOver: at >= graceEndsAt, why };
}

/** What reclaimEscrow would pay, and from when (the API's `refundable_escrow`). */
export function refundableEscrow(l) {
  const r = l.refundable_escrow;
  if (!r) return { amount: toBig(l.escrow), from: endOf(l).graceEndsAt };
  return { amount: toBig(r.amount), from: secondsOr(r.from, endOf(l).graceEndsAt) };
}

/** The escrow card's reclaim: enabled only once the licence ended and its grace is over; the note says when. */
export function escrowReclaim(l, isHolder) {
  const end = endOf(l);
  const { amount, from } = refundableEscrow(l);
  const lasting = Number(l.escrow_reclaimed) > 0
    ? `You took back ${money(l.escrow_reclaimed)} of unspent escrow: nothing is left on this licence.`
    : "No escrow is left on this licence.";
  if (end.ended && amount === 0n) return { can: false, text: lasting, nothingLeft: true };
  if (end.ended && now() >= from) {
    return { can: isHolder, text: `The licence ended on ${dateTime(end.endsAt)} (${end.why}) and its grace period is over: ` +
      `you can take back the ${money(amount)} left.` };
  }
  if (end.ended) {
    return { can: false, text: `The licence ended on ${dateTime(end.endsAt)} (${end.why}). Uses you reported before then ` +
      `are still paid until ${dateTime(end.graceEndsAt)}; the ${money(amount)} left, less what they use, is yours to ` +
      `reclaim from ${dateTime(from)}.` };
  }
  const when = l.consent?.state === "revocation_pending" && end.endsAt < Number(l.expiry)
    ? `the model's revocation of consent takes effect on ${dateTime(end.endsAt)}`
    : `the licence expires on ${dateTime(end.endsAt)}`;
  return { can: false, text: `Unspent escrow can be reclaimed from ${dateTime(from)}: ${when}, and uses reported ` +
    `before then are still paid for ${duration(gracePeriod())} after it (the grace period).` };
}

/** The card of what the end of the licence means for the person looking: grace, unvested upfront, a handover. */
export function endCard(view, viewer, onChanged) {
  const slot = h("div");
  const endText = h("p", { "data-licence-end": "" });
  const upfrontBox = h("div", { id: "upfront" });
  const handoverBox = h("div", { id: "handover" });
  const unvestedButton = h("button", { type: "button", class: "btn", id: "reclaim-unvested" }, "Reclaim unvested upfront fee");
  const sellerButton = h("button", { type: "button", class: "btn", id: "reclaim-seller-escrow" }, "Reclaim seller escrow");
  const is = (address) => Boolean(viewer && address && viewer.toLowerCase() === address.toLowerCase());

  const act = async (title, method, amount, done, until) => {
    mount(slot);
    const l = view.license;
    try {
      await runSteps(title, [
        { label: title, run: (ctx, note) => send(licenses(true), method, [l.license_id], note) },
        { label: "Update the licence", run: () => poll(async () => until(await api(`/licenses/${l.license_id}`)), { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(done(amount), "ok");
      onChanged(until);
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  unvestedButton.addEventListener("click", () => {
    const amount = toBig(view.license.upfront?.refundable);
    act("Reclaim the unvested upfront fee", "reclaimUnvested", amount,
      (a) => `${money(a)} of upfront fee is back in your wallet.`, (fresh) => toBig(fresh.upfront?.refundable) === 0n);
  });
  sellerButton.addEventListener("click", () => {
    const amount = toBig(view.license.handover?.seller_escrow);
    act("Reclaim your seller escrow", "reclaimSellerEscrow", amount,
      (a) => `${money(a)} of seller escrow is back in your wallet.`, (fresh) => toBig(fresh.handover?.seller_escrow) === 0n);
  });

  const paint = () => {
    const l = view.license;
    const end = endOf(l);
    const holder = is(l.holder);
    if (end.graceOver) {
      endText.textContent = `The licence ended on ${dateTime(end.endsAt)} (${end.why}). Uses reported before then could ` +
        `be paid until ${dateTime(end.graceEndsAt)}; any not settled by then are not charged.`;
    } else if (end.ended) {
      endText.textContent = `The licence ended on ${dateTime(end.endsAt)} (${end.why}). Uses you reported before ` +
        `${dateTime(end.endsAt)} are still paid until ${dateTime(end.graceEndsAt)}.`;
    } else {
      endText.textContent = `The licence ends on ${dateTime(end.endsAt)}. Uses you report before then are paid until ` +
        `${dateTime(end.graceEndsAt)}, ${duration(gracePeriod())} later (the grace period).`;
    }
    endText.dataset.graceEndsAt = String(end.graceEndsAt);
    mount(upfrontBox, upfrontPart(l, end, holder, unvestedButton));
    mount(handoverBox, handoverPart(l, is(l.handover?.seller), holder, sellerButton));
  };

  const el = h("section", { class: "card", id: "licence-end" },
    h("h3", {}, "End of the licence and refunds"), endText, upfrontBox, handoverBox, slot);
  return { el, paint };
}

function upfrontPart(l, end, holder, button) {
  const u = l.upfront;
  if (!u || toBig(u.amount) === 0n) return null;
  const refundable = toBig(u.refundable);
  const refunded = toBig(u.refunded);
  // An early end: a revocation before expiry, or the model ending an idle licence (which moves its expiry there).
  const early = Boolean(l.ended_at) || end.endsAt < Number(l.expiry);
  const row = (label, value, key) => [h("dt", {}, label), h("dd", { [`data-upfront-${key}`]: "" }, money(value))];
  const rows = h("dl", { class: "kv" },
    row("Upfront fee", toBig(u.amount), "amount"),
    row(end.ended ? "Vested to the model" : "Vested so far", toBig(u.vested), "vested"),
    toBig(u.still_vesting) > 0n ? row("Still vesting", toBig(u.still_vesting), "vesting") : null,
    refundable > 0n ? row("Yours to reclaim", refundable, "refundable") : null,
    refunded > 0n ? row("Refunded to you", refunded, "refunded") : null);
  button.textContent = refundable > 0n ? `Reclaim ${money(refundable)} of unvested upfront fee` : "Reclaim unvested upfront fee";
  button.disabled = !(holder && refundable > 0n && end.ended);
  button.className = button.disabled ? "btn" : "btn primary";
  let text;
  if (refunded > 0n) {
    text = `The licence ended early: ${money(refunded)} of upfront fee that had not vested was paid back.`;
  } else if (early && refundable > 0n) {
    text = `The licence ended early, on ${dateTime(end.endsAt)}: the ${money(refundable)} of upfront fee that had not ` +
      "vested by then is yours to take back.";
    return h("div", { "data-upfront-refund": "" }, h("p", {}, text), rows, holder ? button : null);
  } else if (early && !end.ended) {
    text = `The licence ends early, on ${dateTime(end.endsAt)}: the part of the upfront fee not vested by then comes ` +
      "back to you from that moment.";
  } else if (early) {
    text = "The licence ended early; nothing of its upfront fee is left to refund.";
  } else {
    text = `The upfront fee vests to the model day by day until ${dateTime(l.expiry)}. If she revokes her consent ` +
      "before then, the part not vested comes back to you.";
  }
  return h("div", {}, h("p", { class: "muted small" }, text), rows);
}

function handoverPart(l, isSeller, holder, button) {
  const ho = l.handover;
  if (!ho || !ho.seller) return null;
  const sellerEscrow = toBig(ho.seller_escrow);
  const inherited = Number(ho.inherited_uses || 0);
  const at = toSeconds(ho.at);
  const sellerName = ho.seller_label || shortAddress(ho.seller);
  if (isSeller) {
    const from = toSeconds(ho.reclaimable_from) ?? at + gracePeriod();
    const ready = now() >= from;
    button.disabled = !(ready && sellerEscrow > 0n);
    button.className = ready && sellerEscrow > 0n ? "btn primary" : "btn";
    // The API counts the uses the seller left to pay.
    const uses = ho.inherited_uses === null || ho.inherited_uses === undefined ? "uses" : plural(inherited, "use");
    const text = sellerEscrow === 0n
      ? `You sold this licence on ${dateTime(at)}: no seller escrow is left on it.`
      : `You sold this licence on ${dateTime(at)}. Your seller escrow of ${money(sellerEscrow)} pays the ` +
        `${uses} you reported before then; what is left is yours to reclaim from ${dateTime(from)}.`;
    return h("div", { "data-seller-escrow": "" }, h("hr", { class: "rule" }), h("p", {}, text), sellerEscrow > 0n ? button : null);
  }
  const text = inherited > 0
    ? `${plural(inherited, "use")} reported by the previous holder ${inherited === 1 ? "is" : "are"} paid from their escrow ` +
      `(${money(sellerEscrow)} left), not yours.`
    : "No use reported by the previous holder is left to pay: your escrow pays only the uses you report.";
  return h("div", { "data-inherited-uses": String(inherited) }, h("hr", { class: "rule" }),
    h("p", {}, `${holder ? "You" : "The holder"} bought this licence second-hand from ${sellerName} on ${dateTime(at)}. `, text));
}
