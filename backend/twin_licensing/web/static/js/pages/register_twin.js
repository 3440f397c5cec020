// Model: register a digital twin of herself, with its payees and consent document.

import { api, poll } from "../api.js";
import { state } from "../state.js";
import { h, mount, errorBox, runSteps, toast, field } from "../ui.js";
import { explain } from "../errors.js";
import { registry, send, events, ethers, isAddress, checksum } from "../chain.js";
import { bps } from "../format.js";

const CONSENT_TEMPLATE = (name) =>
  `CONSENT TO THE CREATION AND LICENSED USE OF A DIGITAL TWIN\n\nModel: ${name || "…"}\n\n` +
  "1. I consent to the creation of an AI digital twin of my likeness and to its licensed use in the usage categories " +
  "and territories of the offers I publish, and in no other.\n2. I am paid for each use of the twin at no less than " +
  "the guild's floor for its category.\n3. I may revoke this consent at any time.\n4. The twin is not transferable.\n";

export async function render(root) {
  if (!state.wallet) {
    mount(root, errorBox("Choose your wallet first (top right): the twin is registered to it."));
    return;
  }
  const cap = state.deployment.agency_cap_bps ?? 2000;
  const name = h("input", { type: "text", name: "name", placeholder: "Your name as brands will see it", maxlength: 80 });
  const description = h("textarea", { name: "description", placeholder: "Who you are, your look, the work you do." });
  const consent = h("textarea", { name: "consent", style: "min-height:160px" }, CONSENT_TEMPLATE(""));
  name.addEventListener("input", () => (consent.value = CONSENT_TEMPLATE(name.value)));
  const nameField = field("Name", name);
  const payeeRows = h("div", { id: "payees" });
  const payeeError = h("div");
  const rows = [];
  const summary = h("div", { class: "muted small" });

  const addRow = (role = "agency", account = "", percent = "") => {
    const address = h("input", { type: "text", placeholder: "0x… wallet address", value: account, "aria-label": "Payee address" });
    const share = h("input", { type: "text", inputmode: "decimal", placeholder: "%", value: percent, "aria-label": "Share in percent" });
    const roleSelect = h("select", { "aria-label": "Role" }, h("option", { value: "1" }, "Agency"), h("option", { value: "2" }, "Crew"));
    roleSelect.value = role === "crew" ? "2" : "1";
    const row = { address, share, role: roleSelect };
    const remove = h("button", { type: "button", class: "btn small", title: "Remove", onclick: () => { rows.splice(rows.indexOf(row), 1); el.remove(); update(); } }, "✕");
    const el = h("div", { class: "payee-row" }, address, roleSelect, share, remove);
    [address, share, roleSelect].forEach((i) => i.addEventListener("input", update));
    rows.push(row);
    payeeRows.append(el);
    update();
  };
  const agencies = state.accounts.filter((a) => a.role === "agency");

  function shares() {
    const out = [];
    let total = 0;
    for (const row of rows) {
      const pct = Number(row.share.value.trim());
      if (!row.address.value.trim() && !row.share.value.trim()) continue;
      if (!isAddress(row.address.value.trim())) throw new Error(`“${row.address.value.trim() || "(empty)"}” is not a wallet address.`);
      if (!Number.isFinite(pct) || pct <= 0 || !/^\d+(\.\d{1,2})?$/.test(row.share.value.trim())) {
        throw new Error("Each share is a percentage above zero, with at most two decimals (e.g. 15 or 12.5).");
      }
      const value = Math.round(pct * 100);
      out.push([checksum(row.address.value.trim()), value, Number(row.role.value)]);
      total += value;
    }
    if (total >= 10000) throw new Error("The other payees' shares must leave you something: they add up to 100 % or more.");
    return [[state.wallet.address, 10000 - total, 0], ...out];
  }
  function update() {
    try {
      const list = shares();
      summary.textContent = `You keep ${bps(list[0][1])}. ` + list.slice(1).map((p) => `${p[0].slice(0, 8)}… ${bps(p[1])}`).join(", ");
      mount(payeeError);
    } catch (error) {
      summary.textContent = "";
      mount(payeeError, errorBox(error.message));
    }
  }

  const errorSlot = h("div");
  const submit = async (event) => {
    event.preventDefault();
    mount(errorSlot);
    nameField.setError("");
    if (!name.value.trim()) return nameField.setError("Give the twin your name, as brands will see it.");
    let payees;
    try {
      payees = shares();
    } catch (error) {
      mount(errorSlot, errorBox(error.message));
      return;
    }
    const metadata = { name: name.value.trim(), description: description.value.trim() || undefined };
    const uri = "data:application/json;base64," + btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(metadata))));
    const consentHash = ethers.keccak256(ethers.toUtf8Bytes(consent.value));
    try {
      const ctx = await runSteps("Registering your twin", [
        {
          label: "Register the twin on chain",
          run: async (c, note) => {
            const receipt = await send(() => registry(true).registerTwin(uri, consentHash, payees), note);
            c.twinId = events(receipt, "TwinRegistry", "TwinRegistered")[0].twinId.toString();
            note(`Twin #${c.twinId}`);
          },
        },
        { label: "Add it to your twins", run: async (c) => { await poll(() => api(`/twins/${c.twinId}`), { timeoutMs: 20000 }); } },
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
    h("form", { class: "grid-2", onsubmit: submit, id: "register-twin" },
      h("div", { class: "card" },
        h("h3", {}, "The twin"),
        nameField,
        field("Description", description),
        field("Consent document", consent, "Its hash goes on chain with the twin: the record of what you agreed to.")),
      h("div", { class: "card" },
        h("h3", {}, "Who is paid"),
        h("p", { class: "muted small" }, `You are the first payee and keep the rest. An agency may take at most ${bps(cap)} (the guild's cap).`),
        payeeRows,
        h("div", { class: "row" },
          h("button", { type: "button", class: "btn small", onclick: () => addRow("agency", agencies[0]?.address || "", "20") }, "+ Agency"),
          h("button", { type: "button", class: "btn small", onclick: () => addRow("crew", "", "5") }, "+ Crew member")),
        summary,
        payeeError,
        errorSlot,
        h("div", { style: "margin-top:16px" }, h("button", { class: "btn primary", type: "submit" }, "Register the twin")))),
  );
  update();
}
