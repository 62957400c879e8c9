// The console's shell: session state, navigation, and which view shows in <main>.

import * as client from "./api.js";
import { button, clear, h } from "./dom.js";
import * as email from "./views/email.js";
import * as history from "./views/history.js";
import * as keys from "./views/keys.js";
import * as login from "./views/login.js";
import * as orgs from "./views/orgs.js";
import * as sessions from "./views/sessions.js";
import * as team from "./views/team.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const notice = document.getElementById("notice");

// What the views read: the caller, the active organization and what the caller may do there.
const state = { me: null, organization: null, permissions: new Set(), role: null };

const ROUTES = {
  login: { view: login.renderLogin, public: true },
  register: { view: login.renderRegister, public: true },
  orgs: { view: orgs.render, title: "Organizations" },
  team: { view: team.render, title: "Team", needsOrg: true },
  history: { view: history.render, title: "History", needsOrg: true, permission: "events:read" },
  sessions: { view: sessions.render, title: "Sessions" },
  keys: { view: keys.render, title: "API keys", needsOrg: true, permission: "api_keys:read" },
  // Links from email work logged in or not.
  "verify-email": { view: email.renderVerify, public: true, any: true },
  "reset-password": { view: email.renderReset, public: true, any: true },
  invitation: { view: email.renderInvitation, public: true, any: true },
};

function say(message) {
  notice.textContent = message || "";
  notice.hidden = !message;
}

function currentRoute() {
  const [name, query] = location.hash.replace(/^#\/?/, "").split("?");
  return { name: name || "", params: new URLSearchParams(query || "") };
}

export function go(name, params) {
  const target = `#/${name}${params ? `?${params}` : ""}`;
  if (location.hash === target) show();
  else location.hash = target;
}

// Reload who I am, my organizations, and my permissions in the active organization.
async function loadState() {
  const me = await client.api("GET", "/auth/me");
  state.me = me;
  state.organization = me.active_organization;
  state.permissions = new Set();
  state.role = null;
  if (state.organization) {
    const granted = await client.api("GET", `/organizations/${state.organization.id}/permissions`);
    state.permissions = new Set(granted.permissions);
    state.role = granted.role;
  }
}

function drawNav(active) {
  clear(nav);
  if (!state.me) {
    nav.hidden = true;
    return;
  }
  const links = Object.entries(ROUTES).filter(([name, route]) => {
    if (route.public) return false;
    if (route.needsOrg && !state.organization) return false;
    return !route.permission || state.permissions.has(route.permission);
  });
  const org = state.organization
    ? h("span", { class: "current-org" }, state.organization.name, " ", h("span", { class: "badge" }, state.role || ""))
    : h("span", { class: "current-org muted" }, "No organization selected");
  nav.append(
    org,
    h(
      "ul",
      {},
      links.map(([name, route]) =>
        h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === active ? "page" : null }, route.title)),
      ),
    ),
    h("span", { class: "who" }, state.me.user.display_name),
    button("Log out", async () => {
      await client.logOut().catch(() => undefined);
      state.me = null;
      say("You are logged out.");
      go("login");
    }),
  );
  nav.hidden = false;
}

const context = {
  state,
  pendingInvitation: null,
  go,
  say,
  // After anything that changes my standing (switching, creating, transferring): reload it.
  async reload() {
    await loadState();
    drawNav(currentRoute().name);
  },
  async enter(organizationId) {
    await client.switchOrganization(organizationId);
    await loadState();
    go("team");
  },
  async loggedIn() {
    await loadState();
    say("");
    if (context.pendingInvitation) return go("invitation");
    // One organization: open it. Several: let the user choose.
    const usable = state.me.memberships.filter((m) => m.status !== "suspended");
    if (!state.organization && state.me.memberships.length === 1 && usable.length === 1) {
      return context.enter(usable[0].id);
    }
    go(state.organization ? "team" : "orgs");
  },
};

async function show() {
  const { name, params } = currentRoute();
  let route = ROUTES[name];
  if (route && route.any) {
    if (client.loggedIn() && !state.me) await loadState();
    drawNav(name);
    return draw(route.view, params);
  }
  if (!client.loggedIn()) {
    if (route && route.public) {
      drawNav(name);
      return draw(route.view, params);
    }
    return go("login");
  }
  if (!state.me) await loadState();
  if (!route || route.public || (route.needsOrg && !state.organization)) return go(state.organization ? "team" : "orgs");
  if (route.permission && !state.permissions.has(route.permission)) route = ROUTES.team;
  drawNav(name);
  return draw(route.view, params);
}

// Each view renders off-screen and replaces <main> only if no newer navigation started meanwhile.
let drawing = 0;

async function draw(render, params) {
  const generation = ++drawing;
  const fresh = document.createDocumentFragment();
  try {
    await render(fresh, context, params);
  } catch (error) {
    if (error.code === "session_ended") return;
    fresh.append(h("p", { class: "error", role: "alert" }, error.detail || String(error)));
    if (error.status === undefined) setTimeout(() => { throw error; }); // a bug, not an API answer: surface it
  }
  if (generation !== drawing) return;
  view.replaceChildren(fresh);
  const heading = view.querySelector("h1");
  if (heading) document.title = `${heading.textContent} · Tenancy console`;
  const first = view.querySelector("[autofocus]");
  (first || view).focus({ preventScroll: !first });
}

client.onSessionEnd(() => {
  state.me = null;
  say("Your session has ended. Please log in again.");
  go("login");
});

window.addEventListener("hashchange", () => show().catch(() => undefined));

async function boot() {
  try {
    await client.resume();
  } catch (error) {
    say(error.detail || "The server could not be reached.");
  }
  await show();
}

boot();
