// Tiny DOM helpers. Text always goes in as text nodes (never parsed as HTML), so names and details
// from the API cannot inject markup.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "for") {
      el.htmlFor = value;
    } else if (key === "text") {
      el.textContent = value;
    } else if (["hidden", "disabled", "required", "checked", "value"].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled input: returns {wrap, input}.
export function field(label, attrs = {}) {
  const id = nextId(attrs.name || "field");
  const input = h("input", { id, ...attrs });
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input);
  return { wrap, input };
}

// An error line tied to the control that caused it (aria-describedby), read out when it changes.
export function errorSlot(control) {
  const id = nextId("err");
  const slot = h("p", { id, class: "error", role: "alert", hidden: true });
  if (control) {
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  }
  return slot;
}

export function showError(slot, error) {
  slot.textContent = error ? describe(error) : "";
  slot.hidden = !error;
}

const WORDS = {
  invalid_credentials: "Wrong email or password.",
  already_member: "This person is already a member of the organization.",
  user_not_found: "No active account with that email can be added. Invite them instead, or check the address.",
  email_already_registered: "An account with this email already exists. Log in instead.",
  owner_cannot_leave: "The owner cannot leave: transfer the ownership first.",
  owner_cannot_be_removed: "The owner cannot be removed: transfer the ownership first.",
  organization_suspended: "This organization is suspended.",
  organization_inactive: "This organization is deactivated: it is read-only.",
  password_too_common: "This password is too common. Choose a longer, less guessable one.",
  password_too_short: "The password needs at least 12 characters.",
  email_not_verified: "Verify your email address first: open the link we sent you.",
  invitation_pending: "This address already has a pending invitation.",
  invitation_email_mismatch: "This invitation is for another email address. Log in with the invited address.",
  invitation_not_pending: "This invitation was already answered, withdrawn or has expired.",
  permission_escalation: "A key cannot have permissions you do not have yourself.",
  not_a_member: "This person is no longer a member. Reload to see the current team.",
  user_not_active: "This account is not active, so it cannot be given this role.",
  csrf_rejected: "The request was refused because it did not come from this page. Reload the console.",
  session_ended: "Your session has ended. Please log in again.",
  network: "The server could not be reached. Check your connection and try again.",
};

// Words for an error from the API's envelope (or a network failure).
export function describe(error) {
  if (!error) return "";
  if (typeof error === "string") return error;
  const code = error.code;
  if (code === "too_many_requests" || code === "server_busy") {
    const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again shortly.";
    return (code === "server_busy" ? "The server is busy." : "Too many attempts.") + wait;
  }
  if (code === "validation_error" && error.pointer) {
    const name = error.pointer.split("/").pop().replaceAll("_", " ");
    return `${name}: ${error.detail}`;
  }
  return WORDS[code] || error.detail || "Something went wrong.";
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return h("time", { datetime: date.toISOString(), title: date.toISOString() }, dateFormat.format(date));
}

export function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, label);
}

// Run `action` with the button disabled; errors go to `slot` in words.
export async function busy(control, slot, action) {
  control.disabled = true;
  if (slot) showError(slot, null);
  try {
    return await action();
  } catch (error) {
    if (slot) showError(slot, error);
    else throw error;
    return undefined;
  } finally {
    control.disabled = false;
  }
}
