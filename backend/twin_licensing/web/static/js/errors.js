// Turns whatever failed (a wallet, a contract revert, the node, the API) into a sentence a person can act on.

import { ApiError } from "./api.js";
import { date, money, bps } from "./format.js";
import { state } from "./state.js";

const category = (i) => state.deployment?.categories?.[Number(i)] ?? `category ${i}`;
const territory = (i) => state.deployment?.territories?.[Number(i)] ?? `territory ${i}`;
const pct = (v) => bps(v);

// Contract custom errors (contracts/interfaces/*.sol), by name. `a` holds the decoded arguments by name.
const CONTRACT_ERRORS = {
  LicenseTokenFeeBelowFloor: (a) =>
    `The per-use fee of ${money(a.perUseFee)} is below the guild's minimum of ${money(a.floor)} for these usage ` +
    `categories. Raise it to at least ${money(a.floor)}.`,
  LicenseTokenConsentNotGranted: () =>
    "The model has revoked her consent for this twin, so it cannot be licensed or offered until she grants it again.",
  LicenseTokenConsentRevoked: (a) =>
    `The model revoked her consent for this twin (in effect since ${date(a.effectiveAt)}): ` +
    "no more uses can be paid and no escrow added. You can reclaim the unspent escrow.",
  LicenseTokenExpired: (a) => `This licence expired on ${date(a.expiry)}: it can no longer be used or topped up.`,
  LicenseTokenStillActive: (a) =>
    `The escrow can be reclaimed once the licence has expired (on ${date(a.expiry)}) or the model has revoked consent.`,
  LicenseTokenInsufficientEscrow: (a) =>
    `Not enough escrow: ${money(a.needed)} is needed but only ${money(a.escrow)} is left. Top up the escrow first.`,
  LicenseTokenInsufficientAllowance: (a) =>
    `The licence contract may spend ${money(a.allowance)} of your money but needs ${money(a.needed)}. ` +
    "Approve the payment (or sign the permit) and try again.",
  LicenseTokenInsufficientBalance: (a) =>
    `Your wallet holds ${money(a.balance)} but this needs ${money(a.needed)}. Add funds and try again.`,
  LicenseTokenExclusivityConflict: (a) =>
    `Another brand holds an exclusive licence for this twin in ${category(a.category)} / ${territory(a.territory)} ` +
    `until ${date(a.until)}.`,
  LicenseTokenOfferInactive: () => "The model has withdrawn this offer: choose another one.",
  LicenseTokenUnknownOffer: (a) => `Offer #${a.offerId} does not exist.`,
  LicenseTokenUnknownLicense: (a) => `Licence #${a.licenseId} does not exist.`,
  LicenseTokenInvalidTerms: (a) => `These terms are not valid: ${a.reason}.`,
  LicenseTokenNotModel: () => "Only the twin's model can do this. Switch to her wallet.",
  LicenseTokenNotHolder: () => "Only the holder of this licence can do this. Switch to the brand's wallet that holds it.",
  LicenseTokenNotTransferable: () => "This licence was sold as non-transferable.",
  LicenseTokenEscrowTooLarge: () => "That escrow is larger than one licence can hold.",
  LicenseTokenZeroAmount: () => "Enter an amount greater than zero.",
  LicenseTokenMaxUsesExceeded: (a) => `This licence allows at most ${a.maxUses} uses.`,
  LicenseTokenNothingToWithdraw: () => "There is nothing to withdraw yet: your claimable balance is zero.",
  LicenseTokenNothingToReclaim: () => "There is no escrow left to reclaim on this licence.",
  LicenseTokenSequenceMismatch: () => "These uses were already settled.",
  EnforcedPause: () =>
    "The platform is paused for maintenance: purchases, top-ups and settlements are on hold. Withdrawals still work.",
  TwinRegistryAgencyShareAboveCap: (a) =>
    `Agencies may take at most ${pct(a.capBps)} of a twin's earnings together (the guild's cap); ` +
    `these payees give them ${pct(a.agencyShareBps ?? a.shareBps)}.`,
  TwinRegistryTwinLocked: () => "A twin cannot change hands: consent stays with the model.",
  TwinRegistryUnknownCategory: (a) => `There is no usage category ${a.category}.`,
  LicenseTokenZeroCount: () => "A settlement must pay at least one use.",
  TwinRegistrySharesNotTotal: (a) => `The shares must add up to 100 %; they add up to ${pct(a.total)}.`,
  TwinRegistryZeroShare: (a) => `Every payee needs a share above zero (${a.account} has none).`,
  TwinRegistryFirstPayeeNotModel: () => "The model herself must be the first payee.",
  TwinRegistryModelRoleMisplaced: () => "Only the first payee can have the role “model”.",
  TwinRegistryDuplicatePayee: (a) => `${a.account} is listed twice among the payees.`,
  TwinRegistryTooManyPayees: (a) => `A twin can have at most ${a.max} payees; you listed ${a.count}.`,
  TwinRegistryNoPayees: () => "Add at least one payee.",
  TwinRegistryZeroAddress: () => "A payee address is empty.",
  TwinRegistryNotModel: () => "Only the twin's model can do this. Switch to her wallet.",
  TwinRegistryConsentAlreadyRevoked: () => "Consent for this twin is already revoked.",
  TwinRegistryUnknownTwin: (a) => `Twin #${a.twinId} does not exist.`,
  TwinRegistryLicenseContractNotSet: () => "The platform is not fully deployed yet (no licence contract).",
  ERC20InsufficientBalance: (a) => `Your wallet holds ${money(a.balance)} but this needs ${money(a.needed)}.`,
  ERC20InsufficientAllowance: (a) => `The payment was approved for ${money(a.allowance)} but needs ${money(a.needed)}.`,
  ERC2612ExpiredSignature: () => "The payment permit expired before it was used. Try again.",
  ERC2612InvalidSigner: () => "The payment permit was signed by another account. Try again from the buying wallet.",
  TestStablecoinFaucetLimit: (a) => `The test faucet hands out at most ${money(a.limit)} at a time.`,
};

