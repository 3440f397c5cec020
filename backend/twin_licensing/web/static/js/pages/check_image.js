// Anyone: "Check an image". Drop or choose an image; the server says whether it carries a valid content credential
// of a licensed use (and whether that use is paid), or, without one, whether it looks derived from a licensed
// image. With no licensed match, the person can report it to the guild.

import { h, mount, errorBox, okBox, field, badge, spinner } from "../ui.js";
import { explain } from "../errors.js";
import { labelOf } from "../state.js";
import { shortAddress } from "../format.js";
import { checkImage, verifyImage, reportUnlicensed, sizeText } from "../assets.js";

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
        h("p", {}, "Was this image of a digital twin licensed, and was the model paid? Anyone can check."))),
    h("div", { class: "check-layout" },
      h("section", { class: "card", id: "check-image" }, input, zone, picked),
      result));
}

// Each verdict the server gives, in plain words: a headline and the badge's colour.
const VERDICTS = {
  licensed_paid: ["Licensed and paid", "ok"],
  licensed_pending: ["Licensed, payment pending", "info"],
  credential_invalid: ["The credential is not valid", "bad"],
  outside_licence: ["The credential names a use outside its licence", "bad"],
  likely_derived: ["No credential, but it looks derived from a licensed image", "warn"],
  no_licensed_match: ["No licensed match", "bad"],
};

function verdictCard(answer, file) {
  const [headline, kind] = VERDICTS[answer.verdict] || [answer.verdict, ""];
  const facts = factsOf(answer);
  return h("section", { class: `card verdict verdict-${kind}`, id: "verdict", "data-verdict": answer.verdict },
    h("div", { class: "row" }, badge(headline, kind)),
    h("p", { class: "verdict-sentence" }, answer.sentence),
    facts.length ? h("dl", { class: "kv" }, facts.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])) : null,
    answer.verdict === "no_licensed_match" ? reportForm(file) : null);
}

/** Twin, brand, licence, use and transaction, each where the answer names it. */
function factsOf(a) {
  const out = [];
  if (a.twin) out.push(["Twin", h("a", { href: `#/twins/${a.twin.twin_id}` }, a.twin.name || `Twin #${a.twin.twin_id}`)]);
  if (a.brand) {
    const label = a.brand.label || labelOf(a.brand.address);
    out.push(["Brand", h("span", { title: a.brand.address }, label || shortAddress(a.brand.address))]);
  }
  if (a.license_id) out.push(["Licence", h("a", { href: `#/licenses/${a.license_id}` }, `Licence #${a.license_id}`)]);
  if (a.use_seq !== null && a.use_seq !== undefined) out.push(["Use", `Use #${a.use_seq + 1} of the licence`]);
  if (a.tx_hash) out.push(["Transaction", h("span", { class: "addr" }, a.tx_hash)]);
  return out;
}

function reportForm(file) {
  const note = h("textarea", { name: "note", maxlength: 1000, placeholder: "Where did you find it? (a link, a shop, a magazine and page)" });
  const noteField = field("Note for the guild (optional)", note);
  const slot = h("div");
  const button = h("button", { class: "btn primary", type: "submit" }, "Report unlicensed use");
  const form = h("form", { class: "report-unlicensed", id: "report-unlicensed" },
    h("h3", {}, "Seen this image used without a licence?"),
    h("p", { class: "muted small" }, "The guild, which stands for the models, gets your report with the image's fingerprint (not the image) and your note."),
    noteField, slot, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    mount(slot);
    button.disabled = true;
    try {
      await reportUnlicensed(file, note.value.trim());
      mount(form, okBox("Reported to the guild. Thank you: the guild reviews every report of unlicensed use."));
    } catch (error) {
      mount(slot, errorBox(explain(error)));
      button.disabled = false;
    }
  });
  return form;
}
