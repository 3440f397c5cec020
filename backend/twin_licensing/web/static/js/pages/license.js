// Brand: one licence. Report a use (signed), watch it settle, top up or reclaim the escrow.
//
// One loader (load) reads the licence and its uses; every card paints from what it returned, so "escrow left" is
// the same number everywhere and follows each settlement. It polls while a use is pending and stops when none is.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state, walletChanged } from "../state.js";
import { privateNotFound } from "../session.js";
import { money, date, dateTime, plural, toSeconds, symbol, useLabel, shortAddress } from "../format.js";
import { h, mount, errorBox, okBox, runSteps, toast, table, pager, field } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, token, send, useRefOf, chainTime, balanceOf } from "../chain.js";
import { nextSeq, signReport, signAndReport } from "../use_report.js";
import { licenseBadge, useBadge, tracker, confirmDialog, faucetButton, amountField } from "./common.js";
import { attachField, credentialLink, useThumb, useCredentialLink } from "./use_asset.js";
import { uploadAsset } from "../assets.js";
import { categoryStates, chainCategoryStates, reportRefusal, reportNotice } from "./category_consent.js";
import { endCard, endOf, escrowReclaim, syncChain } from "./licence_end.js";

let timer = null;
const USES_LIMIT = 10;
const POLL_MS = 700;
const UNSETTLED = new Set(["pending", "submitted"]);

export function leave() {
  clearTimeout(timer);
  timer = null;
}

