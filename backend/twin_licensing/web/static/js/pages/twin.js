// Brand: one twin, its terms, consent and payees, and buying a licence under one of its offers.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state, labelOf } from "../state.js";
import { money, amountText, date, dateTime, duration, bps, plural, shortAddress, names, symbol } from "../format.js";
import { h, mount, errorBox, runSteps, toast, badge, field } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, token, send, events, signPermit, balanceOf } from "../chain.js";
import { portrait, consentBadge, verifiedBadge, offerTerms, offerTitle, confirmDialog, faucetButton, amountField,
  rulesProblem } from "./common.js";
import { consentDocumentSection } from "./consent.js";
import { categoryConsentSummary, categoryStates, chainCategoryStates, withheld, buyingRefusal, categoryChangeTitle } from "./category_consent.js";

export async function render(root, { args }) {
  const twin = await api(`/twins/${args[0]}`);
  const available = twin.consent.state === "granted";
  const active = twin.offers.filter((o) => o.active);
  const isModel = state.wallet && state.wallet.address.toLowerCase() === twin.model.toLowerCase();

  mount(
    root,
    h("div", { class: "crumbs" }, h("a", { href: "#/catalogue" }, "Catalogue"), " / ", twin.name),
    h("section", { class: "twin-hero" },
      h("div", { class: "portrait" }, portrait(twin)),
      h("div", { class: "stack" },
        h("div", {},
          h("h1", { id: "twin-name" }, twin.name),
          h("div", { class: "row" }, consentBadge(twin.consent), verifiedBadge(twin), twin.agency ? h("span", { class: "muted" }, `Represented by ${twin.agency}`) : null),
        ),
        twin.description ? h("p", {}, twin.description) : null,
        isModel ? h("p", {}, h("a", { class: "btn", href: `#/model/twins/${twin.twin_id}` }, "Manage this twin")) : null,
        available
          ? null
          : h("div", { class: "form-error", id: "not-available", role: "alert" },
            twin.consent.state === "revocation_pending"
              ? `${twin.name} has revoked her consent: this twin cannot be licensed any more. Existing licences may ` +
                `still report uses until ${dateTime(twin.consent.effective_at)}.`
              : `${twin.name} has revoked her consent: this twin cannot be licensed.`),
        h("section", {},
          h("h2", {}, "Offers"),
          active.length
            ? active.map((offer) => offerCard(twin, offer, available))
            : h("p", { class: "muted" }, "The model has no offer published at the moment."),
        ),
        h("div", { class: "grid-2" },
          h("section", { class: "card" },
            h("h3", {}, "Who is paid"),
            h("p", { class: "muted small" }, "Every fee is split on chain among these payees."),
            h("table", { class: "list" },
              h("tbody", {}, twin.payees.map((p) =>
                h("tr", {},
                  h("td", {}, h("div", {}, p.label || shortAddress(p.account)), h("div", { class: "muted small addr" }, shortAddress(p.account))),
                  h("td", {}, badge(p.role)),
                  h("td", { class: "num" }, bps(p.share_bps)))))),
          ),
          h("section", { class: "card" },
            h("h3", {}, "Consent record"),
            h("p", { class: "muted small" }, "Consent document hash ", h("code", {}, twin.consent.consent_hash ? twin.consent.consent_hash.slice(0, 18) + "…" : "—"),
              twin.consent_document ? [" · ", h("a", { href: twin.consent_document, target: "_blank" }, "read the document")] : null),
            h("ul", { class: "timeline" },
              twin.consent_history.map((c) =>
                h("li", { class: c.kind === "granted" || c.kind === "registered" ? "ok" : "bad" },
                  h("strong", {}, categoryChangeTitle(c) ||
                    (c.kind === "revoked" ? "Consent revoked" : c.kind === "registered" ? "Registered with consent" : "Consent granted")),
                  h("div", { class: "muted small" }, dateTime(c.timestamp),
                    c.kind === "revoked" ? ` · uses stop ${dateTime(c.effective_at)}` : "")))),
          ),
        ),
        categoryConsentSummary(twin),
        consentDocumentSection(twin),
      ),
    ),
  );
}

