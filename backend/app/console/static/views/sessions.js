// My sessions ("devices"), with revoke.

import * as client from "../api.js";
import { busy, button, errorSlot, h, when } from "../dom.js";

function device(agent) {
  if (!agent) return "Unknown device";
  const browser = /Edg\//.test(agent) ? "Edge" : /Chrom(e|ium)\//.test(agent) ? "Chromium-based browser"
    : /Firefox\//.test(agent) ? "Firefox" : /Safari\//.test(agent) ? "Safari" : null;
  return browser ? `${browser} — ${agent.slice(0, 60)}` : agent.slice(0, 80);
}

export async function render(root, ctx) {
  const sessions = await client.all("/auth/sessions");
  root.append(
    h("h1", {}, "Your sessions"),
    h("p", { class: "muted" }, "Every place you are logged in. Revoking one logs it out at its next request."),
  );
  const list = h("ul", { class: "list", "aria-label": "Sessions" });
  for (const session of sessions) {
    const row = h("li", { class: "row", "data-session": session.id },
      h("div", { class: "grow" },
        h("strong", {}, device(session.user_agent)),
        session.current ? h("span", { class: "badge" }, "this browser") : null,
        h("p", { class: "muted small" }, "Logged in ", when(session.created_at), " · last refreshed ", when(session.last_used_at)),
      ),
    );
    const revoke = button(session.current ? "Log out here" : "Revoke", null, {
      "aria-label": session.current ? "Log out here (this browser)" : `Revoke the session started ${new Date(session.created_at).toLocaleString()}`,
    });
    const error = errorSlot(revoke);
    revoke.addEventListener("click", () => busy(revoke, error, async () => {
      await client.api("DELETE", `/auth/sessions/${session.id}`);
      if (session.current) {
        await client.logOut().catch(() => undefined);
        ctx.state.me = null;
        ctx.say("You are logged out.");
        ctx.go("login");
        return;
      }
      ctx.say("The session was revoked.");
      ctx.go("sessions");
    }));
    row.append(revoke, error);
    list.append(row);
  }
  root.append(list);
}