export async function render(root, { args, params, isCurrent }) {
  const licenseId = args[0];
  const usesOffset = Number(params.get("offset") || 0);
  const view = { license: null, uses: null, reported: null }; // what load() read last; `reported`: seq reported here

  const load = async () => {
    const [license, uses] = await Promise.all([
      api(`/licenses/${licenseId}`),
      api(`/licenses/${licenseId}/uses`, { query: { offset: usesOffset, limit: USES_LIMIT } }),
    ]);
    view.license = license;
    view.uses = uses;
    return view;
  };
  // "Now" is the chain's clock (it decides whether the licence ended and its grace is over), read beside the licence.
  const synced = syncChain().catch(() => {});
  try {
    await load();
  } catch (error) {
    const crumbs = h("div", { class: "crumbs" }, h("a", { href: "#/licenses" }, "My licences"), " / ", `Licence #${licenseId}`);
    // A licence is private (its holder and former holders, the twin's model, payees and guild): a 404 asks to sign
    // in, or says so.
    mount(root, crumbs, privateNotFound(error, "this licence, its uses and their labels", walletChanged));
    return;
  }
  await synced;
  const license = view.license;
  const isHolder = Boolean(state.wallet && state.wallet.address.toLowerCase() === license.holder.toLowerCase());

  const statsBox = h("div", { class: "stats", id: "license-stats" });
  const statusSlot = h("span", { id: "license-status" });
  const consentSlot = h("div");
  const usesBox = h("section", { class: "card", id: "uses" });
  const report = reportCard(view, isHolder, () => refresh());
  const escrow = escrowCard(view, isHolder, (until) => refresh(until));
  const end = endCard(view, state.wallet?.address, (until) => {
    escrow.updateBalance(); // a refund lands in the wallet the escrow card shows
    refresh(until);
  });
  const isSeller = Boolean(state.wallet && license.handover?.seller &&
    state.wallet.address.toLowerCase() === license.handover.seller.toLowerCase());

  mount(
    root,
    h("div", { class: "crumbs" }, h("a", { href: "#/licenses" }, "My licences"), " / ", `Licence #${license.license_id}`),
    h("div", { class: "page-head" },
      h("div", { class: "row" },
        license.twin.image ? h("img", { class: "thumb", src: license.twin.image, alt: "", style: "width:56px;height:70px" }) : null,
        h("div", {},
          h("h1", {}, `${license.twin.name}`),
          h("div", { class: "row" }, h("span", { class: "muted" }, `Licence #${license.license_id}`), statusSlot))),
      h("a", { class: "btn", href: `#/twins/${license.twin.twin_id}` }, "View the twin")),
    consentSlot,
    statsBox,
    isHolder ? null : h("div", { class: "banner", style: "margin-top:16px;border-radius:8px" },
      isSeller
        ? "You sold this licence: its new holder reports its uses, and only it sees them; below are yours. Your seller escrow pays the uses you reported before the sale."
        : "You are not the holder of this licence: only its holder can report uses, top up or reclaim."),
    h("div", { class: "grid-2", style: "margin-top:20px" },
      // Once the licence has ended, what comes back and when comes first (on a phone, above the report form).
      endOf(license).ended
        ? [h("div", { class: "stack" }, end.el, escrow.el, report.el), h("div", { class: "stack" }, termsCard(license))]
        : [h("div", { class: "stack" }, report.el, escrow.el), h("div", { class: "stack" }, end.el, termsCard(license))]),
    h("div", { style: "margin-top:20px" }, usesBox),
  );

  const paint = () => {
    const l = view.license;
    mount(statsBox,
      stat("Escrow left", money(l.escrow), l.escrow_uses_left === null || !l.can_report ? "" : `covers ${plural(l.escrow_uses_left, "more use")}`, "accent"),
      stat("Uses settled", String(l.uses_settled), l.uses_pending ? `${l.uses_pending} pending` : "none pending"),
      stat("Uses left", l.uses_left === null ? "Unlimited" : String(l.uses_left), l.terms.max_uses ? `of ${l.terms.max_uses}` : ""),
      endStat(l));
    mount(statusSlot, licenseBadge(l.status));
    mount(consentSlot, consentNotice(l));
    report.paint();
    escrow.paint();
    end.paint();
    paintUses();
  };

  const paintUses = () => {
    const page = view.uses;
    mount(usesBox,
      h("div", { class: "card-head" }, h("h3", {}, "Reported uses"), h("span", { class: "muted small" }, plural(page.count, "use"))),
      skipNotice(view.license),
      table(
        [
          { label: "#", render: (u) => String(u.seq + 1) },
          { label: "Use", render: (u) => (u.previous_holder ? previousHolderUse(u)
            : h("div", { class: "row use-cell" }, useThumb(u), h("div", {}, h("div", {}, useName(u)), h("div", { class: "muted small" }, `${u.category_name} · ${u.territory_name}`), useCredentialLink(u)))) },
          { label: "When", render: (u) => h("div", { class: "small" }, u.previous_holder ? null : h("div", {}, `Reported ${dateTime(toSeconds(u.accepted_at))}`),
            u.status === "settled" ? h("div", { class: "muted" }, settledWhen(u)) : null) },
          { label: "Progress", render: (u) => (u.status === "held" || u.status === "rejected" ? h("div", {}, useBadge(u.status), h("div", { class: "small", style: "color:var(--bad)" }, u.reason || "")) : tracker(u.status)) },
          { label: "Fee", num: true, render: (u) => (u.fee === null || u.fee === undefined ? "—" : money(u.fee)) },
        ],
        page.data,
        { empty: h("p", { class: "muted" }, "No use reported yet. Report each image, post or film made with the twin.") },
      ),
      pager(usesOffset, USES_LIMIT, page.count, (o) => (location.hash = `#/licenses/${licenseId}?offset=${o}`)));
  };

  const unsettled = () => view.license.uses_pending > 0 || view.uses.data.some((u) => UNSETTLED.has(u.status));
  // `awaited`: a change this page made (a top-up, a reclaim) that the index has not shown yet; pending until it does.
  let awaited = null;
  const refresh = async (until = null) => {
    clearTimeout(timer);
    timer = null;
    if (until) awaited = { until, deadline: Date.now() + AWAIT_MS };
    if (!isCurrent()) return;
    try {
      await load();
    } catch (error) {
      mount(usesBox, errorBox(explain(error)));
      timer = setTimeout(refresh, POLL_MS);
      return;
    }
    if (!isCurrent()) return;
    if (awaited && (awaited.until(view.license) || Date.now() > awaited.deadline)) awaited = null;
    paint();
    if (unsettled() || awaited) timer = setTimeout(refresh, POLL_MS);
  };
  paint();
  if (unsettled()) timer = setTimeout(refresh, POLL_MS);
}

/** The last settle item of this licence the contract skipped, in words (the API's sentence), while its uses are
 * still unsettled: why they wait, or why they will never be charged. */
function skipNotice(l) {
  const skip = l.last_skip;
  if (!skip || skip.first_seq + skip.count <= l.uses_settled) return null;
  const first = useLabel(skip.first_seq, { start: true });
  const uses = skip.count > 1 ? `${first} to ${useLabel(skip.first_seq + skip.count - 1)} were` : `${first} was`;
  return h("p", { class: skip.final ? "form-error" : "banner", role: "status", "data-last-skip": skip.name || String(skip.reason),
    style: "border-radius:8px" },
    `${uses} not settled: ${skip.sentence || "the contract skipped them"}.` +
    (skip.final ? " They will not be charged." : ""));
}

