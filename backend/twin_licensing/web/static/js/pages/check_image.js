// Anyone: "Check an image". Drop or choose an image; the server says whether it carries a valid content credential
// of a licensed use (and whether that use is paid), or, without one, whether it looks derived from a licensed
// image. With no licensed match, the person can report it to the guild.

import { h, mount, errorBox, okBox, field, badge, spinner } from "../ui.js";
import { explain } from "../errors.js";
import { state, labelOf } from "../state.js";
import { shortAddress, dateTime, useLabel } from "../format.js";
import { checkImage, verifyImage, reportUnlicensed, sizeText, noteMax } from "../assets.js";

let preview = null; // the object URL of the image on screen, released when it changes or the page goes

export function leave() {
  if (preview) URL.revokeObjectURL(preview);
  preview = null;
}

export async function render(root) {
  const input = h("input", { type: "file", id: "check-file", name: "image", accept: "image/jpeg,image/png,image/webp", class: "drop-input" });
  const zone = h("label", { class: "drop-zone", for: "check-file", id: "drop-zone" },
    h("span", { class: "drop-title" }, "Drop an image here"),
    h("span", { class: "muted" }, "or ", h("span", { class: "drop-choose" }, "choose a file")),
    h("span", { class: "muted small" }, "JPEG, PNG or WebP. The image is checked, not kept."));
  const picked = h("div", { class: "picked", id: "check-picked" });
  const result = h("div", { id: "check-result", "aria-live": "polite" });

  const check = async (file) => {
    leave();
    mount(picked);
    mount(result);
    try {
      await checkImage(file);
    } catch (error) {
      mount(result, errorBox(error.message));
      return;
    }
    preview = URL.createObjectURL(file);
    mount(picked, h("img", { src: preview, alt: `The image you chose: ${file.name}` }),
      h("div", {}, h("strong", {}, file.name), h("div", { class: "muted small" }, sizeText(file.size))));
    mount(result, h("div", { class: "card muted" }, spinner(), " Checking the image…"));
    try {
      const answer = await verifyImage(file);
      mount(result, verdictCard(answer, file));
    } catch (error) {
      mount(result, errorBox(explain(error)));
    }
  };

  input.addEventListener("change", () => input.files[0] && check(input.files[0]));
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer?.files?.[0];
    if (file) check(file);
  });

  mount(root,
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Check an image"),
        h("p", {}, "Was this image of a digital twin licensed, and was the model paid? Anyone can check.")),
      // The guild reads what people report from here.
      state.session?.guild ? h("a", { class: "btn", href: "#/guild/unlicensed", id: "to-unlicensed" }, "Reported unlicensed uses") : null),
    h("div", { class: "check-layout" },
      h("section", { class: "card", id: "check-image" }, input, zone, picked),
      result));
}

// Each verdict the server gives (with its reason where two answers share one), in plain words: a headline and the
// colour of its badge.
const VERDICTS = {
  licensed_paid: ["Licensed and paid", "ok"],
  licensed_pending: ["Licensed, payment pending", "info"],
  credential_invalid: ["The credential is not valid", "bad"],
  outside_licence: ["The credential names a use outside its licence", "bad"],
  "no_credential/likely_derived": ["No credential, but likely derived from a licensed image", "warn"],
  "no_credential/no_licensed_match": ["No licensed match", "bad"],
};

/** The answer's key in VERDICTS, also set on the card for tests and styles: "licensed_paid", "no_credential/…". */
export function verdictKey(answer) {
  return answer.verdict === "no_credential" ? `no_credential/${answer.reason}` : answer.verdict;
}

function verdictCard(answer, file) {
  const key = verdictKey(answer);
  const [headline, kind] = VERDICTS[key] || ["Checked", ""];
  const facts = factsOf(answer.use);
  return h("section", { class: `card verdict verdict-${kind}`, id: "verdict", "data-verdict": key },
    h("div", { class: "row" }, badge(headline, kind)),
    h("p", { class: "verdict-sentence" }, answer.sentence),
    facts.length ? h("dl", { class: "kv" }, facts.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])) : null,
    key === "no_credential/no_licensed_match" ? reportForm(file) : null);
}

/** Twin, brand, licence, use and transaction of the use the answer names (its own, or the image it resembles). */
function factsOf(use) {
  if (!use) return [];
  const out = [
    ["Twin", h("a", { href: `#/twins/${use.twin_id}` }, use.twin_name || `Twin #${use.twin_id}`)],
    ["Brand", h("span", { title: use.brand }, use.brand_label || labelOf(use.brand) || shortAddress(use.brand))],
    ["Licence", h("a", { href: `#/licenses/${use.license_id}` }, `Licence #${use.license_id}`)],
    ["Use", `${useLabel(use.seq, { start: true })}: ${use.category_name}, ${use.territory_name}, ${dateTime(use.used_at)}`],
  ];
  if (use.tx_hash) {
    out.push(["Paid in", h("span", {}, h("span", { class: "addr", "data-tx": "" }, use.tx_hash),
      use.block_number ? h("span", { class: "muted small" }, ` (block ${use.block_number}${use.proof_checked ? ", proof checked" : ""})`) : null)]);
  } else {
    out.push(["Paid in", h("span", { class: "muted" }, "Not settled yet")]);
  }
  return out;
}

function reportForm(file) {
  const note = h("textarea", { name: "note", maxlength: noteMax(), placeholder: "e.g. a banner on example.com/shop, seen on 3 March" });
  const noteField = field("Where did you see it?", note, "The guild reads this to follow it up: a link, a shop, a magazine and page.");
  note.addEventListener("input", () => noteField.setError(""));
  const slot = h("div");
  const button = h("button", { class: "btn primary", type: "submit" }, "Report unlicensed use");
  const form = h("form", { class: "report-unlicensed", id: "report-unlicensed" },
    h("h3", {}, "Seen this image used without a licence?"),
    h("p", { class: "muted small" }, "Report it to the guild, which stands for the models: it gets the image's fingerprints (not the image) and your note."),
    noteField, slot, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    mount(slot);
    const text = note.value.trim();
    if (!text) {
      noteField.setError("Say where you saw the image, so the guild can follow it up.");
      note.focus();
      return;
    }
    button.disabled = true;
    try {
      await reportUnlicensed(file, text);
      mount(form, okBox("Reported to the guild, with your note. Thank you: the guild follows up every report of unlicensed use."));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
      button.disabled = false;
    }
  });
  return form;
}
