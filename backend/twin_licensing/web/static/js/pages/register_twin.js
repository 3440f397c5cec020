// Model: register a digital twin of herself, with its payees and consent document.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { h, mount, errorBox, runSteps, toast, field } from "../ui.js";
import { explain } from "../errors.js";
import { registry, send, events, ethers, isAddress, checksum, chainTime } from "../chain.js";
import { bps, date, shortAddress } from "../format.js";
import { storeConsent } from "./consent.js";

const CONSENT_TEMPLATE = (name) =>
  `CONSENT TO THE CREATION AND LICENSED USE OF A DIGITAL TWIN\n\nModel: ${name || "…"}\n\n` +
  "1. I consent to the creation of an AI digital twin of my likeness and to its licensed use in the usage categories " +
  "and territories of the offers I publish, and in no other.\n2. I am paid for each use of the twin at no less than " +
  "the guild's floor for its category.\n3. I may revoke this consent at any time.\n4. The twin is not transferable.\n";

const ROLE = { agency: 1, crew: 2 };
const OTHER = "other";

/**
 * The known accounts a payee of `role` can be picked from, by label: for an agency, the model's own agency first
 * (the one her development account names), then the others. Empty off the local chain: addresses are typed.
 */
function candidates(role) {
  const me = state.accounts.find((a) => a.address.toLowerCase() === state.wallet.address.toLowerCase());
  const own = me?.extra?.agency;
  const list = state.accounts.filter((a) => a.role === role);
  return role === "agency" && own ? [...list.filter((a) => a.name === own), ...list.filter((a) => a.name !== own)] : list;
}