/** When the licence ends: its expiry, or earlier when consent is revoked or the model ends it for being idle. */
function endStat(l) {
  const end = endOf(l);
  const early = end.endsAt < Number(l.expiry) || l.ended_at;
  if (!end.ended) {
    return stat(early ? "Ends" : "Expires", date(end.endsAt), early ? "when the model's revocation takes effect" : dateTime(end.endsAt));
  }
  const hint = end.graceOver ? "grace period over" : `uses paid until ${date(end.graceEndsAt)}`;
  return stat(early ? "Ended" : "Expired", date(end.endsAt), hint);
}

const AWAIT_MS = 120_000;

const isHash = (text) => /^0x[0-9a-fA-F]{64}$/.test(text);

/** A use a former holder reported: the API gives the holder its number and status only (its label is theirs). */
function previousHolderUse(u) {
  return h("div", { class: "muted small", "data-previous-holder-use": "" }, `Reported by a previous holder (${shortAddress(u.signer)})`);
}

/** The brand's own name for a use (its label), else the start of its 32-byte reference. */
function useName(u) {
  return u.label || `${u.use_ref.slice(0, 14)}…`;
}

function settledWhen(u) {
  const at = toSeconds(u.settled_at);
  if (at) return `Settled ${dateTime(at)}`;
  return u.block_number ? `Settled in block ${u.block_number}` : "Settled";
}

/** Under revocation: until when uses can be reported, until when those are paid, and what comes back. */
function consentNotice(l) {
  const consent = l.consent;
  if (!consent || consent.state === "granted") return null;
  const at = dateTime(consent.effective_at);
  const graceEnd = dateTime(endOf(l).graceEndsAt);
  const text = consent.state === "revocation_pending"
    ? `The model revoked her consent: uses can be reported until ${at}, and those are paid until ${graceEnd}. ` +
      "The licence then ends: the part of the upfront fee not vested by then comes back to you, and the escrow left " +
      "after the grace period."
    : `The model revoked her consent on ${at}: no new use can be reported. Uses reported before then are still paid ` +
      `until ${graceEnd}; the escrow left comes back to you after that.`;
  return h("div", { class: "banner", role: "status", "data-consent-deadline": "", style: "margin:12px 0;border-radius:8px" }, text);
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
      h("dt", {}, "Licence"), h("dd", { "data-lock": isLocked(l) ? "locked" : "transferable" },
        `${l.terms.exclusive ? "Exclusive" : "Non-exclusive"}, ${isLocked(l) ? "locked (cannot be transferred)" : "transferable"}`),
      h("dt", {}, "Holder"), h("dd", { class: "addr" }, l.holder)));
}

/** A non-transferable licence is locked (ERC-5192): the API says so, or its terms do. */
function isLocked(l) {
  return l.locked ?? !l.terms.transferable;
}

/** Every use of this licence (all pages), to tell whether a label was reported before. */
async function allUses(licenseId) {
  const out = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api(`/licenses/${licenseId}/uses`, { query: { offset, limit: 100 } });
    out.push(...page.data);
    if (out.length >= page.count || !page.data.length) return out;
  }
}

