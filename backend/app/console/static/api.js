// The console's API client.
//
// - The access token lives in this module's memory only (never in storage).
// - The refresh token lives in an HttpOnly cookie that only /console/api/session/* receives; this
//   code never sees it. Every call that rotates it (log in, refresh, switch, log out) runs one at
//   a time — in this tab through one promise chain, across tabs through a Web Lock — because a
//   refresh token works once and presenting a used one ends the whole session.
// - A 401 from the API triggers one refresh (shared by every caller waiting on it) and one retry.

const API = "/api/v1";
const SESSION = "/console/api/session";
const LOCK = "tenancy-console-session";

let access = null; // {token, organizationId, expiresAt}
let chain = Promise.resolve();
let refreshing = null;
let timer = null;
const endListeners = new Set();

export class ApiError extends Error {
  constructor(status, item, retryAfter) {
    super(item.detail || `HTTP ${status}`);
    this.status = status;
    this.code = item.code || "error";
    this.detail = item.detail || "";
    this.pointer = item.source ? item.source.pointer : null;
    this.retryAfter = retryAfter || (item.meta && item.meta.retry_after) || null;
  }
}

const sessionEnded = () => new ApiError(401, { code: "session_ended", detail: "Your session has ended." });

async function errorOf(response) {
  let item = { code: "error", detail: `The server answered ${response.status}.` };
  try {
    const body = await response.json();
    if (body && Array.isArray(body.errors) && body.errors.length) item = body.errors[0];
  } catch (_) {
    /* not JSON: keep the generic words */
  }
  return new ApiError(response.status, item, response.headers.get("Retry-After"));
}

async function request(url, init) {
  try {
    return await fetch(url, { credentials: "same-origin", cache: "no-store", ...init });
  } catch (_) {
    throw new ApiError(0, { code: "network", detail: "The server could not be reached." });
  }
}

// One cookie-rotating call at a time: this tab's chain, then the cross-tab lock.
function serially(task) {
  const locked = () => (navigator.locks ? navigator.locks.request(LOCK, task) : task());
  const run = chain.then(locked, locked);
  chain = run.catch(() => undefined);
  return run;
}

async function sessionCall(path, body, withBearer = false) {
  const headers = { "X-Tenancy-Console": "1" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (withBearer && access) headers.Authorization = `Bearer ${access.token}`;
  const response = await request(SESSION + path, {
    method: "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

function accept(tokens) {
  access = {
    token: tokens.access_token,
    organizationId: tokens.organization_id,
    expiresAt: Date.now() + tokens.expires_in * 1000,
  };
  clearTimeout(timer);
  // Refresh at about 80 % of the lifetime, so calls rarely meet an expired token.
  timer = setTimeout(() => refresh().catch(() => undefined), tokens.expires_in * 800);
  return access;
}

function forget() {
  access = null;
  clearTimeout(timer);
}

function ended() {
  if (!access) return;
  forget();
  for (const listener of endListeners) listener();
}

export function onSessionEnd(listener) {
  endListeners.add(listener);
}

export function activeOrganizationId() {
  return access ? access.organizationId : null;
}

export function loggedIn() {
  return access !== null;
}

export function logIn(email, password, organizationId) {
  const body = { email, password };
  if (organizationId) body.organization_id = organizationId;
  return serially(async () => accept(await sessionCall("", body)));
}

// The single refresh in flight: everyone who needs one awaits the same promise.
export function refresh() {
  if (!refreshing) {
    refreshing = serially(async () => accept(await sessionCall("/refresh")))
      .catch((error) => {
        if (error.status === 401) ended();
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// At page load: resume the cookie's session if there is one.
export async function resume() {
  try {
    await refresh();
    return true;
  } catch (error) {
    if (error.status === 401) return false;
    throw error;
  }
}

export async function switchOrganization(organizationId) {
  const attempt = () => serially(async () => accept(await sessionCall("/switch", { organization_id: organizationId }, true)));
  try {
    return await attempt();
  } catch (error) {
    if (error.status !== 401 || error.code === "invalid_refresh_token") throw error;
    await refresh();
    return attempt();
  }
}

export async function logOut() {
  try {
    await serially(() => sessionCall("/logout"));
  } finally {
    forget();
  }
}

async function send(method, path, body) {
  const headers = {};
  if (access) headers.Authorization = `Bearer ${access.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return request(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

// A call to the public API with the in-memory access token; one refresh and retry on a 401.
export async function api(method, path, body) {
  let response = await send(method, path, body);
  if (response.status === 401 && access) {
    try {
      await refresh();
    } catch (error) {
      if (error.status === 401) throw sessionEnded();
      throw error;
    }
    response = await send(method, path, body);
    if (response.status === 401) {
      ended();
      throw sessionEnded();
    }
  }
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 ? null : response.json();
}

// Every page of a cursor-paginated list (bounded, so a huge list cannot hang the page).
export async function all(path, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const url = `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await api("GET", url);
    items.push(...body.items);
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
  }
  return items;
}

// A call that needs no token (register, verify email, password reset).
export async function publicCall(method, path, body) {
  const response = await request(API + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await errorOf(response);
  return response.status === 204 || response.status === 202 ? null : response.json();
}
