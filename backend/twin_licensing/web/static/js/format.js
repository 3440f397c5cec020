// Money is an integer of micro-units everywhere until it is shown; these helpers are the only conversion.

export const DECIMALS = 6;
const UNIT = 10n ** BigInt(DECIMALS);

export function toBig(value) {
  if (typeof value === "bigint") return value;
  if (value === null || value === undefined || value === "") return 0n;
  return BigInt(typeof value === "number" ? Math.trunc(value) : value);
}

/** 12345678 -> "12.35" (two decimals unless more are needed to show a non-zero amount). */
export function money(micro, symbol = "USDC") {
  const value = toBig(micro);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / UNIT;
  let frac = (abs % UNIT).toString().padStart(DECIMALS, "0").replace(/0+$/, "");
  if (frac.length < 2) frac = frac.padEnd(2, "0");
  const text = `${negative ? "−" : ""}${whole.toLocaleString("en-US")}.${frac}`;
  return symbol ? `${text} ${symbol}` : text;
}

/** "12.5" -> 12500000n; throws a readable Error for anything that is not a plain amount. */
export function parseMoney(text, what = "amount") {
  const value = String(text ?? "").trim().replace(/,/g, "");
  if (!value) throw new Error(`Enter the ${what}.`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`The ${what} must be a number like 250 or 2.50.`);
  const [whole, frac = ""] = value.split(".");
  if (frac.length > DECIMALS) throw new Error(`The ${what} can have at most ${DECIMALS} decimals.`);
  return BigInt(whole) * UNIT + BigInt(frac.padEnd(DECIMALS, "0"));
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