function offerCard(twin, offer, available) {
  const panel = h("div", { class: "buy-panel", hidden: true, style: "grid-column: 1 / -1" });
  // An offer including a category the model withdrew her consent for cannot be bought: said on its card.
  const refused = buyingRefusal(twin, withheld(categoryStates(twin), offer.categories));
  const button = h("button", {
    class: "btn primary",
    "data-buy-offer": offer.offer_id,
    disabled: !available || Boolean(refused),
    title: !available ? "The model has revoked consent" : refused ? "The model withdrew consent for a category of this offer" : "",
    onclick: () => {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) mount(panel, buyForm(twin, offer));
    },
  }, "License this twin");
  return h("article", { class: "offer", "data-offer-id": offer.offer_id },
    h("div", {},
      h("h3", {}, offerTitle(offer)),
      h("div", { class: "tags" },
        offer.exclusive ? badge("Exclusive", "warn") : null,
        offer.transferable ? badge("Transferable", "info") : null,
        h("span", { class: "muted small" }, `Offer #${offer.offer_id}`)),
      offerTerms(offer),
      available && refused ? h("div", { class: "form-error", role: "note", "data-withheld": offer.offer_id }, refused) : null),
    h("div", { class: "fee" },
      h("div", { class: "big" }, money(offer.per_use_fee)),
      h("div", { class: "muted small" }, "per use"),
      h("div", { style: "margin-top:10px" }, button)),
    panel);
}

// A licence holds at most 2^64 - 1 micro-units of escrow (uint64 on chain).
const ESCROW_MAX = 2n ** 64n - 1n;

/** Most escrow the offer can ever use: every use it allows at its fee (a licence with unlimited uses: the uint64). */
export function escrowCap(perUse, maxUses) {
  return maxUses ? BigInt(maxUses) * perUse : ESCROW_MAX;
}

/**
 * Why buying `offer` would collide with a licence already sold for the same twin (null when it would not): the
 * contract refuses a purchase over an exclusive licence, and an exclusive purchase over any licence, wherever
 * their categories and territories overlap while both run. Said before any signature.
 */
export function exclusivityClash(offer, sold, now = Date.now() / 1000) {
  const dep = state.deployment;
  for (const l of sold) {
    if (Number(l.expiry) <= now) continue;
    const categories = Number(l.terms.categories) & Number(offer.categories);
    const territories = Number(l.terms.territories) & Number(offer.territories);
    if (!categories || !territories || !(l.terms.exclusive || offer.exclusive)) continue;
    const where = `${names(categories, dep.categories).join(", ")} in ${names(territories, dep.territories).join(", ")}`;
    const holder = l.holder_label || shortAddress(l.holder);
    return l.terms.exclusive
      ? `${holder} holds an exclusive licence of this twin for ${where} until ${date(l.expiry)}: this offer overlaps it, so it cannot be bought before then.`
      : `This offer is exclusive, but ${holder} holds a licence of this twin for ${where} until ${date(l.expiry)}: an exclusive licence cannot be bought over it before then.`;
  }
  return null;
}

