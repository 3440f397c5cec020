// Contract handles and transactions, through whichever wallet is connected (see wallet.js).

import { ethers } from "/vendor/ethers.min.js";
import { state } from "./state.js";
import { setErrorInterface } from "./errors.js";

export { ethers };

export function initContracts() {
  const all = [];
  for (const abi of Object.values(state.abis)) all.push(...abi.filter((item) => item.type === "error"));
  const seen = new Set();
  const unique = all.filter((item) => {
    const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  setErrorInterface(new ethers.Interface(unique));
}

function runner(write) {
  const wallet = state.wallet;
  if (write) {
    if (!wallet?.signer) {
      const error = new Error("Connect a wallet first (top right).");
      error.userMessage = error.message;
      throw error;
    }
    return wallet.signer;
  }
  return wallet?.provider || readProvider();
}

let fallbackProvider = null;
function readProvider() {
  if (!fallbackProvider && state.deployment?.local) {
    fallbackProvider = new ethers.JsonRpcProvider(new URL("/api/v1/dev/rpc", location.href).href, state.deployment.chain_id, {
      staticNetwork: true,
    });
    fallbackProvider.pollingInterval = 250;
  }
  return fallbackProvider;
}

export function contract(name, write = false) {
  const address = state.deployment.contracts[name];
  return new ethers.Contract(address, state.abis[name], runner(write));
}

export const registry = (write) => contract("TwinRegistry", write);
export const licenses = (write) => contract("LicenseToken", write);
export const token = (write) => contract("PaymentToken", write);
/** The guild's attestations (models and agencies) live in the twin registry. */
export const attestations = (write) => contract("TwinRegistry", write);
/** Offers (publish, withdraw, the floors and exclusivity at purchase) live in the licence contract. */
export const offers = (write) => contract("LicenseToken", write);

// Gas limit = the node's estimate + 25 %. A node estimates on the latest block, but the transaction runs after
// whatever is mined first: a purchase right after another of the same twin writes warm storage slots the estimate
// saw cold (estimate 195 592, used 195 577, then out of gas with the refund rules). Every transaction of the client
// goes through send(), so this margin is the only one.
export const GAS_MARGIN_PERCENT = 25n;

export function withGasMargin(estimate) {
  return (BigInt(estimate) * (100n + GAS_MARGIN_PERCENT) + 99n) / 100n;
}

/**
 * Sends `contract.method(...args)` from the connected wallet with an explicit gas limit (see GAS_MARGIN_PERCENT),
 * reports progress through `note`, returns the receipt. A revert shows up at the estimate, decoded by the
 * contract's ABI, before the wallet is asked anything.
 */
export async function send(contract, method, args = [], note = () => {}) {
  const fn = contract.getFunction(method);
  note("Checking the transaction…");
  const estimate = await fn.estimateGas(...args);
  note(state.wallet?.kind === "injected" ? "Confirm in your wallet…" : "Sending…");
  const tx = await fn(...args, { gasLimit: withGasMargin(estimate) });
  note(`Waiting for the block… (${tx.hash.slice(0, 10)}…)`);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error("The transaction failed on chain.");
  note(`Confirmed in block ${receipt.blockNumber}`);
  return receipt;
}

/** The decoded arguments of every `event` of contract `name` in a receipt. */
export function events(receipt, name, event) {
  const iface = new ethers.Interface(state.abis[name]);
  const address = state.deployment.contracts[name].toLowerCase();
  const out = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    try {
      const parsed = iface.parseLog(log);
      if (parsed?.name === event) out.push(parsed.args);
    } catch {
      /* another event */
    }
  }
  return out;
}

/** The chain's clock (the latest block's timestamp): the local node's time may run ahead of the wall clock. */
export async function chainTime() {
  const block = await runner(false).getBlock("latest");
  return Number(block.timestamp);
}

export async function balanceOf(address) {
  return token().balanceOf(address);
}

/** Signs an EIP-2612 permit of `value` for the licence contract; returns {deadline, v, r, s}. */
export async function signPermit(value) {
  const owner = state.wallet.address;
  const payment = token();
  const [domainInfo, nonce, now] = await Promise.all([payment.eip712Domain(), payment.nonces(owner), chainTime()]);
  const domain = {
    name: domainInfo[1],
    version: domainInfo[2],
    chainId: Number(domainInfo[3]),
    verifyingContract: domainInfo[4],
  };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const deadline = BigInt(now + 3600);
  const message = { owner, spender: state.deployment.contracts.LicenseToken, value, nonce, deadline };
  const signature = ethers.Signature.from(await state.wallet.signer.signTypedData(domain, types, message));
  return { deadline, v: signature.v, r: signature.r, s: signature.s };
}

/** Signs a use report (EIP-712, domain "Twin Licence" v1 on the licence contract) with the connected wallet. */
export async function signUseReport(report) {
  const domain = state.deployment.use_report.domain;
  const types = { UseReport: state.deployment.use_report.types.UseReport };
  return state.wallet.signer.signTypedData(domain, types, report);
}

/** A 32-byte reference of a use: the hash of what the brand calls the asset or campaign item. */
export function useRefOf(text) {
  const value = String(text).trim();
  if (/^0x[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  return ethers.keccak256(ethers.toUtf8Bytes(value));
}

export function isAddress(value) {
  return ethers.isAddress(value);
}

export function checksum(value) {
  return ethers.getAddress(value);
}
