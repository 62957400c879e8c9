// My organizations (every one, with my role and its status), switching, creating one.

import * as client from "../api.js";
import { mine as myInvitations } from "./invitations.js";
import { busy, errorSlot, field, h } from "../dom.js";

const STATUS_WORDS = {
  active: "active",
  inactive: "deactivated (read-only)",
  suspended: "suspended",
  archived: "archived",
};

export async function render(root, ctx) {
  const mine = await client.all("/organizations");
  const activeId = ctx.state.organization ? ctx.state.organization.id : null;
  root.append(h("h1", {}, "Your organizations"));
  if (ctx.state.me.user.email_verified === false) root.append(verifyBanner(ctx));
  if (!mine.length) root.append(h("p", {}, "You are not in any organization yet. Create one below."));
  const list = h("ul", { class: "list", "aria-label": "Your organizations" });
  for (const org of mine) {
    const row = h("li", { class: "row", "data-org": org.id });
    const info = h("div", { class: "grow" },
      h("strong", { class: "org-name" }, org.name),
      " ",
      h("span", { class: "badge" }, org.role),
      " ",
      h("span", { class: `status status-${org.status}` }, STATUS_WORDS[org.status] || org.status),
      org.description ? h("p", { class: "muted" }, org.description) : null,
    );
    row.append(info);
    if (org.id === activeId) {
      row.append(h("span", { class: "active-mark" }, "Active"));
    } else {
      const enter = h("button", { type: "button", "aria-label": `Switch to ${org.name}` }, "Switch");
      const error = errorSlot(enter);
      enter.addEventListener("click", () => busy(enter, error, () => ctx.enter(org.id)));
      row.append(enter, error);
    }
    list.append(row);
  }
  root.append(list);
  const invitations = await myInvitations(ctx);
  if (invitations) root.append(invitations);

  const name = field("Name", { name: "name", required: true, maxlength: 100 });
  const submit = h("button", { type: "submit" }, "Create and open");
  const error = errorSlot(submit);
  const form = h("form", { class: "card", "aria-labelledby": "create-org" },
    h("h2", { id: "create-org" }, "Create an organization"),
    h("p", { class: "muted" }, "You become its owner."),
    name.wrap, submit, error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      const created = await client.api("POST", "/organizations", { name: name.input.value });
      await ctx.enter(created.id);
    });
  });
  root.append(form);
}

// An unverified address: say so, and offer a new link (invitations show only once it is verified).
function verifyBanner(ctx) {
  const send = h("button", { type: "button" }, "Send a new link");
  const error = errorSlot(send);
  const done = h("span", { role: "status" });
  send.addEventListener("click", () => busy(send, error, async () => {
    await client.api("POST", "/auth/verify-email/request");
    done.textContent = ` A new link is on its way to ${ctx.state.me.user.email}.`;
  }));
  return h("div", { class: "card" },
    h("p", {}, `Your email address ${ctx.state.me.user.email} is not verified yet.`, done), send, error);
}
