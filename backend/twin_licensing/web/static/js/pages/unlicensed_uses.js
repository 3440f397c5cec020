// Guild: the images people reported as used without a licence, from "Check an image". The server shows them to the
// guild's account only; any other account gets a sentence saying so.

import { api } from "../api.js";
import { state } from "../state.js";
import { dateTime, plural, toSeconds } from "../format.js";
import { h, mount, emptyState, errorBox, table, pager } from "../ui.js";
import { explain } from "../errors.js";

const LIMIT = 20;

export async function render(root, { params }) {
  const guild = state.accounts.find((a) => a.role === "guild");
  const isGuild = state.wallet && (state.wallet.label?.startsWith("Guild") ||
    (guild && guild.address.toLowerCase() === state.wallet.address.toLowerCase()));
  if (!state.wallet || !isGuild) {
    mount(root, emptyState("For the guild only",
      "Reports of unlicensed use are read by the guild. Pick the guild's account (top right) to see them."));
    return;
  }
  const offset = Number(params.get("offset") || 0);
  let page;
  try {
    page = await api("/unlicensed-uses", { query: { offset, limit: LIMIT } });
  } catch (error) {
    mount(root, errorBox(explain(error)));
    return;
  }
  mount(root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Reported unlicensed uses"),
        h("p", {}, `${plural(page.count, "report")} from people who checked an image and found no licence for it.`))),
    h("section", { class: "card", id: "unlicensed-uses" },
      table(
        [
          { label: "Reported", render: (r) => dateTime(toSeconds(r.reported_at)) },
          { label: "Note", render: (r) => (r.note ? h("span", { class: "report-note" }, r.note) : h("span", { class: "muted" }, "No note")) },
          { label: "Image fingerprint", render: (r) => h("span", { class: "addr", title: r.sha256 }, `${r.sha256.slice(0, 18)}…`) },
          { label: "Closest licensed image", render: (r) => closest(r) },
        ],
        page.data,
        { empty: emptyState("No report yet", "When someone reports an image as used without a licence, it shows here.") },
      )),
    pager(offset, LIMIT, page.count, (o) => (location.hash = `#/guild/unlicensed?offset=${o}`)));
}

function closest(r) {
  if (!r.nearest) return h("span", { class: "muted" }, "None");
  const n = r.nearest;
  return h("a", { href: `#/twins/${n.twin_id}` }, `${n.twin_name || `Twin #${n.twin_id}`}, licence #${n.license_id}`);
}