let errorInterface = null;

/** Decoding table for every custom error of the deployed contracts (set once the ABIs are loaded). */
export function setErrorInterface(iface) {
  errorInterface = iface;
}

export function revertOf(error) {
  // ethers decodes with the called contract's ABI; errors bubbling up from another contract need ours.
  const seen = new Set();
  const queue = [error];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    if (e.revert?.name) return { name: e.revert.name, args: namedArgs(e.revert) };
    const data = typeof e.data === "string" ? e.data : typeof e.data?.data === "string" ? e.data.data : null;
    if (data && data.length >= 10 && errorInterface) {
      try {
        const parsed = errorInterface.parseError(data);
        if (parsed) return { name: parsed.name, args: namedArgs(parsed) };
      } catch {
        /* not one of ours */
      }
    }
    queue.push(e.error, e.info?.error, e.data, e.cause);
  }
  return null;
}

function namedArgs(decoded) {
  const out = {};
  const inputs = decoded.fragment?.inputs || [];
  inputs.forEach((input, i) => (out[input.name] = decoded.args[i]));
  if (!inputs.length && decoded.args) Object.assign(out, decoded.args);
  return out;
}

function walletRejected(error) {
  const codes = [error?.code, error?.info?.error?.code, error?.error?.code];
  return codes.includes("ACTION_REJECTED") || codes.includes(4001);
}

export function explain(error) {
  if (!error) return "Something went wrong.";
  if (error instanceof ApiError) return error.message;
  if (walletRejected(error)) return "You declined the request in your wallet, so nothing was sent.";
  const revert = revertOf(error);
  if (revert) {
    const describe = CONTRACT_ERRORS[revert.name];
    if (describe) return describe(revert.args);
    if (revert.name === "Error" && revert.args?.message) return `The contract refused: ${revert.args.message}`;
    return `The contract refused the transaction (${revert.name}).`;
  }
  if (error.code === "INSUFFICIENT_FUNDS") return "The wallet has not enough ETH to pay for the transaction's gas.";
  if (error.code === "NETWORK_ERROR" || error.code === "SERVER_ERROR" || error.code === "TIMEOUT") {
    return "The blockchain node did not answer. Is the local chain running?";
  }
  if (error.code === "CALL_EXCEPTION") return "The contract refused the transaction without saying why.";
  if (error.code === "UNSUPPORTED_OPERATION" && /network/i.test(error.message || "")) {
    return "Your wallet is on another network: switch it to the network of this deployment.";
  }
  if (error.userMessage) return error.userMessage;
  // Our own validation errors are plain Errors with a sentence already.
  const message = error.shortMessage || error.message || String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}
