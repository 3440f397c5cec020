// Images of uses (issue 13): what the browser checks before sending an image, its SHA-256 (the use_ref of a use
// with an attached image), uploads, thumbnails and the verdict of "Check an image".
//
// The server decides what an image is (by its content) and how large it may be; the browser checks the same first
// so that a person learns it in a sentence before any upload, with the limit the API publishes.

import { api, BASE } from "./api.js";
import { state } from "./state.js";

/** The kinds of image the server accepts, by their first bytes (what the file *is*, whatever its name says). */
const KINDS = [
  { name: "JPEG", type: "image/jpeg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { name: "PNG", type: "image/png", test: (b) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((v, i) => b[i] === v) },
  { name: "WebP", type: "image/webp", test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP" },
];
const ascii = (bytes, from, to) => String.fromCharCode(...bytes.slice(from, to));

/** The largest image the server takes, in bytes, as the deployment publishes it (`assets.max_bytes`). */
export function maxImageBytes() {
  return Number(state.deployment.assets.max_bytes);
}

/** The longest note of a report of unlicensed use, as the deployment publishes it. */
export function noteMax() {
  return Number(state.deployment.assets.note_max);
}

export function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/**
 * Checks a chosen file in the browser: a JPEG, PNG or WebP by its content, not empty, within the size limit.
 * Returns its kind ({name, type}); throws an Error whose message is one sentence for the page.
 */
export async function checkImage(file) {
  if (!file) throw new Error("Choose an image first.");
  const max = maxImageBytes();
  if (file.size === 0) throw new Error(`“${file.name}” is empty: choose the image file itself.`);
  if (file.size > max) {
    throw new Error(`“${file.name}” is ${sizeText(file.size)}; images can be at most ${sizeText(max)}. Export a smaller copy and try again.`);
  }
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  const kind = KINDS.find((k) => k.test(head));
  if (!kind) throw new Error(`“${file.name}” is not a JPEG, PNG or WebP image. Save it in one of those formats and try again.`);
  return kind;
}

/** The SHA-256 of the file's bytes, 0x-hex: the use_ref of a use reported with this image. */
export async function sha256Of(file) {
  if (!globalThis.crypto?.subtle) {
    throw new Error("This browser cannot hash the image here (it needs a secure connection): open the site over https or on this computer.");
  }
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return "0x" + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Attaches the image to the use it was reported for (its SHA-256 is the use's use_ref). */
export function uploadAsset(useId, file) {
  return api(`/uses/${useId}/asset`, { method: "POST", upload: file });
}

/** Asks the server what it knows of an image: a verdict with the twin, brand, licence and transaction. */
export function verifyImage(file) {
  return api("/verify", { method: "POST", upload: file });
}

/** Where the copy carrying the content credential (C2PA manifest) of a use's image is downloaded. */
export function credentialedUrl(useId) {
  return `${BASE}/uses/${useId}/asset/credentialed`;
}

/** A small picture of the image attached to a use, or null when the use has none. */
export function thumbnailUrl(use) {
  return use?.asset ? `${BASE}/uses/${use.id}/asset/thumbnail` : null;
}

/** Records for the guild that this image (its fingerprint, not the image) was found used without a licence. */
export function reportUnlicensed(file, note) {
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("note", note);
  return api("/unlicensed-uses", { method: "POST", upload: form });
}
