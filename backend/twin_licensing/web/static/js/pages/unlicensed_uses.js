// Guild: the images people reported as used without a licence, from "Check an image". The server shows them to a
// session signed in as the guild only (GET /auth/me says who is signed in); anyone else gets a sentence saying so.

import { api } from "../api.js";
import { labelOf } from "../state.js";
import { dateTime, plural, toSeconds, shortAddress } from "../format.js";
import { h, mount, emptyState, errorBox, table, pager } from "../ui.js";
import { explain } from "../errors.js";

const LIMIT = 20;

export async function render(root, { params }) {
  let me;
  let page;
  const offset = Number(params.get("offset") || 0);
  try {
    me = await api("/auth/me");
    if (me.guild) page = await api("/unlicensed-uses", { query: { offset, limit: LIMIT } });
  } catch (error) {
    mount(root, errorBox(explain(error)));
    return;
  }
  if (!me.guild) {
    mount(root, emptyState("For the guild only",
      me.signed_in
        ? `You are signed in as ${me.label || me.address}, which is not the guild: reports of unlicensed use are read by the guild.`
        : "Reports of unlicensed use are read by the guild. Sign in with the guild's account to see them."));
    return;
  }
  mount(root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Reported unlicensed uses"),
        h("p", {}, `${plural(page.total, "report")} from people who checked an image, found no licence for it and told the guild.`))),
    h("section", { class: "card", id: "unlicensed-uses" },
      table(
        [
          { label: "Reported", render: (r) => dateTime(toSeconds(r.reported_at)) },
          { label: "Where it was seen", render: (r) => h("span", { class: "report-note" }, r.note) },
          { label: "By", render: (r) => (r.reporter ? h("span", { title: r.reporter }, labelOf(r.reporter) || shortAddress(r.reporter)) : h("span", { class: "muted" }, "Anonymous")) },
          { label: "Image fingerprint", render: (r) => h("span", { class: "addr", title: `SHA-256 ${r.sha256}, perceptual hash ${r.phash}` }, `${r.sha256.slice(0, 14)}…`) },
        ],
        page.items,
        { empty: emptyState("No report yet", "When someone reports an image as used without a licence, it shows here.") },
      )),
    pager(offset, LIMIT, page.total, (o) => (location.hash = `#/guild/unlicensed?offset=${o}`)));
}
