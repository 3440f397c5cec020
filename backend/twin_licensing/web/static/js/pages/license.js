// Brand: one licence. Report a use (signed), watch it settle, top up or reclaim the escrow.

import { api, poll } from "../api.js";
import { state } from "../state.js";
import { money, parseMoney, date, dateTime, plural } from "../format.js";
import { h, mount, errorBox, okBox, runSteps, toast, table, pager, field } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, token, send, signUseReport, useRefOf, chainTime, balanceOf } from "../chain.js";
import { licenseBadge, useBadge, tracker } from "./common.js";

let timer = null;
const USES_LIMIT = 10;

export function leave() {
  clearTimeout(timer);
  timer = null;
}

export async function render(root, { args, params, isCurrent }) {
  const licenseId = args[0];
  const usesOffset = Number(params.get("offset") || 0);
  const license = await api(`/licenses/${licenseId}`);
  const isHolder = state.wallet && state.wallet.address.toLowerCase() === license.holder.toLowerCase();
  const usesBox = h("section", { class: "card", id: "uses" });
  const statsBox = h("div", { class: "stats", id: "license-stats" });
  const reportError = h("div");

  mount(
    root,
    h("div", { class: "crumbs" }, h("a", { href: "#/licenses" }, "My licences"), " / ", `Licence #${license.license_id}`),
    h("div", { class: "page-head" },
      h("div", { class: "row" },
        license.twin.image ? h("img", { class: "thumb", src: license.twin.image, alt: "", style: "width:56px;height:70px" }) : null,
        h("div", {},
          h("h1", {}, `${license.twin.name}`),
          h("div", { class: "row" }, h("span", { class: "muted" }, `Licence #${license.license_id}`), h("span", { id: "license-status" }, licenseBadge(license.status))))),
      h("a", { class: "btn", href: `#/twins/${license.twin.twin_id}` }, "View the twin")),
    statsBox,
    isHolder ? null : h("div", { class: "banner", style: "margin-top:16px;border-radius:8px" },
      "You are not the holder of this licence: only its holder can report uses, top up or reclaim."),
    h("div", { class: "grid-2", style: "margin-top:20px" },
      h("div", { class: "stack" },
        reportCard(license, isHolder, reportError, () => refreshUses()),
        escrowCard(license, isHolder)),
      h("div", { class: "stack" }, termsCard(license))),
    h("div", { style: "margin-top:20px" }, usesBox),
  );

  const fillStats = (l) => mount(statsBox,
    stat("Escrow left", money(l.escrow), l.escrow_uses_left === null || !l.can_report ? "" : `covers ${plural(l.escrow_uses_left, "more use")}`, "accent"),
    stat("Uses settled", String(l.uses_settled), l.uses_pending ? `${l.uses_pending} pending` : "none pending"),
    stat("Uses left", l.uses_left === null ? "Unlimited" : String(l.uses_left), l.terms.max_uses ? `of ${l.terms.max_uses}` : ""),
    stat("Expires", date(l.expiry), l.status === "expired" ? "expired" : dateTime(l.expiry)));
  fillStats(license);

  const refreshUses = async () => {
    if (!isCurrent()) return;
    let page, fresh;
    try {
      [page, fresh] = await Promise.all([
        api(`/licenses/${licenseId}/uses`, { query: { offset: usesOffset, limit: USES_LIMIT } }),
        api(`/licenses/${licenseId}`),
      ]);
    } catch (error) {
      mount(usesBox, errorBox(explain(error)));
      return;
    }
    if (!isCurrent()) return;
    fillStats(fresh);
    mount(root.querySelector("#license-status"), licenseBadge(fresh.status));
    mount(usesBox,
      h("div", { class: "card-head" }, h("h3", {}, "Reported uses"), h("span", { class: "muted small" }, plural(page.count, "use"))),
      table(
        [
          { label: "#", render: (u) => String(u.seq + 1) },
          { label: "Use", render: (u) => h("div", {}, h("div", {}, `${u.category_name} · ${u.territory_name}`), h("div", { class: "muted small mono" }, `${u.use_ref.slice(0, 14)}…`)) },
          { label: "Progress", render: (u) => (u.status === "held" || u.status === "rejected" ? h("div", {}, useBadge(u.status), h("div", { class: "small", style: "color:var(--bad)" }, u.reason || "")) : tracker(u.status)) },
          { label: "Fee", num: true, render: (u) => money(u.fee) },
        ],
        page.data,
        { empty: h("p", { class: "muted" }, "No use reported yet. Report each image, post or film made with the twin.") },
      ),
      pager(usesOffset, USES_LIMIT, page.count, (o) => (location.hash = `#/licenses/${licenseId}?offset=${o}`)));
    clearTimeout(timer);
    if (page.data.some((u) => u.status === "pending" || u.status === "submitted")) timer = setTimeout(refreshUses, 700);
  };
  await refreshUses();
}

