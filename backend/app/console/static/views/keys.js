// The active organization's API keys: list, create (the key is shown once), revoke.

import * as client from "../api.js";
import { busy, button, errorSlot, field, h, nextId, when } from "../dom.js";

export async function render(root, ctx) {
  const org = ctx.state.organization;
  const base = `/organizations/${org.id}/api-keys`;
  const may = (p) => ctx.state.permissions.has(p);
  const keys = await client.all(base);
  root.append(
    h("h1", {}, `API keys of ${org.name}`),
    h("p", { class: "muted" }, "A key lets another backend act on this organization with the permissions you give it."),
  );
  if (may("api_keys:create")) root.append(createForm(ctx, base));
  const list = h("ul", { class: "list", "aria-label": "API keys" });
  if (!keys.length) root.append(h("p", {}, "No API keys yet."));
  for (const key of keys) {
    const row = h("li", { class: "row", "data-key": key.id },
      h("div", { class: "grow" },
        h("strong", {}, key.name), " ", h("code", {}, `tnc_${key.prefix}_…`),
        key.revoked_at ? h("span", { class: "badge" }, "revoked") : null,
        h("p", { class: "muted small" }, key.permissions.join(", ")),
        h("p", { class: "muted small" }, "created ", when(key.created_at), " · expires ", key.expires_at ? when(key.expires_at) : "never",
          " · last used ", key.last_used_at ? when(key.last_used_at) : "never"),
      ),
    );
    if (!key.revoked_at && may("api_keys:revoke")) {
      const revoke = button("Revoke", null, { "aria-label": `Revoke the key ${key.name}` });
      const error = errorSlot(revoke);
      revoke.addEventListener("click", () => busy(revoke, error, async () => {
        await client.api("DELETE", `${base}/${key.id}`);
        ctx.say(`The key ${key.name} was revoked.`);
        ctx.go("keys");
      }));
      row.append(revoke, error);
    }
    list.append(row);
  }
  root.append(list);
}

function createForm(ctx, base) {
  const name = field("Key name", { name: "name", required: true, maxlength: 100 });
  const expires = field("Expires (optional)", { name: "expires_at", type: "datetime-local" });
  const boxes = [...ctx.state.permissions].map((permission) => {
    const id = nextId("perm");
    const box = h("input", { type: "checkbox", id, value: permission });
    return { box, wrap: h("div", { class: "check" }, box, h("label", { for: id }, permission)) };
  });
  const submit = h("button", { type: "submit" }, "Create key");
  const error = errorSlot(submit);
  const shown = h("div", { class: "secret", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-labelledby": "newkey-title" },
    h("h2", { id: "newkey-title" }, "Create a key"),
    name.wrap,
    h("fieldset", {}, h("legend", {}, "Permissions (at most your own)"), boxes.map((b) => b.wrap)),
    expires.wrap, submit, error, shown,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      const body = { name: name.input.value, permissions: boxes.filter((b) => b.box.checked).map((b) => b.box.value) };
      if (expires.input.value) body.expires_at = new Date(expires.input.value).toISOString();
      const created = await client.api("POST", base, body);
      shown.replaceChildren(
        h("p", {}, "Copy the key now — it is shown only this once:"),
        h("output", { class: "key" }, created.key),
        button("Done", () => ctx.go("keys")),
      );
    });
  });
  return form;
}
