// Shared application state: the deployment (from the API), the wallet and contract handles, and change listeners.

export const state = {
  deployment: null, // GET /api/v1/deployment
  abis: null, // GET /api/v1/deployment/abi
  wallet: null, // { kind: "injected" | "dev", address, label, signer, provider }
  accounts: [], // labelled development accounts (local chain only)
  session: null, // GET /api/v1/auth/me: { signed_in, address, label, guild } (session.js)
};

const listeners = new Set();

export function onWalletChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function walletChanged() {
  for (const fn of listeners) fn(state.wallet);
}

export function labelOf(address) {
  if (!address) return "";
  const found = state.accounts.find((a) => a.address.toLowerCase() === address.toLowerCase());
  return found ? found.label : "";
}