function reportCard(view, isHolder, onReported) {
  const license = view.license;
  const cats = license.terms.category_names.map((name, i) => [license.terms.category_ids[i], name]);
  const terrs = license.terms.territory_names.map((name, i) => [license.terms.territory_ids[i], name]);
  const category = h("select", { name: "category" }, cats.map(([v, n]) => h("option", { value: v }, n)));
  const territory = h("select", { name: "territory" }, terrs.map(([v, n]) => h("option", { value: v }, n)));
  const reference = h("input", { type: "text", name: "reference", placeholder: "e.g. SS26 lookbook, image 14", maxlength: 200 });
  const refField = field("What did you make?", reference, "Your name for the asset or campaign item, shown in your history. Its hash is what is signed.");
  reference.addEventListener("input", () => refField.setError(""));
  // With an image attached, the image is the use's reference (its SHA-256 is signed), so no name is asked for it:
  // the intake keeps a label only when the reference is the label's own hash.
  const attach = attachField((attached) => {
    reference.disabled = attached;
    if (attached) refField.setError("");
  });
  const credential = h("div"); // the credentialed copy of the image attached to the use reported last
  const blocked = h("div");
  const note = h("div"); // what became of the use reported from this page, painted from the loader's numbers
  const errorSlot = h("div");
  const button = h("button", { class: "btn primary", type: "submit" }, "Sign and report");
  // A category whose consent the model withdrew, once the notice has passed, cannot be reported: said as it is
  // chosen (from the index), and checked on chain again right before the signature.
  const categorySlot = h("div", { "data-category-refusal": "" });
  let categories = null; // the twin's category consent, once read
  let categoryRefused = null;
  const checkCategory = () => {
    const c = categories?.find((x) => x.category === Number(category.value));
    const now = Date.now() / 1000;
    categoryRefused = reportRefusal(c, now);
    const pending = reportNotice(c, now);
    mount(categorySlot, categoryRefused ? h("div", { class: "form-error", role: "alert" }, categoryRefused)
      : pending ? h("p", { class: "banner", role: "status", style: "border-radius:8px;margin:0 0 12px" }, pending) : null);
    paint();
  };
  category.addEventListener("change", checkCategory);
  api(`/twins/${license.twin.twin_id}`).then((twin) => {
    categories = categoryStates(twin);
    for (const option of category.options) {
      const c = categories.find((x) => x.category === Number(option.value));
      if (c && reportRefusal(c, Date.now() / 1000)) option.textContent = `${c.name} (consent withdrawn)`;
    }
    checkCategory();
  }).catch(() => { /* the intake still refuses such a use, and says why */ });

  const submit = async (event) => {
    event.preventDefault();
    mount(errorSlot);
    mount(credential);
    refField.setError("");
    let image;
    try {
      image = await attach.read(); // an attached image is checked and hashed here: its SHA-256 is the use_ref
    } catch {
      return;
    }
    const label = image ? image.file.name : reference.value.trim();
    if (!label) {
      refField.setError("Describe the use (e.g. the campaign and image number) so it can be traced later.");
      return;
    }
    const useRef = image ? image.sha256 : useRefOf(label);
    let accepted = null; // the use, once the intake took it (an image that fails to upload does not undo it)
    try {
      const earlier = (await allUses(license.license_id)).find((u) => u.use_ref?.toLowerCase() === useRef);
      if (earlier && !(await confirmDialog({
        title: "Report this use again?",
        intro: `“${label}” was already reported on this licence as ${useLabel(earlier.seq)} ` +
          `(${dateTime(toSeconds(earlier.accepted_at))}). Reporting it again pays the model ${money(license.terms.per_use_fee)} once more.`,
        confirmLabel: "Report it again",
      }))) return;
    } catch (error) {
      mount(errorSlot, errorBox(explain(error)));
      return;
    }
    // The chain's clock may run ahead of ours (a local node mines a second per block): date the use by the later.
    let now = Math.floor(Date.now() / 1000);
    try {
      now = Math.max(now, await chainTime());
    } catch {
      /* the wall clock will do */
    }
    try {
      const [c] = await chainCategoryStates(license.twin.twin_id, 1 << Number(category.value));
      const refused = reportRefusal(c, now);
      if (refused) {
        mount(errorSlot, errorBox(refused));
        return;
      }
    } catch { /* the chain could not be read: the intake still refuses such a use, and says why */ }
    const report = {
      licenseId: BigInt(license.license_id),
      useRef,
      category: Number(category.value),
      territory: Number(territory.value),
      usedAt: BigInt(now),
    };
    try {
      const ctx = await runSteps("Reporting a use", [
        {
          label: "Sign the use report",
          run: async (c, n) => {
            // The use's number in the licence is signed too: the next one, as the index says right now.
            c.seq = await nextSeq(license.license_id);
            n(state.wallet?.kind === "injected" ? `Sign ${useLabel(c.seq)} in your wallet…` : `Signing ${useLabel(c.seq)}…`);
            c.signature = await signReport(report, c.seq);
          },
        },
        {
          label: "Send it for settlement",
          run: async (c, n) => {
            // Another report may take the number first: then it is signed again with the next (use_report.js).
            c.use = await signAndReport({
              report, seq: c.seq, signature: c.signature, note: n,
              // A 0x-hash typed as the reference is the use_ref itself, not a label whose hash it is.
              body: { label: image || isHash(label) ? undefined : label },
            });
            n(`${useLabel(Number(c.use.seq), { start: true })} accepted`);
            accepted = c.use;
          },
        },
        image ? {
          label: "Upload the image",
          run: async (c, n) => {
            n(`${image.file.name}…`);
            try {
              await uploadAsset(c.use.id, image.file);
            } catch (error) {
              const failed = new Error(`${useLabel(Number(c.use.seq), { start: true })} was accepted, but its image was not attached: ${explain(error)}`);
              failed.userMessage = failed.message;
              throw failed;
            }
          },
        } : null,
      ].filter(Boolean), explain);
      reference.value = "";
      attach.clear();
      if (image) mount(credential, h("div", { class: "form-ok", role: "status" }, `The image of ${useLabel(ctx.use.seq)} is attached. `, credentialLink(ctx.use)));
      view.reported = Number(ctx.use.seq);
      toast(`Use accepted: ${money(license.terms.per_use_fee)} will be paid to the model when it settles.`, "ok");
      onReported();
    } catch (error) {
      mount(errorSlot, errorBox(explain(error)));
      if (accepted) {
        view.reported = Number(accepted.seq);
        onReported();
      }
    }
  };

  const paint = () => {
    const l = view.license;
    const canReport = isHolder && l.can_report;
    button.disabled = !canReport || Boolean(categoryRefused);
    mount(blocked, !canReport && isHolder ? errorBox(l.report_blocked_reason || "This licence cannot report uses any more.") : null);
    if (view.reported === null) return mount(note);
    const seq = view.reported;
    const use = view.uses.data.find((u) => u.seq === seq);
    const settled = use ? use.status === "settled" : seq < l.uses_settled;
    if (use && (use.status === "held" || use.status === "rejected")) {
      mount(note, errorBox(`${useLabel(seq, { start: true })} was not paid: ${use.reason || "it was refused"}.`));
    } else if (settled) {
      mount(note, okBox(`${useLabel(seq, { start: true })} settled: ${money(l.terms.per_use_fee)} paid to the model and her payees.`));
    } else {
      mount(note, okBox(`${useLabel(seq, { start: true })} is pending settlement.`));
    }
  };

  const el = h("form", { class: "card", id: "report-use", onsubmit: submit },
    h("h3", {}, "Report a use"),
    h("p", { class: "muted small" }, `Each use costs ${money(license.terms.per_use_fee)}, paid from the escrow to the model and her payees.`),
    blocked,
    h("div", { class: "inline-fields" },
      h("label", { class: "field" }, h("span", {}, "Usage"), category),
      h("label", { class: "field" }, h("span", {}, "Territory"), territory)),
    categorySlot,
    refField,
    attach.el,
    note,
    credential,
    errorSlot,
    button);
  return { el, paint };
}