function stat(label, value, hint, kind = "") {
  return h("div", { class: `stat ${kind}` }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), hint ? h("div", { class: "hint" }, hint) : null);
}

function termsCard(l) {
  return h("section", { class: "card" },
    h("h3", {}, "Terms"),
    h("dl", { class: "kv" },
      h("dt", {}, "Usage"), h("dd", {}, l.terms.category_names.join(", ")),
      h("dt", {}, "Territories"), h("dd", {}, l.terms.territory_names.length === 8 ? "Worldwide" : l.terms.territory_names.join(", ")),
      h("dt", {}, "Per use"), h("dd", {}, money(l.terms.per_use_fee)),
      h("dt", {}, "Paid upfront"), h("dd", {}, money(l.terms.upfront_fee)),
      h("dt", {}, "Started"), h("dd", {}, dateTime(l.started_at)),
      h("dt", {}, "Expires"), h("dd", {}, dateTime(l.expiry)),
      h("dt", {}, "Licence"), h("dd", {}, `${l.terms.exclusive ? "Exclusive" : "Non-exclusive"}, ${l.terms.transferable ? "transferable" : "not transferable"}`),
      h("dt", {}, "Holder"), h("dd", { class: "addr" }, l.holder)));
}

function reportCard(license, isHolder, errorSlot, onReported) {
  const cats = license.terms.category_names.map((name, i) => [license.terms.category_ids[i], name]);
  const terrs = license.terms.territory_names.map((name, i) => [license.terms.territory_ids[i], name]);
  const category = h("select", { name: "category" }, cats.map(([v, n]) => h("option", { value: v }, n)));
  const territory = h("select", { name: "territory" }, terrs.map(([v, n]) => h("option", { value: v }, n)));
  const reference = h("input", { type: "text", name: "reference", placeholder: "e.g. SS26 lookbook, image 14" });
  const refField = field("What did you make?", reference, "A name or 0x-hash of the asset or campaign item. Only its hash is recorded.");
  const canReport = isHolder && license.can_report;

  const submit = async (event) => {
    event.preventDefault();
    mount(errorSlot);
    refField.setError("");
    if (!reference.value.trim()) {
      refField.setError("Describe the use (e.g. the campaign and image number) so it can be traced later.");
      return;
    }
    // The chain's clock may run ahead of ours (a local node mines a second per block): date the use by the later.
    let now = Math.floor(Date.now() / 1000);
    try {
      now = Math.max(now, await chainTime());
    } catch {
      /* the wall clock will do */
    }
    const report = {
      licenseId: BigInt(license.license_id),
      useRef: useRefOf(reference.value),
      category: Number(category.value),
      territory: Number(territory.value),
      usedAt: BigInt(now),
    };
    try {
      const ctx = await runSteps("Reporting a use", [
        { label: "Sign the use report", run: async (c, note) => { note("Sign in your wallet…"); c.signature = await signUseReport(report); } },
        {
          label: "Send it for settlement",
          run: async (c, note) => {
            c.use = await api("/uses", {
              method: "POST",
              body: {
                license_id: Number(report.licenseId), use_ref: report.useRef, category: report.category,
                territory: report.territory, used_at: Number(report.usedAt), signature: c.signature,
              },
            });
            note(`Use #${Number(c.use.seq) + 1} accepted`);
          },
        },
      ], explain);
      reference.value = "";
      toast(`Use accepted: ${money(license.terms.per_use_fee)} will be paid to the model when it settles.`, "ok");
      mount(errorSlot, okBox(`Use #${Number(ctx.use.seq) + 1} is pending settlement.`));
      onReported();
    } catch (error) {
      mount(errorSlot, errorBox(explain(error)));
    }
  };
  return h("form", { class: "card", id: "report-use", onsubmit: submit },
    h("h3", {}, "Report a use"),
    h("p", { class: "muted small" }, `Each use costs ${money(license.terms.per_use_fee)}, paid from the escrow to the model and her payees.`),
    !canReport && isHolder ? errorBox(license.report_blocked_reason || "This licence cannot report uses any more.") : null,
    h("div", { class: "inline-fields" },
      h("label", { class: "field" }, h("span", {}, "Usage"), category),
      h("label", { class: "field" }, h("span", {}, "Territory"), territory)),
    refField,
    errorSlot,
    h("button", { class: "btn primary", type: "submit", disabled: !canReport }, "Sign and report"));
}

