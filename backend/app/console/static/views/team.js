// The active organization's owner, admins and members, with the actions my permissions allow.

import * as client from "../api.js";
import { inviteForm, pendingList } from "./invitations.js";
import { busy, button, clear, errorSlot, field, h, showError, when } from "../dom.js";

const ROLE_ORDER = { owner: 0, admin: 1, member: 2 };
const ROLE_WORDS = { owner: "the owner", admin: "an admin", member: "a member" };

export function sortTeam(members) {
  return [...members].sort(
    (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.display_name.localeCompare(b.display_name),
  );
}

export async function render(root, ctx) {
  const org = ctx.state.organization;
  const may = (permission) => ctx.state.permissions.has(permission);
  const base = `/organizations/${org.id}`;
  const [members, owner] = await Promise.all([client.all(`${base}/members`), client.api("GET", `${base}/owner`)]);
  const myId = ctx.state.me.user.id;

  root.append(
    h("h1", {}, org.name),
    h("p", { class: "muted" }, `You are ${ROLE_WORDS[ctx.state.role] || "a platform administrator"} here · status: ${org.status}`),
    h("section", { class: "card", "aria-labelledby": "owner-title" },
      h("h2", { id: "owner-title" }, "Owner"),
      h("p", { class: "owner" }, h("strong", {}, owner.display_name), " since ", when(owner.since)),
    ),
  );

  if (may("members:add")) root.append(addForm(ctx, base));
  if (may("invitations:create")) root.append(inviteForm(ctx, base, may));

  const list = h("ul", { class: "list", "aria-label": "Members" });
  for (const member of sortTeam(members)) list.append(memberRow(ctx, base, member, myId, may));
  root.append(
    h("section", { "aria-labelledby": "members-title" },
      h("h2", { id: "members-title" }, `Members (${members.length})`),
      list,
    ),
  );
  if (may("invitations:read")) {
    const pending = await pendingList(ctx, base, may);
    if (pending) root.append(pending);
  }
}

function addForm(ctx, base) {
  const email = field("Email of the person to add", { name: "email", type: "email", required: true });
  const submit = h("button", { type: "submit" }, "Add member");
  const error = errorSlot(email.input);
  const form = h("form", { class: "card inline-form", "aria-labelledby": "add-title" },
    h("h2", { id: "add-title" }, "Add a member"),
    h("p", { class: "muted" }, "They need an account already; they join as a member."),
    email.wrap, submit, error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      await client.api("POST", `${base}/members`, { email: email.input.value });
      ctx.say(`${email.input.value} was added.`);
      ctx.go("team");
    });
  });
  return form;
}

function memberRow(ctx, base, member, myId, may) {
  const self = member.user_id === myId;
  const row = h("li", { class: "row", "data-user": member.user_id });
  row.append(
    h("div", { class: "grow" },
      h("strong", { class: "member-name" }, member.display_name),
      self ? " (you)" : "",
      " ",
      h("span", { class: `badge role-${member.role}` }, member.role),
      h("span", { class: "muted small" }, " member since ", when(member.added_at)),
    ),
  );
  const actions = h("div", { class: "actions" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const confirm = h("div", { class: "confirm", hidden: true });
  const act = (label, run, message) => {
    const control = button(label, () =>
      busy(control, error, async () => {
        await run();
        ctx.say(message);
        await ctx.reload();
        ctx.go("team");
      }),
    );
    control.setAttribute("aria-label", `${label}: ${member.display_name}`);
    return control;
  };
  const name = member.display_name;
  if (member.role === "member" && may("admins:grant")) {
    actions.append(act("Make admin", () => client.api("POST", `${base}/admins`, { user_id: member.user_id }), `${name} is now an admin.`));
  }
  if (member.role === "admin" && may("admins:revoke") && !self) {
    actions.append(act("Revoke admin", () => client.api("DELETE", `${base}/admins/${member.user_id}`), `${name} is no longer an admin.`));
  }
  if (member.role !== "owner" && may("ownership:transfer")) {
    const open = button("Make owner…", () => {
      clear(confirm);
      const yes = act("Confirm transfer", () => client.api("POST", `${base}/transfer-ownership`, { user_id: member.user_id }), `${name} is now the owner.`);
      const no = button("Cancel", () => {
        confirm.hidden = true;
        open.focus();
      });
      confirm.append(
        h("p", {}, `Hand the ownership of ${ctx.state.organization.name} to ${name}? You stay an admin, and only the new owner can give it back.`),
        yes,
        no,
      );
      confirm.hidden = false;
      yes.focus();
    });
    open.setAttribute("aria-label", `Make owner: ${name}`);
    actions.append(open);
  }
  const removable = member.role === "member" ? may("members:remove") : member.role === "admin" && may("admins:revoke");
  if (self && member.role !== "owner") {
    actions.append(act("Leave", async () => {
      await client.api("DELETE", `${base}/members/${member.user_id}`);
    }, `You left ${ctx.state.organization.name}.`));
  } else if (!self && member.role !== "owner" && removable) {
    actions.append(act("Remove", () => client.api("DELETE", `${base}/members/${member.user_id}`), `${name} was removed.`));
  }
  if (actions.childElementCount) row.append(actions);
  row.append(confirm, error);
  showError(error, null);
  return row;
}