/**
 * Most the escrow can still grow by: the uses the licence may still settle, at its fee, less the escrow already
 * held (which also pays the uses accepted but not yet settled). Unlimited uses: what a uint64 escrow still holds.
 */
export function topUpCap(l) {
  const fee = BigInt(l.terms.per_use_fee);
  const held = BigInt(l.escrow);
  const room = l.terms.max_uses ? BigInt(l.terms.max_uses - l.uses_settled) * fee : 2n ** 64n - 1n;
  return room > held ? room - held : 0n;
}

function escrowCard(view, isHolder, onChanged) {
  const amount = h("input", { type: "text", name: "topup", inputmode: "decimal", placeholder: "e.g. 100" });
  const amountBox = field(`Add to the escrow (${symbol()})`, amount);
  const capHint = h("p", { class: "muted small", "data-topup-cap": "" });
  const topUpAmount = amountField(amountBox, amount, "amount", (value) => {
    if (value === 0n) throw new Error("Enter an amount greater than zero.");
    const cap = topUpCap(view.license);
    if (value > cap) throw new Error(`The licence can use at most ${money(cap)} more escrow: enter ${money(cap)} or less.`);
  });
  const slot = h("div");
  const left = h("span", { class: "muted small", "data-escrow-left": "" });
  const balanceText = h("span", { id: "wallet-balance" }, isHolder ? "Your wallet: …" : "");
  const showBalance = (b) => (balanceText.textContent = `Your wallet: ${money(b)}`);
  const updateBalance = () => {
    if (isHolder) balanceOf(state.wallet.address).then(showBalance).catch(() => (balanceText.textContent = ""));
  };
  updateBalance();
  const topUpButton = h("button", { class: "btn", type: "submit" }, "Top up");
  const topUpForm = h("form", {}, amountBox, capHint, topUpButton);
  const endedNote = h("p", { class: "muted small" }, "This licence has ended: its escrow can no longer be topped up.");
  const topUpSlot = h("div");
  const reclaimNote = h("p", { class: "muted small", id: "reclaim-note" });
  const reclaimButton = h("button", { type: "button", id: "reclaim" });

  topUpForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    mount(slot);
    if (!topUpAmount.validate()) return;
    const value = topUpAmount.read();
    const l = view.license;
    const fee = BigInt(l.terms.per_use_fee);
    const confirmed = await confirmDialog({
      title: "Top up the escrow",
      intro: `Licence #${l.license_id} of ${l.twin.name}`,
      rows: [
        ["Escrow now", money(l.escrow)],
        ["You add", money(value)],
        ["Total to pay now", money(value), "total"],
        ["Escrow after", `${money(BigInt(l.escrow) + value)} (covers ${plural(((BigInt(l.escrow) + value) / fee).toString(), "use")})`],
        ["Per-use fee", money(fee)],
        ["Uses", l.terms.max_uses ? `${l.uses_settled} of ${l.terms.max_uses} settled` : `${l.uses_settled} settled, unlimited`],
        ["Term", `until ${dateTime(l.expiry)}`],
      ],
      confirmLabel: `Pay ${money(value)}`,
    });
    if (!confirmed) return;
    const before = BigInt(l.escrow);
    try {
      await runSteps("Topping up the escrow", [
        {
          label: "Approve the payment",
          run: async (ctx, note) => {
            const allowance = await token().allowance(state.wallet.address, state.deployment.contracts.LicenseToken);
            if (allowance >= value) return note("Already approved");
            await send(token(true), "approve", [state.deployment.contracts.LicenseToken, value], note);
          },
        },
        { label: "Add the escrow", run: (ctx, note) => send(licenses(true), "topUpEscrow", [l.license_id, value], note) },
        {
          label: "Update the licence",
          run: () => poll(async () => BigInt((await api(`/licenses/${l.license_id}`)).escrow) !== before, { timeoutMs: INDEX_WAIT_MS }),
        },
      ], explain);
      toast(`${money(value)} added to the escrow.`, "ok");
      amount.value = "";
      updateBalance();
      onChanged((fresh) => BigInt(fresh.escrow) !== before);
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  });

  reclaimButton.addEventListener("click", async () => {
    mount(slot);
    const l = view.license;
    try {
      await runSteps("Reclaiming the escrow", [
        { label: "Reclaim the unspent escrow", run: (ctx, note) => send(licenses(true), "reclaimEscrow", [l.license_id], note) },
        { label: "Update the licence", run: () => poll(async () => BigInt((await api(`/licenses/${l.license_id}`)).escrow) === 0n, { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(`${money(l.escrow)} of unspent escrow is back in your wallet.`, "ok");
      updateBalance();
      onChanged((fresh) => BigInt(fresh.escrow) === 0n);
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  });

  const paint = () => {
    const l = view.license;
    left.textContent = money(l.escrow);
    // Escrow can be added while the licence runs, and taken back once it expired or the revocation took effect.
    const canTopUp = isHolder && (l.status === "active" || l.status === "exhausted" || l.status === "revocation_pending");
    const cap = topUpCap(l);
    capHint.textContent = canTopUp ? `You can add at most ${money(cap)}: what the ${l.terms.max_uses ? "uses left" : "licence"} can still spend, less the escrow held.` : "";
    topUpButton.disabled = !canTopUp || cap === 0n;
    mount(topUpSlot, canTopUp || !isHolder ? topUpForm : endedNote);
    if (amount.value.trim()) topUpAmount.validate();

    // Taken back once the licence has ended and the uses reported before its end had their grace to settle.
    const reclaim = escrowReclaim(l, isHolder);
    const canReclaim = isHolder && reclaim.can;
    reclaimNote.textContent = reclaim.text;
    reclaimButton.className = canReclaim ? "btn primary" : "btn";
    reclaimButton.disabled = !canReclaim;
    reclaimButton.textContent = reclaim.nothingLeft ? "Nothing to reclaim" : "Reclaim escrow";
  };

  const el = h("section", { class: "card", id: "escrow" },
    h("div", { class: "card-head" }, h("h3", {}, "Escrow"), left),
    h("p", { class: "small row" }, balanceText, isHolder ? faucetButton(showBalance) : null),
    topUpSlot,
    h("hr", { style: "border:0;border-top:1px solid var(--line);margin:16px 0" }),
    reclaimNote,
    reclaimButton,
    slot);
  return { el, paint, updateBalance };
}
