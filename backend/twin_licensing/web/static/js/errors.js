// Turns whatever failed (a wallet, a contract revert, the node, the API) into a sentence a person can act on.

import { ApiError } from "./api.js";
import { date, dateTime, money, bps, names } from "./format.js";
import { state, labelOf } from "./state.js";

const category = (i) => state.deployment?.categories?.[Number(i)] ?? `category ${i}`;
const territory = (i) => state.deployment?.territories?.[Number(i)] ?? `territory ${i}`;
const categoryNames = (mask) => names(Number(mask), state.deployment?.categories || []).join(", ");
const pct = (v) => bps(v);
const who = (address) => labelOf(address) || address;

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
  // Issue 12: consent per usage category (`categories` is a bitmask, `category` one index).
  LicenseTokenCategoryConsentNotGranted: (a) =>
    `The model has withdrawn her consent for ${categoryNames(a.categories)}: an offer including it cannot be published ` +
    "or bought until she grants it again. Choose an offer without it.",
  LicenseTokenCategoryConsentRevoked: (a) =>
    `The model withdrew her consent for ${category(a.category)} (in effect since ${date(a.effectiveAt)}): ` +
    "uses in that category can no longer be paid. Uses in the licence's other categories still are.",
  LicenseTokenItemCategoriesInvalid: (a) =>
    `These uses name usage categories (${categoryNames(a.categories) || "none"}) outside the licence's ` +
    `(${categoryNames(a.licensed)}): report each use in one of the licence's categories.`,
  TwinRegistryCategoryConsentAlreadyRevoked: (a) =>
    `Your consent for ${category(a.category)} is already withdrawn. Reload the page to see when its uses stop.`,
  TwinRegistryCategoryConsentNotRevoked: (a) =>
    `Your consent for ${category(a.category)} is already granted: there is nothing to grant again. Reload the page.`,
  LicenseTokenExpired: (a) => `This licence expired on ${date(a.expiry)}: it can no longer be used or topped up.`,
  LicenseTokenStillActive: (a) =>
    `The licence runs until ${dateTime(a.expiry)}: its escrow can be reclaimed once it has ended and the grace period ` +
    "after its end is over.",
  // Issue 11: grace after the end, the upfront fee that vests, handovers of a transferable licence.
  LicenseTokenInGrace: (a) =>
    `Uses reported before the end may still be paid until ${dateTime(a.graceEndsAt)} (the grace period): the escrow ` +
    "comes back after that. Try again then.",
  LicenseTokenGracePeriodTooLong: (a) =>
    `A grace period can be at most ${Math.round(Number(a.max) / 86400)} days; ${Math.round(Number(a.requested) / 86400)} ` +
    "days was asked. Choose a shorter one.",
  LicenseTokenNotEnded: (a) =>
    `The licence has not ended yet (it ends on ${dateTime(a.endsAt)}): the unvested upfront fee comes back from then.`,
  LicenseTokenNothingToRefund: () =>
    "No upfront fee is left to refund on this licence: it ran its full term, or its unvested part was already refunded.",
  LicenseTokenNotSeller: () =>
    "Only the brand that sold this licence can reclaim its seller escrow. Switch to the wallet that sold it.",
  LicenseTokenHandoverOpen: (a) =>
    `This licence cannot change hands again yet: its previous holder (${who(a.seller)}) still has escrow on it for the ` +
    `uses it reported, until ${dateTime(a.graceEndsAt)}. Try again after that.`,
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
  LicenseTokenNotTransferable: () => "This licence is locked: it was sold as non-transferable, so it cannot change hands or be approved for transfer.",
  LicenseTokenEscrowTooLarge: () => "That escrow is larger than one licence can hold.",
  LicenseTokenZeroAmount: () => "Enter an amount greater than zero.",
  LicenseTokenMaxUsesExceeded: (a) => `This licence allows at most ${a.maxUses} uses.`,
  LicenseTokenNothingToWithdraw: () =>
    "There is nothing to withdraw yet: nothing you earned has vested. Upfront fees vest day by day over each licence's term.",
  LicenseTokenNothingToReclaim: () => "There is no escrow left to reclaim on this licence.",
  LicenseTokenSequenceMismatch: (a) =>
    a.expected === undefined ? "These uses were already settled."
      : `These uses do not follow the licence's last settled use (use #${Number(a.expected) + 1} comes next): they were already settled or are out of order.`,
  TwinRegistryAgencyShareAboveCap: (a) =>
    `Agencies may take at most ${pct(a.capBps)} of a twin's earnings together (the guild's cap); ` +
    `these payees give them ${pct(a.agencyShareBps ?? a.shareBps)}.`,
  TwinRegistryTwinLocked: () => "A twin cannot change hands: consent stays with the model.",
  // Issue 10: the guild's attestations, payees who accept or leave, floors and exclusivity at purchase, locks.
  LicenseTokenOfferBelowFloor: (a) =>
    `The guild's minimum per-use fee for this offer's categories is now ${money(a.floor)}, above its ${money(a.perUseFee)}: ` +
    "it can no longer be bought. Choose another offer, or ask the model to publish one at today's minimum.",
  LicenseTokenExclusiveUpfrontTooLow: (a) =>
    `An exclusive offer needs an upfront fee of at least ${money(a.minimum)} (the guild's exclusivity minimum); ` +
    `this one has ${money(a.upfrontFee)}.`,
  LicenseTokenNotExclusive: () => "Only an exclusive licence can be ended for being idle; this one is not exclusive.",
  LicenseTokenNotIdle: (a) => `This licence settled a use too recently to be ended as idle: you may end it from ${date(a.endableAt)} if no use settles before then.`,
  TwinRegistryNonModelShareAboveCap: (a) =>
    `The payees other than the model may take at most ${pct(a.capBps)} together (the guild's bound); these give them ${pct(a.nonModelShareBps)}.`,
  TwinRegistryApprovalForAllRefused: () => "Twins never change hands, so no one can be approved to move them.",
  TwinRegistryNotAttested: (a) =>
    `The guild has not attested ${who(a.account)} as ${Number(a.role) === 1 ? "an agency" : "a model"}: ask the guild to attest the wallet first.`,
  TwinRegistryAttestationExpired: (a) => `The guild's attestation expired on ${date(a.expiresAt)}: ask the guild to renew it.`,
  TwinRegistryAttestationRevoked: () => "The guild revoked this attestation: ask the guild to attest the wallet again.",
  TwinRegistryUnknownAttestation: (a) => `There is no attestation #${a.attestationId}.`,
  TwinRegistryAttestationAlreadyRevoked: (a) => `Attestation #${a.attestationId} is already revoked.`,
  TwinRegistryAttestationRoleInvalid: () => "The guild attests models and agencies only.",
  TwinRegistryAttestationExpiryInPast: (a) => `An attestation must expire in the future; ${date(a.expiresAt)} is not: choose a later day.`,
  TwinRegistryAttestationBadNonce: () =>
    "This signed attestation was already used, or the guild changed this address's attestation since it was signed: sign a new one.",
  TwinRegistryAttestationSignerNotGuild: () => "This attestation was not signed by the guild's key.",
  TwinRegistryNotPayee: (a) => `You are not a payee of twin #${a.twinId} (other than its model), so there is nothing to accept or leave.`,
  TwinRegistryModelPayeeFixed: () => "The model is always her twin's first payee: she neither accepts nor leaves.",
  TwinRegistryPayeeAlreadyAccepted: (a) => `You already accepted your share of twin #${a.twinId}.`,
  TwinRegistryUnknownCategory: (a) => `There is no usage category ${a.category}.`,
  LicenseTokenZeroCount: () => "A settlement must pay at least one use.",
  TwinRegistrySharesNotTotal: (a) => `The shares must add up to 100 %; they add up to ${pct(a.total)}.`,
  TwinRegistryZeroShare: (a) => `Every payee needs a share above zero (${who(a.account)} has none).`,
  TwinRegistryFirstPayeeNotModel: () => "The model herself must be the first payee.",
  TwinRegistryModelRoleMisplaced: () => "Only the first payee can have the role “model”.",
  TwinRegistryDuplicatePayee: (a) => `The payee ${who(a.account)} is listed twice: keep one row for each account.`,
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
  // The rest can only reach a person through a misuse of the platform's admin functions or a wallet bug; each
  // still says what to do rather than a name.
  LicenseTokenEmptyBatch: () => "A settlement must list at least one licence.",
  LicenseTokenNotRegistry: () => "Only the twin registry can make this change.",
  LicenseTokenZeroAddress: () => "An address is missing (the zero address was given).",
  TwinRegistryCapAboveTotal: (a) => `The agency cap of ${pct(a.capBps)} is above 100 %: choose a lower cap.`,
  TwinRegistryLicenseContractAlreadySet: () => "The licence contract is already connected to the registry.",
  TwinRegistryNoticePeriodTooLong: (a) =>
    `A notice period can be at most ${Math.round(Number(a.max) / 86400)} days; choose a shorter one.`,
  AccessControlUnauthorizedAccount: () => "This account is not allowed to do this: switch to the account that holds the role.",
  AccessControlBadConfirmation: () => "A role can only be renounced by its own holder.",
  EnforcedPause: () =>
    "The platform is paused for maintenance: purchases, top-ups and settlements are on hold. Withdrawals still work.",
  ExpectedPause: () => "The platform is not paused.",
  ECDSAInvalidSignature: () => "The signature is not valid. Sign again from the right wallet.",
  ECDSAInvalidSignatureLength: () => "The signature is malformed. Sign again from the right wallet.",
  ECDSAInvalidSignatureS: () => "The signature is malformed. Sign again from the right wallet.",
  InvalidAccountNonce: () => "The signature was already used. Sign again.",
  ERC20InvalidApprover: () => "The payment approval comes from an empty address. Connect your wallet and try again.",
  ERC20InvalidReceiver: () => "The payment has no valid recipient.",
  ERC20InvalidSender: () => "The payment has no valid sender. Connect your wallet and try again.",
  ERC20InvalidSpender: () => "The payment approval names no valid spender.",
  ERC721IncorrectOwner: () => "This licence belongs to another wallet: switch to the wallet that holds it.",
  ERC721InsufficientApproval: () => "This wallet may not move this licence: only its holder (or someone it approved) can.",
  ERC721InvalidApprover: () => "This wallet cannot approve transfers of this licence.",
  ERC721InvalidOperator: () => "That address cannot be approved to move licences.",
  ERC721InvalidOwner: () => "That address cannot hold licences.",
  ERC721InvalidReceiver: () => "That address cannot receive a licence: choose a wallet address.",
  ERC721InvalidSender: () => "This licence cannot be sent from that address.",
  ERC721NonexistentToken: (a) => `Licence #${a.tokenId} does not exist.`,
  InvalidShortString: () => "A name given to the token contract is too long.",
  StringTooLong: () => "A text given to the contract is too long: shorten it.",
  SafeCastOverflowedUintDowncast: () => "An amount is too large for the contract: enter a smaller one.",
  SafeERC20FailedOperation: () => `The ${state.deployment?.token?.symbol || "token"} transfer failed. Check your balance and try again.`,
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
    return "The contract refused the transaction. Reload the page to see the current state, then try again.";
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
