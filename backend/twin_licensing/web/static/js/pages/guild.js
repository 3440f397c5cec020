// Guild: the attestations that make consent verifiable. The guild vouches that an address is a model (only an
// attested model can register a twin) or an agency (its shares count toward the agency cap under any role).
// Lists them, attests an address with a label and an expiry, revokes one. Every mistake is said before signing.

import { api, poll, INDEX_WAIT_MS } from "../api.js";
import { state } from "../state.js";
import { date, plural, shortAddress } from "../format.js";
import { h, mount, errorBox, runSteps, toast, field, table, pager, emptyState } from "../ui.js";
import { explain } from "../errors.js";
import { attestations, send, chainTime, isAddress, checksum } from "../chain.js";
import { confirmDialog, ATTESTATION_ROLE, attestationBadge, isGuild } from "./common.js";

const LIMIT = 20;
const LABEL_MAX = 100;
const OTHER = "other";
const DAY = 86400;

export async function render(root, { params, isCurrent }) {
  const roleFilter = params.get("role") ?? "";
  const stateFilter = params.get("state") ?? "";
  const offset = Number(params.get("offset") || 0);
  const [page, guild] = await Promise.all([
    api("/attestations", { query: { role: roleFilter, state: stateFilter, offset, limit: LIMIT } }),
    state.wallet ? isGuild(state.wallet.address) : false,
  ]);
  if (!isCurrent()) return;
  const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const go = (next) => {
    const query = new URLSearchParams(params);
    for (const [key, value] of Object.entries(next)) (value ? query.set(key, value) : query.delete(key));
    if (!("offset" in next)) query.delete("offset");
    location.hash = `#/guild${query.toString() ? "?" + query : ""}`;
  };

  const slot = h("div");
  const revoke = async (a) => {
    mount(slot);
    const confirmed = await confirmDialog({
      title: `Revoke the attestation of ${a.label || shortAddress(a.subject)}?`,
      intro: a.role === "model"
        ? "She can no longer register a twin or publish an offer. Her twins and the licences already sold stay as they are."
        : "The agency cap no longer binds this address. Twins and licences already registered stay as they are.",
      rows: [["Who", a.subject_label || a.subject], ["Role", roleName(a.role)], ["Label", a.label || "—"], ["Expires", date(a.expires_at)]],
      confirmLabel: "Revoke",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await runSteps("Revoking the attestation", [
        { label: `Revoke attestation #${a.attestation_id}`, run: (ctx, note) => send(attestations(true), "revokeAttestation", [a.attestation_id], note) },
        { label: "Update the list", run: () => poll(async () => (await api(`/attestations/${a.attestation_id}`)).state === "revoked", { timeoutMs: INDEX_WAIT_MS }) },
      ], explain);
      toast(`The attestation of ${a.label || shortAddress(a.subject)} is revoked.`, "ok");
      reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };

  const roleSelect = h("select", { id: "filter-role", "aria-label": "Show role", style: "width:auto" },
    h("option", { value: "" }, "Models and agencies"), h("option", { value: "model" }, "Models"), h("option", { value: "agency" }, "Agencies"));
  roleSelect.value = roleFilter;
  roleSelect.addEventListener("change", () => go({ role: roleSelect.value }));
  const stateSelect = h("select", { id: "filter-state", "aria-label": "Show state", style: "width:auto" },
    h("option", { value: "" }, "Any state"), h("option", { value: "valid" }, "Valid"), h("option", { value: "expired" }, "Expired"), h("option", { value: "revoked" }, "Revoked"));
  stateSelect.value = stateFilter;
  stateSelect.addEventListener("change", () => go({ state: stateSelect.value }));

  mount(
    root,
    h("div", { class: "page-head" },
      h("div", {},
        h("h1", {}, "Guild attestations"),
        h("p", {}, "The guild vouches for who an address is. Only an attested model can register a twin of herself " +
          "and publish offers; an attested agency is held to the agency cap under whatever role a model lists it."))),
    guild ? null : h("div", { class: "banner", id: "not-guild", role: "status", style: "margin-bottom:16px;border-radius:8px" },
      state.wallet
        ? "This account is not the guild's: you can read the attestations, but only the guild's account can attest or revoke. Switch to it (top right)."
        : "Choose the guild's account (top right) to attest or revoke; anyone can read the attestations."),
    h("div", { class: "split" },
      attestForm(guild, reload),
      h("section", { class: "card", id: "attestations" },
        h("div", { class: "card-head" }, h("h3", {}, "Attestations"), h("span", { class: "muted small", id: "attestation-count" }, plural(page.count, "attestation"))),
        h("div", { class: "row", style: "margin-bottom:12px" }, roleSelect, stateSelect),
        slot,
        table(
          [
            { label: "Who", render: (a) => h("div", {}, h("div", {}, nameOf(a)), h("div", { class: "muted small addr" }, shortAddress(a.subject))) },
            { label: "Role", render: (a) => roleName(a.role) },
            { label: "Label", render: (a) => a.label || "—" },
            { label: "Issued", render: (a) => date(a.issued_at) },
            { label: "Expires", render: (a) => date(a.expires_at) },
            { label: "State", render: (a) => attestationBadge(a) },
            {
              label: "",
              render: (a) => (a.state === "valid" && a.current && guild
                ? h("button", { type: "button", class: "btn small danger", "data-revoke": a.attestation_id, "aria-label": `Revoke the attestation of ${a.label || a.subject}`, onclick: () => revoke(a) }, "Revoke")
                : null),
            },
          ],
          page.data,
          { empty: emptyState("No attestation", roleFilter || stateFilter ? "None matches these filters." : "The guild has attested no one yet.") },
        ),
        pager(offset, LIMIT, page.count, (o) => go({ offset: String(o) })))),
  );
}

/** Who the subject is: its development account's name, else the API's label for it, else its short address. */
function nameOf(a) {
  const known = state.accounts.find((x) => x.address.toLowerCase() === a.subject.toLowerCase());
  return known?.name || a.subject_label || shortAddress(a.subject);
}

function roleName(role) {
  return role === "agency" ? "Agency" : role === "model" ? "Model" : role;
}

/** The development accounts of `role`, to pick by name (empty off the local chain: addresses are typed). */
function candidates(role) {
  return state.accounts.filter((a) => a.role === role);
}

function attestForm(guild, reload) {
  const role = h("select", { name: "role" }, h("option", { value: "model" }, "Model"), h("option", { value: "agency" }, "Agency"));
  const picker = h("select", { name: "subject-pick", "aria-label": "Who" });
  const address = h("input", { type: "text", name: "subject", placeholder: "0x… wallet address", "aria-label": "Wallet address", autocomplete: "off" });
  const label = h("input", { type: "text", name: "label", maxlength: LABEL_MAX, placeholder: "e.g. Ava Lindqvist, passport checked 1 Dec" });
  const expires = h("input", { type: "date", name: "expires" });
  const inAYear = new Date(Date.now() + 365 * DAY * 1000);
  expires.value = inAYear.toISOString().slice(0, 10);
  const whoField = field("Who", h("div", { class: "stack", style: "gap:4px" }, picker, address), "The wallet the guild vouches for.");
  const labelField = field("Label", label, "What the guild checked, in a few words. It is published with the attestation.");
  const expiresField = field("Expires on", expires, "After this day the attestation no longer counts; attest again to renew it.");
  const slot = h("div");
  const submit = h("button", { class: "btn primary", type: "submit", disabled: !guild }, "Attest");

  const subject = () => (picker.value === OTHER ? address.value.trim() : picker.value);
  const fillPicker = () => {
    const known = candidates(role.value);
    mount(picker, known.map((a) => h("option", { value: a.address }, a.name || a.label)),
      h("option", { value: OTHER }, known.length ? "Another address…" : "An address…"));
    picker.value = known.length ? known[0].address : OTHER;
    address.hidden = picker.value !== OTHER;
    suggestLabel();
  };
  // The account's name is a good start for the label; a label the guild typed itself is kept.
  let typed = false;
  const suggestLabel = () => {
    if (typed) return;
    const known = state.accounts.find((a) => a.address === picker.value);
    label.value = known ? known.name : "";
  };
  label.addEventListener("input", () => { typed = Boolean(label.value.trim()); labelField.setError(""); });
  picker.addEventListener("change", () => { address.hidden = picker.value !== OTHER; if (!address.hidden) address.focus(); suggestLabel(); whoField.setError(""); });
  role.addEventListener("change", fillPicker);
  address.addEventListener("input", () => whoField.setError(""));
  expires.addEventListener("input", () => expiresField.setError(""));
  fillPicker();

  /** The attestation as the contract takes it, or null after saying under each field what is wrong. */
  const read = async () => {
    let ok = true;
    const who = subject();
    if (!isAddress(who)) {
      whoField.setError(`“${who || "(empty)"}” is not a wallet address: pick someone or paste an address (0x followed by 40 hexadecimal digits).`);
      ok = false;
    } else if (/^0x0{40}$/i.test(who)) {
      whoField.setError("The zero address belongs to no one: enter the wallet of the model or agency.");
      ok = false;
    }
    const text = label.value.trim();
    if (!text) {
      labelField.setError("Give the attestation a label: who this is, or what the guild checked.");
      ok = false;
    }
    let expiresAt = null;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(expires.value)) {
      expiresField.setError("Choose the day the attestation expires.");
      ok = false;
    } else {
      // The end of that day, UTC; it must lie ahead of the chain's clock (which may run ahead of ours).
      expiresAt = Math.floor(Date.parse(`${expires.value}T23:59:59Z`) / 1000);
      let now = Math.floor(Date.now() / 1000);
      try {
        now = Math.max(now, await chainTime());
      } catch { /* the wall clock will do */ }
      if (!(expiresAt > now)) {
        expiresField.setError(`The expiry must be in the future: choose a day after ${date(now)}.`);
        ok = false;
      }
    }
    return ok ? { subject: checksum(who), role: role.value, label: text, expiresAt } : null;
  };

  const onSubmit = async (event) => {
    event.preventDefault();
    mount(slot);
    if (!guild) {
      mount(slot, errorBox("Only the guild's account can attest. Switch to it (top right)."));
      return;
    }
    const wanted = await read();
    if (!wanted) return;
    // An address holds one attestation at a time: a new one replaces the current one, which the guild is told.
    let current = null;
    try {
      current = (await api("/attestations", { query: { subject: wanted.subject, current: "true", state: "valid", limit: 1 } })).data[0] || null;
    } catch { /* the contract still decides */ }
    const who = state.accounts.find((a) => a.address === wanted.subject)?.label || wanted.subject;
    const confirmed = await confirmDialog({
      title: `Attest ${who} as ${wanted.role === "model" ? "a model" : "an agency"}`,
      intro: current
        ? `This address already holds a valid attestation as ${current.role === "model" ? "a model" : "an agency"} (#${current.attestation_id}, until ${date(current.expires_at)}): the new one replaces it.`
        : wanted.role === "model"
          ? "Once attested, she can register a twin of herself and publish offers until the attestation expires or is revoked."
          : "Once attested, this address is held to the agency cap under any role a model lists it.",
      rows: [["Address", wanted.subject], ["Role", roleName(wanted.role)], ["Label", wanted.label], ["Expires", date(wanted.expiresAt)]],
      confirmLabel: "Attest",
    });
    if (!confirmed) return;
    try {
      const ctx = await runSteps("Attesting", [
        {
          label: "Record the attestation on chain",
          run: async (c, note) => {
            await send(attestations(true), "attest", [wanted.subject, ATTESTATION_ROLE[wanted.role], wanted.expiresAt, wanted.label], note);
          },
        },
        {
          label: "Add it to the list",
          run: async (c) => {
            c.found = await poll(async () => (await api("/attestations", {
              query: { subject: wanted.subject, role: wanted.role, state: "valid", limit: 20 },
            })).data.find((a) => !current || a.attestation_id !== current.attestation_id), { timeoutMs: INDEX_WAIT_MS });
          },
        },
      ], explain);
      toast(`${who} is attested as ${wanted.role === "model" ? "a model" : "an agency"} until ${date(wanted.expiresAt)}.`, "ok");
      if (ctx.found) reload();
    } catch (error) {
      mount(slot, errorBox(explain(error)));
    }
  };

  return h("form", { class: "card", id: "attest-form", onsubmit: onSubmit },
    h("h3", {}, "Attest a model or an agency"),
    h("label", { class: "field" }, h("span", {}, "Role"), role),
    whoField,
    labelField,
    expiresField,
    slot,
    submit);
}

