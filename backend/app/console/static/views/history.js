// The organization's history as a timeline, and the team as of any instant (`as_of`).

import * as client from "../api.js";
import { busy, button, clear, errorSlot, field, h, when } from "../dom.js";
import { sortTeam } from "./team.js";

function sentence(event, who) {
  const actor = event.actor_type === "system" ? "The system"
    : event.actor_type === "api_key" ? "An API key" : who(event.actor_id);
  const subject = who(event.subject_id);
  const d = event.details || {};
  switch (event.type) {
    case "organization.created": return `${actor} created the organization “${d.name}”.`;
    case "organization.profile_updated": return `${actor} renamed the organization to “${d.name}”.`;
    case "member.added": return event.actor_id === event.subject_id ? `${subject} joined.` : `${actor} added ${subject} as a member.`;
    case "member.removed": return event.actor_id === event.subject_id ? `${subject} left.` : `${actor} removed ${subject}.`;
    case "admin.granted": return event.actor_id === event.subject_id ? `${subject} became an admin.` : `${actor} made ${subject} an admin.`;
    case "admin.revoked": return `${actor} took the admin role from ${subject}.`;
    case "owner.changed": return d.previous_owner_id
      ? `${actor} handed the ownership from ${who(d.previous_owner_id)} to ${subject}.`
      : `${subject} became the owner.`;
    case "organization.suspended": return `${actor} suspended the organization${d.reason ? ` (${d.reason})` : ""}.`;
    case "invitation.created": return `${actor} invited ${d.email} as ${d.role}.`;
    case "invitation.accepted": return `${d.email || subject} accepted the invitation.`;
    case "invitation.declined": return `${d.email || subject} declined the invitation.`;
    case "invitation.revoked": return `${actor} withdrew the invitation of ${d.email}.`;
    case "api_key.created": return `${actor} created the API key “${d.name}” (${(d.permissions || []).join(", ")}).`;
    case "api_key.revoked": return `${actor} revoked the API key “${d.name}”.`;
    default: {
      const [what, verb] = event.type.split(".");
      return what === "organization" ? `${actor}: organization ${verb}.` : `${actor}: ${event.type}.`;
    }
  }
}

// Names for user ids: the current team first, then the public profile, else a short id.
function directory(members) {
  const names = new Map(members.map((m) => [m.user_id, m.display_name]));
  return {
    names,
    who: (id) => (id ? names.get(id) || `a former member (${id.slice(0, 8)})` : "someone"),
    async learn(ids) {
      const unknown = [...new Set(ids)].filter((id) => id && !names.has(id)).slice(0, 25);
      await Promise.all(unknown.map(async (id) => {
        try {
          const user = await client.api("GET", `/users/${id}`);
          names.set(id, user.display_name);
        } catch (_) {
          /* not visible to me any more: keep the short id */
        }
      }));
    },
  };
}

export async function render(root, ctx) {
  const org = ctx.state.organization;
  const base = `/organizations/${org.id}`;
  const people = directory(await client.all(`${base}/members`));

  root.append(h("h1", {}, `History of ${org.name}`));

  // "Show the team as of…"
  const instant = field("Show the team as of", { name: "as_of", type: "datetime-local", step: 1, required: true });
  const submit = h("button", { type: "submit" }, "Show");
  const error = errorSlot(instant.input);
  const result = h("div", { class: "as-of-result", "aria-live": "polite" });
  const form = h("form", { class: "card inline-form", "aria-labelledby": "asof-title" },
    h("h2", { id: "asof-title" }, "The team at a past moment"),
    instant.wrap, submit, error, result,
  );
  const showAsOf = (iso) => busy(submit, error, async () => {
    const q = `as_of=${encodeURIComponent(iso)}`;
    const [members, owner] = await Promise.all([
      client.all(`${base}/members?${q}`),
      client.api("GET", `${base}/owner?${q}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    ]);
    for (const m of members) people.names.set(m.user_id, m.display_name);
    clear(result).append(
      h("h3", {}, "As of ", when(iso)),
      owner ? h("p", {}, "Owner: ", h("strong", {}, owner.display_name)) : h("p", {}, "The organization did not exist yet."),
      members.length
        ? h("ul", { class: "list compact", "aria-label": "Members at that moment" },
          sortTeam(members).map((m) => h("li", { class: "row" }, h("span", { class: "grow" }, m.display_name), h("span", { class: `badge role-${m.role}` }, m.role))))
        : h("p", {}, "No members at that moment."),
    );
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showAsOf(new Date(instant.input.value).toISOString());
  });
  root.append(form);

  // The timeline, newest first, one page at a time.
  const timeline = h("ol", { class: "timeline", "aria-label": "Events, newest first" });
  const more = button("Load older events", () => busy(more, moreError, () => page()), { hidden: true });
  const moreError = errorSlot(more);
  let cursor = null;
  const page = async () => {
    const url = `${base}/events?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await client.api("GET", url);
    await people.learn(body.items.flatMap((e) => [e.actor_id, e.subject_id, e.details && e.details.previous_owner_id]));
    for (const event of body.items) {
      const local = new Date(event.occurred_at);
      const at = button("Team right after this event", () => {
        instant.input.value = toLocalInput(local);
        showAsOf(event.occurred_at);
        instant.input.focus();
      }, { class: "link", "aria-label": `Team right after this event (${local.toLocaleString()})` });
      timeline.append(h("li", { class: "event", "data-type": event.type },
        when(event.occurred_at), h("p", {}, sentence(event, people.who)), at));
    }
    cursor = body.next_cursor;
    more.hidden = !cursor;
  };
  await page();
  root.append(h("section", { "aria-labelledby": "timeline-title" },
    h("h2", { id: "timeline-title" }, "Timeline"), timeline, more, moreError));
}

function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
