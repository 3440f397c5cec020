// Reporting a use: the holder signs the use's place in its licence's sequence (`seq`, from 0), so the contract pays
// no more uses than she signed for. Two reporters on one licence (two tabs, two colleagues) may sign the same number:
// the API takes the first and answers the other 409 with the number it expects now (`expected_seq`), and this module
// signs again with it. A development account signs without asking; a browser wallet asks again, and the progress
// note says why first.

import { api, ApiError } from "./api.js";
import { signUseReport } from "./chain.js";
import { useLabel } from "./format.js";
import { state } from "./state.js";

/** How many times a report is signed again after losing the race for its number, before the refusal is shown. */
export const MAX_RESIGNS = 2;

/** The number the API expects instead, from its 409 (`expected_seq` beside the sentence); null for any other error. */
export function expectedSeqOf(error) {
  if (!(error instanceof ApiError) || error.status !== 409) return null;
  const body = error.body || {};
  const value = body.expected_seq ?? body.detail?.expected_seq;
  return Number.isInteger(value) && value >= 0 ? value : null;
}

/** The licence's next use number, as the API says now (`next_seq`: usage/sequence.py is the rule). */
export async function nextSeq(licenseId) {
  return (await api(`/licenses/${licenseId}`)).next_seq;
}

/** The holder's signature over `report` as use `seq`. */
export function signReport(report, seq) {
  return signUseReport({ ...report, seq });
}

/**
 * Posts `report` (licenseId, useRef, category, territory, usedAt) as use `seq` with `body` (the API's other fields:
 * label), signed: `signature` when the caller signed it already (signReport), else signed here. On a 409 for the
 * number, signs again with the expected one, at most MAX_RESIGNS times. `note(text)` tells the person what happens.
 * Resolves with the stored use.
 */
export async function signAndReport({ report, seq, signature = null, body = {}, note = () => {} }) {
  for (let resigns = 0; ; resigns++) {
    if (!signature) signature = await signReport(report, seq);
    note(`Sending ${useLabel(seq)}…`);
    try {
      return await api("/uses", {
        method: "POST",
        body: {
          ...body,
          license_id: Number(report.licenseId), seq, use_ref: report.useRef, category: report.category,
          territory: report.territory, used_at: Number(report.usedAt), signature,
        },
      });
    } catch (error) {
      const expected = expectedSeqOf(error);
      if (expected === null || resigns >= MAX_RESIGNS) throw error;
      note(state.wallet?.kind === "injected"
        ? `Another report on this licence (another tab or a colleague) took ${useLabel(seq)} first: sign again ` +
          `in your wallet, as ${useLabel(expected)}. Nothing was charged for the first signature.`
        : `Another report took ${useLabel(seq)} first: signing again as ${useLabel(expected)}…`);
      seq = expected;
      signature = null;
    }
  }
}