export async function render(root) {
  if (!state.wallet) {
    mount(root, errorBox("Choose your wallet first (top right): the twin is registered to it."));
    return;
  }
  const cap = state.deployment.agency_cap_bps ?? 2000;
  const otherCap = await nonModelCap();
  // Who the guild vouches for, read from the chain: her own attestation as a model (before the form is shown), and
  // whether each payee is an attested agency (the cap binds those whatever role they are listed under).
  const standing = await modelStanding(state.wallet.address);
  const agencyChecks = new Map(); // lower-case address -> Promise<boolean>, then the boolean
  const attestedAgency = (account) => {
    const key = account.toLowerCase();
    if (!agencyChecks.has(key)) {
      agencyChecks.set(key, registry().isAttested(account, AGENCY).then((yes) => {
        agencyChecks.set(key, Boolean(yes));
        update();
        return Boolean(yes);
      }, () => { agencyChecks.delete(key); return false; }));
    }
    const known = agencyChecks.get(key);
    return known === true;
  };
  const name = h("input", { type: "text", name: "name", placeholder: "Your name as brands will see it", maxlength: 80 });
  const description = h("textarea", { name: "description", placeholder: "Who you are, your look, the work you do." });
  const consent = h("textarea", { name: "consent", style: "min-height:160px" }, CONSENT_TEMPLATE(""));
  name.addEventListener("input", () => (consent.value = CONSENT_TEMPLATE(name.value)));
  const nameField = field("Name", name);
  const payeeRows = h("div", { id: "payees" });
  const payeeError = h("div", { class: "form-error", role: "alert", "data-payee-error": "", hidden: true });
  const rows = [];
  const summary = h("div", { class: "muted small" });
  const submitButton = h("button", { class: "btn primary", type: "submit" }, "Register the twin");
  const used = (role) => new Set(rows.filter((r) => r.roleName() === role).map((r) => r.address().toLowerCase()));

  const addRow = (role) => {
    const roleSelect = h("select", { "aria-label": "Role" }, h("option", { value: "agency" }, "Agency"), h("option", { value: "crew" }, "Crew"));
    roleSelect.value = role;
    const picker = h("select", { "aria-label": "Payee" });
    const address = h("input", { type: "text", placeholder: "0x… wallet address", "aria-label": "Payee address" });
    const share = h("input", { type: "text", inputmode: "decimal", placeholder: "%", value: role === "agency" ? "15" : "5", "aria-label": "Share in percent" });
    const fillPicker = () => {
      const known = candidates(roleSelect.value);
      const taken = used(roleSelect.value);
      mount(picker,
        known.map((a) => h("option", { value: a.address }, a.name || a.label)),
        h("option", { value: OTHER }, known.length ? "Another address…" : "An address…"));
      // Pre-select the first one not already listed: her own agency for the first "+ Agency".
      const first = known.find((a) => !taken.has(a.address.toLowerCase()));
      picker.value = first ? first.address : OTHER;
      address.hidden = picker.value !== OTHER;
    };
    const row = {
      roleName: () => roleSelect.value,
      address: () => (picker.value === OTHER ? address.value.trim() : picker.value),
      share,
    };
    fillPicker();
    picker.addEventListener("change", () => { address.hidden = picker.value !== OTHER; if (!address.hidden) address.focus(); update(); });
    roleSelect.addEventListener("change", () => { fillPicker(); update(); });
    const remove = h("button", { type: "button", class: "btn small", title: "Remove", "aria-label": "Remove this payee", onclick: () => { rows.splice(rows.indexOf(row), 1); el.remove(); update(); } }, "✕");
    const el = h("div", { class: "payee-row" }, roleSelect, h("div", { class: "stack", style: "gap:4px" }, picker, address), share, remove);
    [address, share].forEach((i) => i.addEventListener("input", update));
    rows.push(row);
    payeeRows.append(el);
    update();
  };

  /** The payees as the contract takes them ([account, share bps, role]); throws the sentence to show otherwise. */
  function shares() {
    const out = [];
    let total = 0;
    let agencies = 0;
    let listedOtherwise = null; // an attested agency listed as crew: its share still counts toward the cap
    for (const row of rows) {
      const account = row.address();
      const text = row.share.value.trim().replace(",", ".");
      if (!isAddress(account)) throw new Error(`“${account || "(empty)"}” is not a wallet address: pick a payee or paste an address (0x…).`);
      if (!/^\d+(\.\d{1,2})?$/.test(text) || Number(text) <= 0) {
        throw new Error("Each share is a percentage above zero, with at most two decimals (e.g. 15 or 12.5).");
      }
      const [whole, frac = ""] = text.split(".");
      const value = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
      out.push([checksum(account), value, ROLE[row.roleName()]]);
      total += value;
      if (row.roleName() === "agency" || attestedAgency(account)) {
        agencies += value;
        if (row.roleName() !== "agency") listedOtherwise ??= account;
      }
    }
    if (agencies > cap) {
      const why = listedOtherwise
        ? ` ${labelOf(listedOtherwise, true)} is an agency the guild attested: its share counts toward the cap even listed as ${rows.find((r) => r.address() === listedOtherwise).roleName()}.`
        : "";
      throw new Error(`Agencies may take at most ${bps(cap)} of a twin's earnings together (the guild's cap); these shares give them ${bps(agencies)}.${why}`);
    }
    if (total >= 10000) throw new Error("The other payees' shares must leave you something: they add up to 100 % or more.");
    if (otherCap !== null && total > otherCap) {
      throw new Error(`Your payees may take at most ${bps(otherCap)} together (the guild's bound on everyone but the model); these shares give them ${bps(total)}.`);
    }
    return [[state.wallet.address, 10000 - total, 0], ...out];
  }
  function update() {
    if (standing) {
      submitButton.disabled = true;
      return;
    }
    try {
      const list = shares();
      summary.textContent = `You keep ${bps(list[0][1])}. ` + list.slice(1).map((p) => `${labelOf(p[0])} ${bps(p[1])}`).join(", ");
      payeeError.hidden = true;
      payeeError.textContent = "";
      submitButton.disabled = false;
    } catch (error) {
      summary.textContent = "";
      payeeError.textContent = error.message;
      payeeError.hidden = false;
      submitButton.disabled = true;
    }
  }

  const errorSlot = h("div");
  const submit = async (event) => {
    event.preventDefault();
    mount(errorSlot);
    nameField.setError("");
    if (standing) return mount(errorSlot, errorBox(standing));
    if (!name.value.trim()) return nameField.setError("Give the twin your name, as brands will see it.");
    let payees;
    try {
      // Every payee's attestation known before the last check: an agency listed as crew is counted as an agency.
      await Promise.all(rows.map((r) => (isAddress(r.address()) ? agencyChecks.get(r.address().toLowerCase()) : null)));
      payees = shares();
    } catch (error) {
      update();
      return;
    }
    // Brands read who represents the model from the twin's metadata: name her agencies there.
    const agencies = payees.filter((p) => p[2] === ROLE.agency).map((p) => labelOf(p[0], true));
    const metadata = {
      name: name.value.trim(),
      description: description.value.trim() || undefined,
      attributes: agencies.length ? [{ trait_type: "Agency", value: agencies.join(", ") }] : undefined,
    };
    const uri = "data:application/json;base64," + btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(metadata))));
    const consentHash = ethers.keccak256(ethers.toUtf8Bytes(consent.value));
    try {
      const ctx = await runSteps("Registering your twin", [
        // The text first: the server keeps it under the hash that goes on chain, for brands to read.
        { label: "Store the consent document", run: () => storeConsent(consent.value) },
        {
          label: "Register the twin on chain",
          run: async (c, note) => {
            const receipt = await send(registry(true), "registerTwin", [uri, consentHash, payees], note);
            c.twinId = events(receipt, "TwinRegistry", "TwinRegistered")[0].twinId.toString();
            note(`Twin #${c.twinId}`);
          },
        },
        { label: "Add it to your twins", run: async (c) => { await poll(() => api(`/twins/${c.twinId}`), { timeoutMs: INDEX_WAIT_MS }); } },
      ], explain);
      toast("Your twin is registered. Publish an offer so brands can license it.", "ok");
      location.hash = `#/model/twins/${ctx.twinId}`;
    } catch (error) {
      mount(errorSlot, errorBox(explain(error)));
    }
  };

  mount(
    root,
    h("div", { class: "crumbs" }, h("a", { href: "#/model/twins" }, "My twins"), " / Register a twin"),
    h("h1", {}, "Register a digital twin"),
    standing ? h("div", { class: "form-error", role: "alert", id: "not-attested", style: "margin-bottom:16px" }, standing) : null,
    h("form", { class: "grid-2", onsubmit: submit, id: "register-twin" },
      h("div", { class: "card" },
        h("h3", {}, "The twin"),
        nameField,
        field("Description", description),
        field("Consent document", consent, "Its hash goes on chain with the twin: the record of what you agreed to.")),
      h("div", { class: "card" },
        h("h3", {}, "Who is paid"),
        h("p", { class: "muted small" }, `You are the first payee and keep the rest. Agencies may take at most ${bps(cap)} together (the guild's cap)` +
          (otherCap !== null ? `, and all your payees at most ${bps(otherCap)}.` : ".") + " Each payee accepts its listing before it can withdraw."),
        payeeRows,
        h("div", { class: "row" },
          h("button", { type: "button", class: "btn small", onclick: () => addRow("agency") }, "+ Agency"),
          h("button", { type: "button", class: "btn small", onclick: () => addRow("crew") }, "+ Crew member")),
        summary,
        payeeError,
        errorSlot,
        h("div", { style: "margin-top:16px" }, submitButton))),
  );
  update();
}

