// Money is an integer of micro-units everywhere until it is shown; these helpers are the only conversion, in both
// directions. Never a float: "2.5" becomes 2500000n by string arithmetic.

import { state } from "./state.js";

// The payment token's decimals, as the deployment read them from the contract (6 for USDC and the test coin).
const decimals = () => Number(state.deployment?.token?.decimals ?? 6);
const unit = () => 10n ** BigInt(decimals());

export function toBig(value) {
  if (typeof value === "bigint") return value;
  if (value === null || value === undefined || value === "") return 0n;
  return BigInt(typeof value === "number" ? Math.trunc(value) : value);
}

/** The payment token's on-chain symbol ("tUSDC" on the local chain), as the deployment reports it. */
export function symbol() {
  return state.deployment?.token?.symbol || "";
}

/** 12345678 -> "12.35 tUSDC" (two decimals unless more are needed to show a non-zero amount). */
export function money(micro, name = symbol()) {
  const value = toBig(micro);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / unit();
  let frac = (abs % unit()).toString().padStart(decimals(), "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  const text = `${negative ? "−" : ""}${whole.toLocaleString("en-US")}.${frac}`;
  return name ? `${text} ${name}` : text;
}

/** An amount as an input field's value: no grouping, and never three decimals, which parseAmount would find
 * ambiguous ("1.250" is 1.25 in London and 1250 in Berlin): 1250000n -> "1.25", 1234000n -> "1.2340". */
export function amountText(micro) {
  const value = toBig(micro);
  let frac = (value % unit()).toString().padStart(decimals(), "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  if (frac.length === 3) frac += "0";
  return `${value / unit()}.${frac}`;
}

const GROUPED = /^\d{1,3}(?:SEP\d{3})+$/;
const grouped = (text, sep) => new RegExp(GROUPED.source.replace("SEP", sep === "." ? "\\." : sep)).test(text);

/**
 * What a person typed as an amount -> micro-units (a BigInt). Both decimal marks are accepted: "2.5" and "2,5" are
 * 2.5. A thousands separator is accepted only when the reading is unambiguous: with both marks ("1,000.50",
 * "1.000,50": the last one is the decimal mark) or repeated ("1,000,000"). "1,000" alone could be 1 or 1000 and is
 * refused with a question; so is anything else ("2,500.5,1", "-3", "1e3"). Throws an Error whose message is one
 * sentence for under the field.
 */
export function parseAmount(text, what = "amount") {
  // Spaces (also the no-break ones some keyboards and locales insert) only ever group digits.
  const raw = String(text ?? "").trim();
  const value = raw.replace(/[\s\u00a0\u202f']/g, "");
  if (!value) throw new Error(`Enter the ${what}.`);
  const example = `like 250, 2.50 or 2,50`;
  if (!/^[\d.,]+$/.test(value) || !/\d/.test(value)) {
    throw new Error(`The ${what} “${raw}” is not an amount: write a number ${example}.`);
  }
  const dots = (value.match(/\./g) || []).length;
  const commas = (value.match(/,/g) || []).length;
  let whole;
  let frac = "";
  if (dots && commas) {
    const decimal = value.lastIndexOf(".") > value.lastIndexOf(",") ? "." : ",";
    const group = decimal === "." ? "," : ".";
    const at = value.lastIndexOf(decimal);
    whole = value.slice(0, at);
    frac = value.slice(at + 1);
    const decimalMarks = decimal === "." ? dots : commas;
    if (decimalMarks !== 1 || !grouped(whole, group) || !/^\d+$/.test(frac)) {
      throw new Error(`The ${what} “${raw}” is not an amount: use one decimal mark, after any thousands separators (e.g. 1,000.50).`);
    }
    whole = whole.split(group).join("");
  } else if (dots + commas > 1) {
    const sep = dots ? "." : ",";
    if (!grouped(value, sep)) {
      throw new Error(`The ${what} “${raw}” is not an amount: write a number ${example}.`);
    }
    whole = value.split(sep).join("");
  } else if (dots + commas === 1) {
    const sep = dots ? "." : ",";
    [whole, frac] = value.split(sep);
    if (!whole) whole = "0";
    if (!/^\d+$/.test(whole) || !/^\d+$/.test(frac)) {
      throw new Error(`The ${what} “${raw}” is not an amount: write a number ${example}.`);
    }
    // One separator and three digits after it is how both "1,000" (a thousand) and "1,000" (one, in Germany) look.
    if (frac.length === 3 && /^[1-9]\d{0,2}$/.test(whole)) {
      const asDecimal = `${whole}.${frac.replace(/0+$/, "").padEnd(2, "0")}`;
      throw new Error(`The ${what} “${raw}” could be ${whole}${frac} or ${asDecimal}: write ${whole}${frac} or ${asDecimal}.`);
    }
  } else {
    whole = value;
  }
  if (frac.length > decimals()) throw new Error(`The ${what} can have at most ${decimals()} decimals.`);
  return BigInt(whole) * unit() + BigInt(frac.padEnd(decimals(), "0"));
}

export function parseWhole(text, what, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  const value = String(text ?? "").trim();
  if (!/^\d+$/.test(value)) throw new Error(`The ${what} must be a whole number.`);
  const n = Number(value);
  if (n < min || n > max) throw new Error(`The ${what} must be between ${min} and ${max.toLocaleString("en-US")}.`);
  return n;
}

export function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "";
}

/** A time from the API as unix seconds: the API gives unix seconds or ISO 8601 (UTC, "…Z"); null stays null. */
export function toSeconds(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return value;
  if (/^\d+$/.test(String(value))) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

export function date(seconds) {
  if (!seconds) return "—";
  return new Date(Number(seconds) * 1000).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

export function dateTime(seconds) {
  if (!seconds) return "—";
  return new Date(Number(seconds) * 1000).toLocaleString("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export function duration(seconds) {
  const days = Math.round(Number(seconds) / 86400);
  if (days >= 365 && days % 365 === 0) return days === 365 ? "1 year" : `${days / 365} years`;
  if (days >= 1) return days === 1 ? "1 day" : `${days} days`;
  const hours = Math.round(Number(seconds) / 3600);
  return hours === 1 ? "1 hour" : `${hours} hours`;
}

export function names(mask, list) {
  const out = [];
  for (let bit = 0; bit < list.length; bit++) if ((Number(mask) >> bit) & 1) out.push(list[bit]);
  return out;
}

export function bps(value) {
  const pct = Number(value) / 100;
  return `${Number.isInteger(pct) ? pct : pct.toFixed(2)} %`;
}

export function plural(n, one, many = `${one}s`) {
  return `${Number(n).toLocaleString("en-US")} ${Number(n) === 1 ? one : many}`;
}

/** Which use of its licence a use is, as a person reads it: "use #N" counting from 1 (its `seq` counts from 0; the
 * backend's sentences say the same, domain.use_record.use_label). `start`: at the start of a sentence. */
export function useLabel(seq, { start = false } = {}) {
  return `${start ? "Use" : "use"} #${Number(seq) + 1}`;
}
