// Model (or any payee): earnings read from the chain, their history as charts, per use and per brand; withdraw.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { money, dateTime, plural, toBig, symbol, bps, shortAddress } from "../format.js";
import { h, mount, errorBox, runSteps, toast, table, pager, emptyState, badge } from "../ui.js";
import { explain } from "../errors.js";
import { licenses, registry, send } from "../chain.js";
import { confirmDialog } from "./common.js";
import { statementCard } from "./statement.js";
import { upfrontCard } from "./upfront.js";

let charts = [];
let timer = null;
const LIMIT = 10;

export function leave() {
  charts.forEach((c) => c.destroy());
  charts = [];
  clearTimeout(timer);
}

export async function render(root, { params, isCurrent }) {
  if (!state.wallet) {
    mount(root, emptyState("Choose a wallet", "Connect your wallet (or pick a model's development account, top right) to see your earnings."));
    return;
  }
  const me = state.wallet.address;
  const offset = Number(params.get("offset") || 0);
  const [earnings, history] = await Promise.all([api(`/earnings/${me}`), api(`/earnings/${me}/history`, { query: { offset, limit: LIMIT } })]);
  const chain = earnings.chain;
  const claimable = chain.available ? chain.claimable : earnings.index.claimable;
  const total = chain.available ? chain.total_earned : earnings.index.total_earned;
  const slot = h("div");

  // Upfront fees vest over each licence's term; withdrawing vests what has (withdrawVested) and pays it with the rest.
  const upfront = upfrontOf(earnings);
  // The twins whose licences paid (or pay) her an upfront fee: those the API's vesting lists, then any other of hers.
  const upfrontTwins = [...new Set([...(earnings.vesting || []).map((v) => v.twin.twin_id), ...(earnings.twins || []).map((t) => t.twin_id)])].slice(0, 20);
  const vestable = (earnings.vestable_license_ids || []).map(Number);
  const canWithdraw = toBig(claimable) > 0n || vestable.length > 0;
  // Her share of the vested upfront is split on chain as it is collected: said beside the amount, not added to it.
  const collects = vestable.length && upfront.ready > 0n
    ? `Withdrawing also collects your share of the ${money(upfront.ready)} of upfront fees vested since they were last collected.`
    : "";
  const withdraw = async () => {
    mount(slot);
    try {
      await runSteps("Withdrawing your earnings", [
        {
          label: vestable.length ? `Withdraw ${money(claimable)} and your share of the vested upfront fees` : `Withdraw ${money(claimable)}`,
          run: (ctx, note) => (vestable.length
            ? send(licenses(true), "withdrawVested", [vestable], note)
            : send(licenses(true), "withdraw", [], note)),
        },
        { label: "Update your earnings", run: () => poll(async () => toBig((await api(`/earnings/${me}`)).chain.claimable ?? 1) === 0n, { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(vestable.length ? "Your earnings, vested upfront fees included, are in your wallet." : `${money(claimable)} is in your wallet.`, "ok");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };

  const agreement = earnings.agree === true
    ? badge("Index and chain agree", "ok")
    : earnings.agree === false ? badge("Index catching up with the chain", "warn") : badge("Chain not reachable: showing the index", "warn");

  const listings = h("div", { id: "listings-slot" });
  mount(
    root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Earnings"), h("p", {}, `${earnings.label || me}: what every use of your twins paid you, read from the chain.`)),
      h("div", { class: "row" }, agreement)),
    listings,
    h("div", { class: "stats", id: "earnings-stats" },
      h("div", { class: "stat accent" }, h("div", { class: "label" }, "Claimable now"), h("div", { class: "value", id: "claimable" }, money(claimable)),
        h("div", { class: "hint" }, chain.available ? `on chain at block ${chain.block_number}` : "from the index")),
      h("div", { class: "stat" }, h("div", { class: "label" }, "Your share, all time"), h("div", { class: "value", id: "total-earned" }, money(total)),
        h("div", { class: "hint" }, "your part of upfront fees and settled uses, after the other payees'")),
      h("div", { class: "stat" }, h("div", { class: "label" }, "Upfront fees vested"), h("div", { class: "value", id: "upfront-vested" }, money(upfront.vested)),
        h("div", { class: "hint" }, "your twins' fees, before the split")),
      h("div", { class: "stat" }, h("div", { class: "label" }, "Still vesting"), h("div", { class: "value", id: "upfront-vesting" }, money(upfront.vesting)),
        h("div", { class: "hint" }, "back to brands if consent is revoked")),
      h("div", { class: "stat" }, h("div", { class: "label" }, "Withdrawn"), h("div", { class: "value" }, money(chain.available ? chain.withdrawn : earnings.index.withdrawn))),
      h("div", { class: "stat" }, h("div", { class: "label" }, "Uses paid"), h("div", { class: "value" }, String(earnings.by_brand.reduce((n, b) => n + b.uses, 0))),
        h("div", { class: "hint" }, plural(earnings.by_brand.length, "brand")))),
    h("div", { class: "row", style: "margin:16px 0" },
      h("button", { class: "btn primary", id: "withdraw", onclick: withdraw, disabled: !canWithdraw }, !canWithdraw ? "Nothing to withdraw" : toBig(claimable) > 0n ? `Withdraw ${money(claimable)}` : "Withdraw the vested upfront fees"),
      collects ? h("span", { class: "muted small", id: "withdraw-collects" }, collects) : null,
      slot),
    upfrontTwins.length ? upfrontCard(upfrontTwins, { withTwin: true }) : null,
    earnings.series.length
      ? h("div", { class: "grid-2" },
        h("section", { class: "card" }, h("h3", {}, "Over time"), h("p", { class: "muted small" }, `Each bar is what you earned in a ${bucketOf(earnings.series)}, on one scale from zero.`),
          h("div", { class: "chart-box" }, h("canvas", { id: "chart-time", "aria-label": "Earnings over time" }))),
        h("section", { class: "card" }, h("h3", {}, "Per brand"), h("p", { class: "muted small" }, "What each brand's licences and uses paid you."),
          h("div", { class: "chart-box" }, h("canvas", { id: "chart-brands", "aria-label": "Earnings per brand" }))))
      : emptyState("No earnings yet", "When a brand licenses one of your twins, or reports a use, your share appears here within seconds."),
    statementCard(me),
    earnings.by_twin.length > 1 ? h("section", { class: "card", style: "margin-top:20px" }, h("h3", {}, "Per twin"),
      table([{ label: "Twin", render: (t) => t.label }, { label: "Licences", num: true, render: (t) => String(t.licenses) },
        { label: "Uses", num: true, render: (t) => String(t.uses) }, { label: "Your share", num: true, render: (t) => money(t.amount) }], earnings.by_twin)) : null,
    h("section", { class: "card", style: "margin-top:20px", id: "earnings-history" },
      h("div", { class: "card-head" }, h("h3", {}, "Every payment"), h("span", { class: "muted small" }, plural(history.count, "item"))),
      table(
        [
          { label: "When", render: (i) => dateTime(i.timestamp) },
          // Each licence line opens that licence's uses in the usage log.
          { label: "What", render: (i) => (i.kind === "withdrawal" ? "You withdrew" : h("a", { href: `#/usage?license=${i.license_id}`, class: "usage-link" },
            i.kind === "upfront" ? `Licence #${i.license_id} bought` : `${plural(i.uses, "use")} of licence #${i.license_id}`)) },
          { label: "Twin", render: (i) => i.twin_name || "" },
          { label: "Brand", render: (i) => i.brand_label || (i.brand ? `${i.brand.slice(0, 8)}…` : "") },
          { label: "Your share", num: true, render: (i) => (i.share_bps ? `${i.share_bps / 100} %` : "") },
          { label: "Amount", num: true, render: (i) => (i.kind === "withdrawal" ? `−${money(i.amount)}` : money(i.amount)) },
        ],
        history.data,
        { empty: h("p", { class: "muted" }, "Nothing yet.") },
      ),
      pager(offset, LIMIT, history.count, (o) => (location.hash = `#/model/earnings?offset=${o}`))),
  );
  drawCharts(earnings);
  listingsCard(me).then((card) => isCurrent() && mount(listings, card)).catch((error) => isCurrent() && mount(listings, errorBox(explain(error))));
  // Earnings move whenever a use of her twins settles. Poll briskly while one of their licences has a use waiting to
  // settle; otherwise less often, to learn of uses that brands report later (the API has no push channel).
  const signature = JSON.stringify([earnings.chain, earnings.index]);
  const watch = async () => {
    if (!isCurrent()) return;
    let pending = false;
    try {
      const [fresh, waiting] = await Promise.all([api(`/earnings/${me}`), pendingUses(earnings.twins)]);
      if (JSON.stringify([fresh.chain, fresh.index]) !== signature && isCurrent()) return window.dispatchEvent(new HashChangeEvent("hashchange"));
      pending = waiting;
    } catch { /* try again later */ }
    if (isCurrent()) timer = setTimeout(watch, pending ? BRISK_MS : IDLE_MS);
  };
  timer = setTimeout(watch, BRISK_MS);
}

const BRISK_MS = 1000;
const IDLE_MS = 2000;

/** Whether a licence of one of these twins has a use accepted but not settled yet. */
async function pendingUses(twins) {
  const pages = await Promise.all((twins || []).slice(0, 20).map((t) =>
    api("/licenses", { query: { twin_id: t.twin_id, limit: 100 } }).catch(() => ({ data: [] }))));
  return pages.some((page) => page.data.some((l) => l.uses_pending > 0));
}

function drawCharts(earnings) {
  leave();
  const Chart = window.Chart;
  if (!Chart || !earnings.series.length) return;
  const usdc = (v) => Number(toBig(v)) / 1e6;
  const unit = bucketOf(earnings.series);
  const labels = earnings.series.map((p) => bucketLabel(p.timestamp, unit));
  const points = earnings.series;
  charts.push(new Chart(document.getElementById("chart-time"), {
    type: "bar",
    data: {
      labels,
      // One dataset on one linear scale from zero: a small payment is a short bar, never hidden by a second axis;
      // a bucket that earned anything keeps a visible bar however small (an empty one has none: null, not 0).
      datasets: [{ label: `Earned per ${unit}`, data: points.map((p) => (toBig(p.amount) === 0n ? null : usdc(p.amount))), backgroundColor: "#7a2e3a", minBarLength: 3 }],
    },
    options: {
      maintainAspectRatio: false, animation: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => `${money(points[c.dataIndex].amount)} · ${plural(points[c.dataIndex].uses, "use")} · ${money(points[c.dataIndex].cumulative)} in all` } },
      },
      scales: {
        x: { title: { display: true, text: unit === "month" ? "Month" : unit === "week" ? "Week starting" : "Day (UTC)" }, ticks: { autoSkip: true, maxRotation: 0 } },
        y: { beginAtZero: true, title: { display: true, text: `${symbol()} per ${unit}` } },
      },
    },
  }));
  const brands = earnings.by_brand.slice(0, 8);
  charts.push(new Chart(document.getElementById("chart-brands"), {
    type: "bar",
    data: {
      labels: brands.map((b) => b.label.replace(/^Brand: /, "")),
      datasets: [{ label: symbol(), data: brands.map((b) => usdc(b.amount)), backgroundColor: ["#7a2e3a", "#a8505e", "#c98893", "#2e5b8a", "#5f8fbf", "#2f6b4f", "#9a6412", "#807870"] }],
    },
    options: {
      indexAxis: "y", maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${c.parsed.x.toFixed(2)} ${symbol()} · ${plural(brands[c.dataIndex].uses, "use")}` } } },
      scales: { x: { beginAtZero: true } },
    },
  }));
}

/**
 * The twins that list this account as a payee (an agency, a crew member) and wait for it to accept. Until it does,
 * its share of their uses is credited but not counted in withdraw(); leaving gives the share back to the model and
 * keeps what was already credited. Null when nothing waits.
 */
async function listingsCard(me) {
  const page = await api(`/payees/${me}/listings`, { query: { status: "pending", limit: 100 } });
  if (!page.data.length) return null;
  const slot = h("div");
  const twinName = (l) => l.twin.name || `Twin #${l.twin.twin_id}`;
  const gone = (twinId) => async () => !(await api(`/payees/${me}/listings`, { query: { status: "pending", limit: 100 } })).data.some((l) => l.twin.twin_id === twinId);
  const act = async (listing, accept) => {
    mount(slot);
    if (!accept && !(await confirmDialog({
      title: `Leave ${twinName(listing)}?`,
      intro: `You stop being a payee of this twin: your share of ${bps(listing.share_bps)} goes to the model from now on. ` +
        "What you were already paid from it stays yours to withdraw.",
      confirmLabel: "Leave",
      danger: true,
    }))) return;
    try {
      await runSteps(accept ? "Accepting the listing" : "Leaving the twin", [
        {
          label: accept ? `Accept your share of ${twinName(listing)}` : `Leave ${twinName(listing)}`,
          run: (ctx, note) => send(registry(true), accept ? "acceptPayee" : "leavePayee", [listing.twin.twin_id], note),
        },
        { label: "Update your listings", run: () => poll(gone(listing.twin.twin_id), { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(accept ? `You accepted your share of ${twinName(listing)}: its earnings count in your withdrawals.`
        : `You left ${twinName(listing)}: your share goes to the model.`, "ok");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };
  return h("section", { class: "card", id: "listings", style: "margin-bottom:20px" },
    h("div", { class: "card-head" }, h("h3", {}, "Twins waiting for your answer"), h("span", { class: "muted small" }, plural(page.count, "listing"))),
    h("p", { class: "small" }, "These models list you as a payee. Accept to have each twin's earnings counted when you withdraw, " +
      "or leave it: your share then goes to the model, and what you were already paid stays yours."),
    slot,
    table(
      [
        { label: "Twin", render: (l) => h("a", { href: `#/twins/${l.twin.twin_id}` }, twinName(l)) },
        { label: "Model", render: (l) => l.model_label || shortAddress(l.model) },
        { label: "Your role", render: (l) => badge(l.role) },
        { label: "Your share", num: true, render: (l) => bps(l.share_bps) },
        { label: "Credited so far", num: true, render: (l) => money(l.undistributed_share) },
        {
          label: "",
          render: (l) => h("div", { class: "row", style: "justify-content:flex-end;gap:6px" },
            h("button", { type: "button", class: "btn small primary", "data-accept": l.twin.twin_id, "aria-label": `Accept your share of ${twinName(l)}`, onclick: () => act(l, true) }, "Accept"),
            h("button", { type: "button", class: "btn small danger", "data-leave": l.twin.twin_id, "aria-label": `Leave ${twinName(l)}`, onclick: () => act(l, false) }, "Leave")),
        },
      ],
      page.data,
    ));
}

/** "day", "week" or "month": the API buckets the series by the range it spans; consecutive points are one apart. */
function bucketOf(series) {
  if (series.length < 2) return "day";
  const gap = series[1].timestamp - series[0].timestamp;
  return gap >= 28 * 86400 ? "month" : gap >= 7 * 86400 ? "week" : "day";
}

function bucketLabel(timestamp, unit) {
  const d = new Date(timestamp * 1000);
  if (unit === "month") return d.toLocaleDateString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
  return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

/**
 * Her twins' upfront fees (the API's `vesting`, per twin that counts in her withdraw), summed: `vested` so far,
 * `vesting` still to vest, and `ready`, vested but not credited yet (withdrawVested credits it, then splits it).
 */
export function upfrontOf(earnings) {
  const twins = earnings.vesting || [];
  const sum = (key) => twins.reduce((total, t) => total + toBig(t[key]), 0n);
  return { vested: sum("vested"), vesting: sum("still_vesting"), ready: sum("vestable") };
}
