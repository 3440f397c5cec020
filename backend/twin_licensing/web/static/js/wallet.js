// The wallet: an injected EIP-1193 wallet when the browser has one; on the local chain, a picker of the
// development accounts (labelled "Model: …", "Brand: …" from the seed) so a developer can act as anyone.
// Beside it, the sign-in control (session.js): picking a development account signs in as it (one click); with a
// browser wallet, "Sign in" asks it to sign the server's EIP-4361 message.

import { ethers } from "./chain.js";
import { api } from "./api.js";
import { state, walletChanged } from "./state.js";
import { h, mount, toast } from "./ui.js";
import { explain } from "./errors.js";
import { shortAddress } from "./format.js";
import { loadSession, signIn, signOut, signedInAs, signInControl } from "./session.js";

const STORAGE_KEY = "twin-licence.dev-account";
const ROLE_ORDER = ["brand", "model", "agency", "crew", "guild", "admin", "recorder"];
const ROLE_TITLE = {
  brand: "Brands", model: "Models", agency: "Agencies", crew: "Creative crew", guild: "Guild", admin: "Platform", recorder: "Platform",
};

function el() {
  return document.getElementById("wallet");
}

export async function initWallet() {
  const dep = state.deployment;
  await loadSession();
  if (dep.local) {
    try {
      const accounts = await api("/accounts");
      state.accounts = accounts.data;
    } catch {
      state.accounts = [];
    }
  }
  const wantsDev = new URLSearchParams(location.search).has("dev");
  if (window.ethereum && !wantsDev) {
    await initInjected();
  } else if (dep.local && state.accounts.length) {
    await initDev();
  } else {
    state.wallet = null;
    mount(el(), h("span", { class: "muted small" }, "No wallet found: install a browser wallet to buy or manage licences."));
    walletChanged();
  }
}

// ---------------------------------------------------------------- injected (MetaMask, Rabby, …)

async function initInjected() {
  const eip1193 = window.ethereum;
  const provider = new ethers.BrowserProvider(eip1193, "any");
  const connect = async () => {
    try {
      await eip1193.request({ method: "eth_requestAccounts" });
      await useInjected(provider);
    } catch (error) {
      toast(explain(error), "bad");
    }
  };
  eip1193.on?.("accountsChanged", () => useInjected(provider));
  eip1193.on?.("chainChanged", () => location.reload());
  const accounts = await eip1193.request({ method: "eth_accounts" }).catch(() => []);
  if (accounts.length) await useInjected(provider);
  else {
    state.wallet = null;
    mount(el(), h("button", { class: "btn primary", onclick: connect }, "Connect wallet"));
    walletChanged();
  }
}

async function useInjected(provider) {
  const accounts = await provider.send("eth_accounts", []);
  if (!accounts.length) {
    state.wallet = null;
    walletChanged();
    return initInjected();
  }
  const network = await provider.getNetwork();
  const address = ethers.getAddress(accounts[0]);
  const signer = await provider.getSigner(address);
  state.wallet = { kind: "injected", address, signer, provider, label: labelFor(address) };
  const wrongChain = Number(network.chainId) !== state.deployment.chain_id;
  mount(
    el(),
    h(
      "span",
      { class: "wallet-chip", title: address },
      h("span", { class: `dot ${wrongChain ? "off" : ""}` }),
      state.wallet.label ? `${state.wallet.label} · ` : "",
      h("span", { class: "addr" }, shortAddress(address)),
    ),
    wrongChain
      ? h("button", { class: "btn small", onclick: () => switchChain(provider) }, `Switch to chain ${state.deployment.chain_id}`)
      : signInControl(walletChanged),
  );
  walletChanged();
}

async function switchChain(provider) {
  try {
    await provider.send("wallet_switchEthereumChain", [{ chainId: "0x" + state.deployment.chain_id.toString(16) }]);
  } catch (error) {
    toast(explain(error), "bad");
  }
}

// ---------------------------------------------------------------- development accounts (local chain)

async function initDev() {
  const rpcUrl = new URL("/api/v1/dev/rpc", location.href).href;
  const provider = new ethers.JsonRpcProvider(rpcUrl, state.deployment.chain_id, { staticNetwork: true, batchMaxCount: 1 });
  provider.pollingInterval = 250;
  const select = h(
    "select",
    { id: "account-picker", "aria-label": "Act as development account" },
    h("option", { value: "" }, "Choose who you are…"),
    ROLE_ORDER.filter((role, i) => ROLE_ORDER.indexOf(role) === i).map((role) => {
      const members = state.accounts.filter((a) => a.role === role || (role === "admin" && a.role === "recorder" && false));
      if (!members.length) return null;
      return h("optgroup", { label: ROLE_TITLE[role] }, members.map((a) => h("option", { value: a.address }, a.label)));
    }),
  );
  const control = h("span");
  const choose = async (address) => {
    if (!address) {
      state.wallet = null;
      localStorage.removeItem(STORAGE_KEY);
      if (state.session?.signed_in) await signOut().catch(() => {});
    } else {
      const signer = new ethers.JsonRpcSigner(provider, address);
      state.wallet = { kind: "dev", address, signer, provider, label: labelFor(address) };
      localStorage.setItem(STORAGE_KEY, address);
      // One click: picking a development account signs in as it (the dev relay signs, as for transactions).
      if (!signedInAs(address)) await signIn().catch((error) => toast(explain(error), "bad"));
    }
    mount(control, signInControl(walletChanged));
    walletChanged();
  };
  select.addEventListener("change", () => choose(select.value));
  mount(el(), h("span", { class: "badge info", title: "Local chain: act as any development account" }, "Dev account"), select, control);
  const params = new URLSearchParams(location.search);
  const wanted = params.get("as") || localStorage.getItem(STORAGE_KEY);
  const known = state.accounts.find((a) => wanted && a.address.toLowerCase() === wanted.toLowerCase());
  if (known) select.value = known.address;
  await choose(known ? known.address : "");
}

/** Switches the development account (used by the picker and by links such as "act as the model"). */
export function actAs(address) {
  const select = document.getElementById("account-picker");
  if (!select) return false;
  select.value = address;
  select.dispatchEvent(new Event("change"));
  return true;
}

function labelFor(address) {
  const found = state.accounts.find((a) => a.address.toLowerCase() === address.toLowerCase());
  return found ? found.label : "";
}
