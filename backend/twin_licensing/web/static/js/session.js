// Sign-In with Ethereum: the server keeps the session in an HTTP-only cookie (the page never sees it); this module
// asks who is signed in, signs in (the wallet signs the EIP-4361 message the server wrote, with personal_sign: a
// development account through the dev relay, as wallet.js signs everything else, or the browser's wallet) and out,
// and draws the header's control and the pages' "sign in to see this" prompt.

import { api, ApiError } from "./api.js";
import { state } from "./state.js";
import { h, mount, toast, emptyState } from "./ui.js";
import { explain } from "./errors.js";

let repaintHeader = null; // the header control's painter: a sign-in from a page's prompt shows there too

/** Reads who is signed in (GET /auth/me) into state.session. */
export async function loadSession() {
  try {
    state.session = await api("/auth/me");
  } catch {
    state.session = { signed_in: false, address: null, label: "", guild: false };
  }
  return state.session;
}

/** Whether the session is the account `address` (the wallet's, by default). */
export function signedInAs(address = state.wallet?.address) {
  const s = state.session;
  return Boolean(s?.signed_in && address && s.address.toLowerCase() === address.toLowerCase());
}

/** Signs in as the wallet's account: a nonce and its message from the server, signed, sent back. */
export async function signIn() {
  const wallet = state.wallet;
  if (!wallet) throw new Error("Choose an account or connect a wallet first, then sign in.");
  const { message } = await api("/auth/nonce", { method: "POST", body: { address: wallet.address } });
  const signature = await wallet.signer.signMessage(message);
  state.session = await api("/auth/sign-in", { method: "POST", body: { message, signature } });
  repaintHeader?.();
  return state.session;
}

export async function signOut() {
  state.session = await api("/auth/sign-out", { method: "POST", body: {} });
  repaintHeader?.();
}

/** The header's control: "Sign in" while the wallet's account is not signed in, else "Signed in" and "Sign out".
 * `changed` runs after either (the pages re-render with what the viewer may now see). */
export function signInControl(changed) {
  const box = h("span", { class: "signin", id: "signin" });
  const paint = () => {
    if (!state.wallet) return mount(box);
    if (signedInAs()) {
      return mount(box,
        h("span", { class: "signin-chip", id: "signed-in", title: `Signed in as ${state.session.address}` },
          h("span", { "aria-hidden": "true" }, "✓"), h("span", { class: "signin-text" }, " Signed in")),
        h("button", { type: "button", class: "btn small", id: "sign-out", onclick: () => run(signOut, "Signed out.") }, "Sign out"));
    }
    return mount(box, h("button", { type: "button", class: "btn small primary", id: "sign-in", onclick: () => run(signIn, "Signed in.") }, "Sign in"));
  };
  const run = async (action, done) => {
    box.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      await action();
      toast(done, "ok");
    } catch (error) {
      toast(explain(error), "bad");
    }
    paint();
    changed?.();
  };
  paint();
  repaintHeader = paint;
  return box;
}

/** What a page shows when the API answers 404 for a private object: without a session, a prompt to sign in
 * (`what`: "this licence"); signed in, "not found" with the API's sentence (it may not be the viewer's). */
export function privateNotFound(error, what, changed) {
  if (!(error instanceof ApiError) || error.status !== 404) throw error;
  if (!signedInAs()) return signInPrompt(what, changed);
  return h("div", { id: "not-found" }, emptyState("Not found", error.message));
}

/** A card asking to sign in to see `what`, with the button. */
export function signInPrompt(what, changed) {
  const button = h("button", { type: "button", class: "btn primary", id: "sign-in-to-see" }, "Sign in");
  const note = h("p", { class: "error-text", role: "alert", hidden: true });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await signIn();
      changed?.();
    } catch (error) {
      note.textContent = explain(error);
      note.hidden = false;
      button.disabled = false;
    }
  });
  const text = state.wallet
    ? `Only its owners can see ${what}: sign in as ${state.wallet.label || state.wallet.address} to prove it is you. Signing in costs nothing.`
    : `Only its owners can see ${what}: connect a wallet (or pick a development account, top right), then sign in.`;
  return h("div", { class: "card", id: "sign-in-prompt" },
    h("h2", {}, "Sign in to see this"), h("p", {}, text), state.wallet ? button : null, note);
}
