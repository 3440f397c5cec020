// The consent document: what a model consents under. The server stores its text by keccak256, the hash her twin
// carries on chain; this page part reads it (and checks the hash again in the browser), shows each version in the
// consent timeline, and stores a text before the transaction that puts its hash on chain.

import { api, ApiError } from "../api.js";
import { ethers } from "../chain.js";
import { dateTime } from "../format.js";
import { h, mount } from "../ui.js";
import { explain } from "../errors.js";
import { categoryChangeTitle } from "./category_consent.js";

export function consentHashOf(text) {
  return ethers.keccak256(ethers.toUtf8Bytes(text));
}

/** Stores `text` on the server under its keccak256 (the server refuses it if the hashes differ); returns the hash. */
export async function storeConsent(text) {
  const consentHash = consentHashOf(text);
  await api("/consent-documents", { method: "POST", body: { text, consent_hash: consentHash } });
  return consentHash;
}

/** The text of the document `consentHash`, checked against the hash here too; null when the server has none. */
export async function readConsent(consentHash) {
  try {
    const doc = await api(`/consent-documents/${consentHash}`);
    if (consentHashOf(doc.text).toLowerCase() !== consentHash.toLowerCase()) {
      throw new Error("The consent text the server sent does not match the hash on chain: do not rely on it.");
    }
    return doc;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

function documentBody(consentHash, doc) {
  if (!doc) {
    return h("p", { class: "muted" }, "The text of this consent is not stored here: only its hash is on chain, ",
      h("code", { class: "addr" }, consentHash), ".");
  }
  return [
    h("pre", { class: "consent-text", tabindex: "0", "aria-label": "Consent document" }, doc.text),
    h("p", { class: "muted small" }, "Checked in your browser: its keccak256 is the hash on chain, ", h("code", { class: "addr" }, consentHash), "."),
  ];
}

/** "Read the consent": the current consent document of `twin`, for brands before they buy. */
export function consentDocumentSection(twin) {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading the consent document…"));
  const hash = twin.consent?.consent_hash;
  if (!hash) mount(body, h("p", { class: "muted" }, "This twin has no consent document on chain."));
  else readConsent(hash).then((doc) => mount(body, documentBody(hash, doc)), (error) => mount(body, h("p", { class: "error-text" }, explain(error))));
  return h("section", { class: "card", id: "consent-document" },
    h("h3", {}, "Read the consent"),
    h("p", { class: "small" }, `What ${twin.name || "the model"} agreed to: every licence is bought under this consent.`),
    body);
}

/** The consent timeline: every registration, grant and revocation with its date; each version of the document
 * opens in place (its text is fetched when opened). */
export function consentTimeline(twin) {
  const items = twin.consent_history.slice().reverse().map((c) => {
    const one = categoryChangeTitle(c); // one usage category withdrawn or granted again: no document of its own
    if (one) {
      return h("li", { class: c.kind === "revoked" ? "bad" : "ok", "data-category": c.category }, h("strong", {}, one),
        h("span", { class: "muted small" }, ` · ${dateTime(c.timestamp)}`, c.kind === "revoked" && c.effective_at ? ` · its uses stop ${dateTime(c.effective_at)}` : ""));
    }
    const title = c.kind === "revoked" ? "Revoked" : c.kind === "registered" ? "Registered with consent" : "Granted";
    const when = h("span", { class: "muted small" }, ` · ${dateTime(c.timestamp)}`,
      c.kind === "revoked" && c.effective_at ? ` · uses stop ${dateTime(c.effective_at)}` : "");
    if (c.kind === "revoked" || !c.consent_hash) return h("li", { class: "bad" }, h("strong", {}, title), when);
    const text = h("div");
    const details = h("details", { class: "consent-version" },
      h("summary", {}, "Read this version"), text);
    details.addEventListener("toggle", () => {
      if (!details.open || text.childElementCount) return;
      mount(text, h("p", { class: "muted small" }, "Loading…"));
      readConsent(c.consent_hash).then((doc) => mount(text, documentBody(c.consent_hash, doc)),
        (error) => mount(text, h("p", { class: "error-text" }, explain(error))));
    });
    return h("li", { class: "ok", "data-consent-hash": c.consent_hash }, h("strong", {}, title), when, details);
  });
  return h("ul", { class: "timeline", id: "consent-timeline", style: "margin-top:16px" }, items);
}
