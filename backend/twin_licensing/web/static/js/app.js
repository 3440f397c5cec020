// Entry point: loads the deployment, connects the wallet and routes #/paths to pages.

import { api } from "./api.js";
import { initContracts } from "./chain.js";
import { explain } from "./errors.js";
import { state, onWalletChange } from "./state.js";
import { h, mount, errorBox } from "./ui.js";
import { initWallet } from "./wallet.js";
import * as catalogue from "./pages/catalogue.js";
import * as twin from "./pages/twin.js";
import * as licenses from "./pages/licenses.js";
import * as license from "./pages/license.js";
import * as modelTwins from "./pages/model_twins.js";
import * as manageTwin from "./pages/manage_twin.js";
import * as registerTwin from "./pages/register_twin.js";
import * as earnings from "./pages/earnings.js";
import * as checkImage from "./pages/check_image.js";
import * as unlicensedUses from "./pages/unlicensed_uses.js";
import * as guild from "./pages/guild.js";
import * as usageLog from "./pages/usage_log.js";

const ROUTES = [
  [/^\/?$/, catalogue, "catalogue"],
  [/^\/catalogue$/, catalogue, "catalogue"],
  [/^\/twins\/(\d+)$/, twin, "catalogue"],
  [/^\/licenses$/, licenses, "licenses"],
  [/^\/licenses\/(\d+)$/, license, "licenses"],
  [/^\/model\/twins$/, modelTwins, "model-twins"],
  [/^\/model\/twins\/new$/, registerTwin, "model-twins"],
  [/^\/model\/twins\/(\d+)$/, manageTwin, "model-twins"],
  [/^\/model\/earnings$/, earnings, "model-earnings"],
  [/^\/check$/, checkImage, "check"],
  [/^\/guild\/unlicensed$/, unlicensedUses, "guild-unlicensed"],
  [/^\/guild$/, guild, "guild"],
  [/^\/usage$/, usageLog, "usage"],
];

const main = () => document.getElementById("main");
let current = null; // the page module on screen, for cleanup (timers, charts)
let renderId = 0;

async function route() {
  setMenu(false);
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  current?.leave?.();
  current = null;
  const id = ++renderId;
  for (const [pattern, page, nav] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    document.querySelectorAll("[data-nav]").forEach((a) => {
      a.classList.toggle("active", a.dataset.nav === nav);
      if (a.dataset.nav === nav) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    current = page;
    const root = h("div", { class: "page", "data-page": nav });
    mount(main(), root);
    try {
      await page.render(root, { args: match.slice(1), params, isCurrent: () => id === renderId });
    } catch (error) {
      if (id === renderId) mount(root, errorBox(explain(error)));
      console.error(error);
    }
    return;
  }
  mount(main(), h("div", { class: "empty" }, h("h3", {}, "Page not found"), h("a", { href: "#/catalogue" }, "Back to the catalogue")));
}

export function refresh() {
  route();
}

async function boot() {
  initMenu();
  try {
    const [deployment, abis] = await Promise.all([api("/deployment"), api("/deployment/abi")]);
    state.deployment = deployment;
    state.abis = abis;
  } catch (error) {
    mount(
      main(),
      h("div", { class: "empty" }, h("h3", {}, "Twin Licence is not ready"), h("p", {}, explain(error)),
        h("p", { class: "muted" }, "Start it with `twinctl up`, then reload this page.")),
    );
    return;
  }
  initContracts();
  const dep = state.deployment;
  document.getElementById("footer-chain").textContent =
    `${dep.local ? "Local chain" : "Chain"} ${dep.chain_id} · licences ${dep.contracts.LicenseToken.slice(0, 10)}…`;
  showIndexLag(dep);
  await initWallet();
  onWalletChange(() => route());
  window.addEventListener("hashchange", route);
  route();
}

// The navigation folds behind the menu button on a phone (app.css decides when the button shows). It closes
// on any route change, on Escape (focus back on the button) and on a click outside the header.
function setMenu(open) {
  document.getElementById("menu-toggle").setAttribute("aria-expanded", String(open));
  document.getElementById("topbar").classList.toggle("menu-open", open);
}

function initMenu() {
  const button = document.getElementById("menu-toggle");
  const topbar = document.getElementById("topbar");
  const isOpen = () => button.getAttribute("aria-expanded") === "true";
  button.addEventListener("click", () => setMenu(!isOpen()));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !isOpen()) return;
    setMenu(false);
    button.focus();
  });
  document.addEventListener("click", (event) => {
    if (isOpen() && !topbar.contains(event.target)) setMenu(false);
  });
  // A link to the page already shown changes no route: close the menu anyway.
  document.getElementById("main-nav").addEventListener("click", (event) => {
    if (event.target.closest("a")) setMenu(false);
  });
}

function showIndexLag(dep) {
  const banner = document.getElementById("banner");
  if (!dep.index || dep.index.ready !== false) return;
  banner.textContent = "The index is catching up with the chain: recent changes may take a moment to appear.";
  banner.hidden = false;
}

boot();