/** The guild's bound on the shares of everyone but the model, in basis points, as the registry holds it now (the
 * deployment's when the chain cannot be read; null when neither says). */
async function nonModelCap() {
  try {
    return Number(await registry().nonModelCap());
  } catch {
    const value = state.deployment.non_model_cap_bps;
    return value === undefined || value === null ? null : Number(value);
  }
}

const MODEL = 0; // TwinTypes.PayeeRole, as the guild's attestations use it
const AGENCY = 1;

/**
 * Why this account may not register a twin, in plain words (null when it may), from its current attestation on
 * chain: the guild has not attested it as a model, or its attestation expired or was revoked.
 */
async function modelStanding(address) {
  const [[id, current], now] = await Promise.all([registry().attestationOf(address), chainTime()]);
  const ask = "Ask the guild to attest your wallet as a model; you can register your twin once it has.";
  if (!id || Number(current.role) !== MODEL) {
    return `The guild has not attested this account as a model: only a model the guild vouches for can register a twin of herself. ${ask}`;
  }
  if (current.revoked) return `The guild revoked your attestation as a model: you cannot register a new twin. ${ask}`;
  if (Number(current.expiresAt) <= now) {
    return `Your attestation as a model expired on ${date(current.expiresAt)}: you cannot register a new twin until the guild renews it. ${ask}`;
  }
  return null;
}

/** A payee's name when the account is known (its seed name, or its label), else its short address. */
function labelOf(address, bare = false) {
  const known = state.accounts.find((a) => a.address.toLowerCase() === address.toLowerCase());
  if (!known) return shortAddress(address);
  return bare ? known.name : known.label;
}
