// The image of a use, on the brand's licence page: "Attach the image" in the use-report form (checked here first,
// its SHA-256 becomes the use_ref the holder signs), the credentialed copy to download once it is uploaded, and the
// thumbnails in the list of uses.

import { h, mount } from "../ui.js";
import { checkImage, sha256Of, sizeText, maxImageBytes, credentialedUrl, thumbnailUrl } from "../assets.js";

/**
 * The "Attach the image" field. `read()` gives {file, sha256} for an attached image that passed the browser's
 * checks (null when none is attached) or throws the field's sentence; `clear()` empties it. `onChange(attached)`
 * hears whether a file is chosen.
 */
export function attachField(onChange = () => {}) {
  const input = h("input", { type: "file", name: "asset", id: "use-asset", accept: "image/jpeg,image/png,image/webp" });
  const error = h("div", { class: "field-error", hidden: true });
  const chosen = h("div", { class: "muted small", "data-asset-chosen": "" });
  let checked = null; // {file, sha256} of the file on screen, once checked; a promise while checking

  const setError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
  };
  const inspect = async (file) => {
    await checkImage(file);
    return { file, sha256: await sha256Of(file) };
  };
  input.addEventListener("change", () => {
    setError("");
    mount(chosen);
    const file = input.files[0];
    onChange(Boolean(file));
    if (!file) return (checked = null);
    const attempt = inspect(file);
    checked = attempt;
    attempt.then(
      (done) => checked === attempt && mount(chosen, `${file.name}, ${sizeText(file.size)}: the image is the use's reference (its SHA-256 ${done.sha256.slice(0, 12)}… is what you sign).`),
      (problem) => checked === attempt && setError(problem.message),
    );
  });

  const el = h("div", { class: "field", id: "attach-image" },
    h("label", { for: "use-asset" }, h("span", {}, "Attach the image (optional)")),
    input,
    h("small", {}, `JPEG, PNG or WebP, up to ${sizeText(maxImageBytes())}. You get a copy carrying its content credential.`),
    chosen, error);

  return {
    el,
    setError,
    async read() {
      if (!input.files[0]) return null;
      try {
        return await checked;
      } catch (problem) {
        setError(problem.message);
        throw problem;
      }
    },
    clear() {
      input.value = "";
      checked = null;
      onChange(false);
      mount(chosen);
      setError("");
    },
  };
}

/** The link to download the copy of a use's image that carries its content credential (C2PA manifest). */
export function credentialLink(use) {
  // The server names the file (Content-Disposition): licence-<id>-use-<N>.<extension>, N as in “use #N”.
  return h("a", { class: "btn small", href: credentialedUrl(use.id), download: "", "data-credentialed": "" },
    "Download the credentialed copy");
}

/** A use's image, small, or nothing when no image was attached. */
export function useThumb(use) {
  const src = thumbnailUrl(use);
  return src ? h("img", { class: "thumb asset-thumb", src, alt: `Image of use #${use.seq + 1}`, loading: "lazy" }) : null;
}

/** Under a use in a list: the link to its image's credentialed copy, or nothing when no image was attached. */
export function useCredentialLink(use) {
  return use.asset
    ? h("a", { class: "small", href: credentialedUrl(use.id), download: "", "data-credentialed-row": "" }, "Credentialed copy")
    : null;
}