function buyForm(twin, offer) {
  const perUse = BigInt(offer.per_use_fee);
  const upfront = BigInt(offer.upfront_fee);
  const cap = escrowCap(perUse, offer.max_uses);
  const defaultUses = offer.max_uses ? Math.min(offer.max_uses, 20) : 20;
  const escrowInput = h("input", { type: "text", name: "escrow", inputmode: "decimal", value: amountText(perUse * BigInt(defaultUses)) });
  const capText = offer.max_uses ? `The escrow can be at most ${money(cap)}: ${plural(offer.max_uses, "use")} at ${money(perUse)}.` : "";
  const escrowField = field(`Prepaid escrow for uses (${symbol()})`, escrowInput, capText || null);
  const escrow = amountField(escrowField, escrowInput, "escrow", (value) => {
    if (value > cap) {
      throw new Error(offer.max_uses
        ? `This offer allows ${plural(offer.max_uses, "use")} at ${money(perUse)}: the escrow can be at most ${money(cap)}.`
        : `The escrow can be at most ${money(cap)}.`);
    }
  });
  const summary = h("div", { class: "muted small", "aria-live": "polite" });
  const clashSlot = h("div", { "data-clash-slot": "" });
  const errorSlot = h("div");
  const method = h("select", { name: "method" },
    h("option", { value: "permit" }, "Sign a permit, then buy (one transaction)"),
    h("option", { value: "approve" }, "Approve, then buy (two transactions)"));
  const balanceText = h("span", {});
  const showBalance = (b) => (balanceText.textContent = `Your balance: ${money(b)}`);
  const balanceLine = h("div", { class: "row small muted" }, balanceText, faucetButton(showBalance));
  const pay = h("button", { class: "btn primary", type: "submit" }, "Pay and license");
  let clash = null;
  let refused = null; // what today's rules refuse in this offer (a floor raised since it was published)
  const rulesSlot = h("div", { "data-rules-slot": "" });
  const checkRules = async () => {
    try {
      // The model's category consent and the guild's rules as the chain holds them now, before any signature.
      refused = buyingRefusal(twin, withheld(await chainCategoryStates(twin.twin_id, offer.categories), offer.categories)) ||
        await rulesProblem({ categories: offer.categories, perUseFee: perUse, upfront, exclusive: offer.exclusive, buying: true });
    } catch {
      refused = null; // the chain could not be read: the contract still refuses, and says why
    }
    mount(rulesSlot, refused ? h("div", { class: "form-error", role: "alert", "data-rules": "" }, refused) : null);
    pay.disabled = Boolean(clash || refused);
    return refused;
  };
  checkRules();

  const update = () => {
    try {
      const value = escrow.read();
      const uses = perUse ? value / perUse : 0n;
      summary.textContent = `Escrow covers ${plural(uses.toString(), "use")} at ${money(perUse)}. ` +
        `You pay ${money(upfront)} upfront + ${money(value)} escrow = ${money(upfront + value)} now.`;
    } catch {
      summary.textContent = "";
    }
  };
  escrowInput.addEventListener("input", update);
  update();

  const setEscrow = (n) => {
    escrowInput.value = amountText(perUse * BigInt(n));
    escrow.validate();
    update();
  };
  const quick = [10, 50, 100].filter((n) => !offer.max_uses || n <= offer.max_uses).map((n) =>
    h("button", { type: "button", class: "btn small", onclick: () => setEscrow(n) }, `${n} uses`));

  if (state.wallet) balanceOf(state.wallet.address).then(showBalance).catch(() => {});
  // Licences in force over this twin (public facts): an exclusivity clash is said here, not after a signature.
  api(`/twins/${twin.twin_id}/licences-in-force`).then((page) => {
    clash = exclusivityClash(offer, page.data);
    mount(clashSlot, clash ? h("div", { class: "form-error", role: "alert", "data-clash": "" }, clash) : null);
    pay.disabled = Boolean(clash || refused);
  }).catch(() => { /* the contract still refuses a clash; its message says why */ });

  const submit = async (event) => {
    event.preventDefault();
    mount(errorSlot);
    if (!state.wallet) {
      mount(errorSlot, errorBox("Choose a wallet first (top right): a brand's account buys the licence."));
      return;
    }
    if (clash) return;
    // The amount as typed when Pay was pressed: checked before the chain is read, and what the dialog confirms.
    if (!escrow.validate()) {
      escrowInput.focus();
      return;
    }
    const typed = escrowInput.value;
    const value = escrow.read();
    pay.disabled = true; // one purchase per press while today's rules are read from the chain
    const refusal = await checkRules();
    if (refusal || clash || escrowInput.value !== typed) return; // refused, or the amount changed meanwhile: press Pay again
    const total = upfront + value;
    const uses = perUse ? value / perUse : 0n;
    const confirmed = await confirmDialog({
      title: `License ${twin.name}`,
      intro: `${offerTitle(offer)} · offer #${offer.offer_id}`,
      rows: [
        ["Upfront fee", money(upfront)],
        ["Escrow", `${money(value)} (covers ${plural(uses.toString(), "use")})`],
        ["Total to pay now", money(total), "total"],
        ["Per-use fee", money(perUse)],
        ["Uses", offer.max_uses ? `up to ${plural(offer.max_uses, "use")}` : "unlimited"],
        ["Term", `${duration(offer.duration)}, until about ${date(Date.now() / 1000 + Number(offer.duration))}`],
      ],
      confirmLabel: `Pay ${money(total)}`,
    });
    if (!confirmed) return;
    const viaPermit = method.value === "permit";
    const steps = [
      {
        label: "Check your balance",
        run: async (ctx, note) => {
          const balance = await balanceOf(state.wallet.address);
          note(`You hold ${money(balance)}; this needs ${money(total)}`);
          if (balance < total) {
            const error = new Error(`Your wallet holds ${money(balance)} but this licence needs ${money(total)}. ` +
              (state.deployment.faucet ? `Press “Get test ${symbol()}” under the form, then try again.` : `Add ${symbol()} to it and try again.`));
            error.userMessage = error.message;
            throw error;
          }
        },
      },
      viaPermit
        ? { label: "Sign the payment permit", run: async (ctx, note) => { note("Sign in your wallet…"); ctx.permit = await signPermit(total); } }
        : {
          label: "Approve the payment",
          run: async (ctx, note) => {
            const allowance = await token().allowance(state.wallet.address, state.deployment.contracts.LicenseToken);
            if (allowance >= total) return note("Already approved");
            await send(token(true), "approve", [state.deployment.contracts.LicenseToken, total], note);
          },
        },
      {
        label: "Buy the licence",
        run: async (ctx, note) => {
          const receipt = viaPermit
            ? await send(licenses(true), "buyLicenseWithPermit", [offer.offer_id, value, ctx.permit.deadline, ctx.permit.v, ctx.permit.r, ctx.permit.s], note)
            : await send(licenses(true), "buyLicense", [offer.offer_id, value], note);
          const [purchased] = events(receipt, "LicenseToken", "LicensePurchased");
          ctx.licenseId = purchased.licenseId.toString();
          note(`Licence #${ctx.licenseId}`);
        },
      },
      {
        label: "Record it in your licences",
        run: async (ctx, note) => {
          const found = await poll(() => api(`/licenses/${ctx.licenseId}`), { timeoutMs: INDEX_WAIT_MS });
          note(found ? "Done" : "The index is catching up; the licence will appear shortly");
        },
      },
    ];
    try {
      const ctx = await runSteps(`Licensing ${twin.name}`, steps, explain);
      toast(`Licence #${ctx.licenseId} is yours.`, "ok");
      location.hash = `#/licenses/${ctx.licenseId}`;
    } catch (error) {
      mount(errorSlot, errorBox(explain(error)));
    }
  };

  const form = h("form", { class: "card", onsubmit: submit, "data-buy-form": offer.offer_id, style: "margin-top:12px; box-shadow:none" },
    h("h3", {}, "Buy a licence"),
    rulesSlot,
    clashSlot,
    h("div", { class: "inline-fields" },
      h("div", {}, escrowField, h("div", { class: "row", style: "margin-top:6px" }, quick)),
      h("label", { class: "field" }, h("span", {}, "Payment"), method,
        h("small", {}, "A permit authorises the exact amount with a signature instead of a separate approval."))),
    summary,
    balanceLine,
    errorSlot,
    h("div", { class: "row", style: "margin-top:12px" },
      pay,
      h("span", { class: "muted small" }, `Expires ${offer.duration ? date(Date.now() / 1000 + Number(offer.duration)) : ""} if bought now`)));
  return form;
}