function escrowCard(license, isHolder) {
  const amount = h("input", { type: "text", name: "topup", inputmode: "decimal", placeholder: "e.g. 100" });
  const amountField = field("Add to the escrow (USDC)", amount);
  const slot = h("div");
  const topUp = async (event) => {
    event.preventDefault();
    mount(slot);
    amountField.setError("");
    let value;
    try {
      value = parseMoney(amount.value, "amount");
      if (value === 0n) throw new Error("Enter an amount greater than zero.");
    } catch (error) {
      amountField.setError(error.message);
      return;
    }
    try {
      await runSteps("Topping up the escrow", [
        {
          label: "Approve the payment",
          run: async (ctx, note) => {
            const allowance = await token().allowance(state.wallet.address, state.deployment.contracts.LicenseToken);
            if (allowance >= value) return note("Already approved");
            await send(() => token(true).approve(state.deployment.contracts.LicenseToken, value), note);
          },
        },
        { label: "Add the escrow", run: (ctx, note) => send(() => licenses(true).topUpEscrow(license.license_id, value), note) },
        {
          label: "Update the licence",
          run: () => poll(async () => BigInt((await api(`/licenses/${license.license_id}`)).escrow) >= BigInt(license.escrow) + value, { timeoutMs: 15000 }),
        },
      ], explain);
      toast(`${money(value)} added to the escrow.`, "ok");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  const reclaim = async () => {
    mount(slot);
    try {
      await runSteps("Reclaiming the escrow", [
        { label: "Reclaim the unspent escrow", run: (ctx, note) => send(() => licenses(true).reclaimEscrow(license.license_id), note) },
        { label: "Update the licence", run: () => poll(async () => BigInt((await api(`/licenses/${license.license_id}`)).escrow) === 0n, { timeoutMs: 15000 }) },
      ], explain);
      toast(`${money(license.escrow)} of unspent escrow is back in your wallet.`, "ok");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  // Escrow can be added while the licence runs, and taken back once it expired or lost the model's consent.
  const canTopUp = isHolder && (license.status === "active" || license.status === "exhausted" || license.status === "revocation_pending");
  const canReclaim = isHolder && license.reclaimable;
  const ended = license.status === "expired" || license.status === "revoked";
  const balance = h("p", { class: "small", id: "wallet-balance" }, isHolder ? "Your wallet: …" : "");
  if (isHolder) {
    balanceOf(state.wallet.address).then((b) => (balance.textContent = `Your wallet: ${money(b)}`)).catch(() => (balance.textContent = ""));
  }
  let reclaimNote;
  if (license.reclaimable) {
    reclaimNote = `The licence has ${license.status === "expired" ? "expired" : "lost the model's consent"}: you can take back the ${money(license.escrow)} left.`;
  } else if (ended) {
    reclaimNote = Number(license.escrow_reclaimed) > 0
      ? `You took back ${money(license.escrow_reclaimed)} of unspent escrow: nothing is left on this licence.`
      : "No escrow is left on this licence.";
  } else {
    reclaimNote = "Unspent escrow can be reclaimed once the licence expires or the model revokes consent.";
  }
  return h("section", { class: "card", id: "escrow" },
    h("div", { class: "card-head" }, h("h3", {}, "Escrow"), h("span", { class: "muted small" }, `${money(license.escrow)} left`)),
    balance,
    canTopUp || !isHolder
      ? h("form", { onsubmit: topUp }, amountField, h("button", { class: "btn", type: "submit", disabled: !canTopUp }, "Top up"))
      : h("p", { class: "muted small" }, "This licence has ended: its escrow can no longer be topped up."),
    h("hr", { style: "border:0;border-top:1px solid var(--line);margin:16px 0" }),
    h("p", { class: "muted small", id: "reclaim-note" }, reclaimNote),
    h("button", { class: canReclaim ? "btn primary" : "btn", type: "button", id: "reclaim", onclick: reclaim, disabled: !canReclaim },
      ended && !license.reclaimable ? "Nothing to reclaim" : "Reclaim escrow"),
    slot);
}
