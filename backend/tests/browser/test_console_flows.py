"""The console in a real browser: log in, switch, manage the team, history, as-of, errors."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

# Fixtures by import: a conftest.py here would shadow the suite's own `conftest` module.
from tests.browser.live import PASSWORD, LiveServer, browser_fixture, live_server_fixture, new_page_fixture, snap  # noqa: F401

pytestmark = pytest.mark.browser


def unique(name: str) -> str:
    return f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"


def log_in(page: Any, email: str) -> None:
    page.goto("/console")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_log_in_and_switch_organization(new_page, live_server: LiveServer):
    email = unique("ada")
    live_server.register(email, "Ada", organization="Analytical Engines")
    token = live_server.token(email)
    assert live_server.call(token, "POST", "/organizations", json={"name": "Difference Engines"}).status_code == 201

    page = new_page()
    log_in(page, email)
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
    rows = page.get_by_role("list", name="Your organizations").get_by_role("listitem")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Analytical Engines")).to_contain_text("owner")
    snap(page, "organizations")
    page.get_by_role("button", name="Switch to Difference Engines").click()
    expect(page.get_by_role("heading", name="Difference Engines", level=1)).to_be_visible()
    expect(page.locator("#nav")).to_contain_text("Difference Engines")
    # A reload keeps the session (cookie) and its organization, with a fresh in-memory token.
    page.reload()
    expect(page.get_by_role("heading", name="Difference Engines", level=1)).to_be_visible()
    page.get_by_role("link", name="Organizations").click()
    page.get_by_role("button", name="Switch to Analytical Engines").click()
    expect(page.get_by_role("heading", name="Analytical Engines", level=1)).to_be_visible()
    assert page.errors == []


def member_row(page: Any, name: str) -> Any:
    return page.get_by_role("list", name="Members").get_by_role("listitem").filter(has_text=name)


def role_of(page: Any, name: str) -> Any:
    return member_row(page, name).locator(".badge")


def test_add_member_grant_admin_and_transfer_ownership(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    live_server.register(ada, "Ada", organization="Engines")
    live_server.register(grace, "Grace")

    page = new_page()
    log_in(page, ada)
    expect(page.get_by_role("heading", name="Engines", level=1)).to_be_visible()
    page.get_by_label("Email of the person to add").fill(grace)
    page.get_by_role("button", name="Add member").click()
    expect(role_of(page, "Grace")).to_have_text("member")

    page.get_by_role("button", name="Make admin: Grace").click()
    expect(role_of(page, "Grace")).to_have_text("admin")

    # Transfer needs a confirmation step; Cancel leaves everything as it was.
    page.get_by_role("button", name="Make owner: Grace").click()
    confirm = member_row(page, "Grace").locator(".confirm")
    expect(confirm).to_contain_text("Hand the ownership of Engines to Grace?")
    snap(page, "team-transfer-confirmation")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    page.get_by_role("button", name="Make owner: Grace").click()
    page.get_by_role("button", name="Confirm transfer: Grace").click()
    expect(page.locator(".owner")).to_contain_text("Grace")
    expect(role_of(page, "Ada")).to_have_text("admin")
    # Ada is an admin now: no more ownership or admin controls, and she may leave.
    expect(page.get_by_role("button", name=re.compile("Make owner"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Revoke admin"))).to_have_count(0)
    expect(member_row(page, "Ada").get_by_role("button", name="Leave: Ada")).to_be_visible()
    assert page.errors == []


def test_history_timeline_and_team_as_of(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    org = live_server.register(ada, "Ada", organization="Looms")["organization"]["id"]
    grace_id = live_server.register(grace, "Grace")["user"]["id"]
    token = live_server.token(ada)
    assert live_server.call(token, "POST", f"/organizations/{org}/members", json={"email": grace}).status_code == 201
    assert (
        live_server.call(token, "POST", f"/organizations/{org}/admins", json={"user_id": grace_id}).status_code == 201
    )

    page = new_page()
    log_in(page, ada)
    page.get_by_role("link", name="History").click()
    timeline = page.get_by_role("list", name="Events, newest first")
    events = timeline.get_by_role("listitem")
    expect(events.first).to_contain_text("Ada made Grace an admin.")
    expect(events.nth(1)).to_contain_text("Ada added Grace as a member.")
    expect(timeline).to_contain_text("Ada created the organization “Looms”.")

    # The team as of the moment Grace was added: a member, not yet an admin.
    events.nth(1).get_by_role("button", name=re.compile("Team right after this event")).click()
    at_that_moment = page.get_by_role("list", name="Members at that moment")
    expect(at_that_moment.get_by_role("listitem")).to_have_count(2)
    expect(at_that_moment.get_by_role("listitem").filter(has_text="Grace")).to_contain_text("member")
    snap(page, "history-and-as-of")
    # Through the form: a moment long before the organization existed.
    page.get_by_label("Show the team as of").fill("2001-01-01T00:00:00")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator(".as-of-result")).to_contain_text("The organization did not exist yet.")
    expect(page.locator(".as-of-result")).to_contain_text("No members at that moment.")
    assert page.errors == []


def test_a_conflict_is_shown_in_words_next_to_its_control(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    org = live_server.register(ada, "Ada", organization="Mills")["organization"]["id"]
    live_server.register(grace, "Grace")
    token = live_server.token(ada)
    assert live_server.call(token, "POST", f"/organizations/{org}/members", json={"email": grace}).status_code == 201

    page = new_page()
    log_in(page, ada)
    field = page.get_by_label("Email of the person to add")
    field.fill(grace)
    page.get_by_role("button", name="Add member").click()
    error = page.locator(f"#{field.get_attribute('aria-describedby')}")
    expect(error).to_have_text("This person is already a member of the organization.")
    expect(error).to_have_attribute("role", "alert")
    snap(page, "error-in-words")
    # A login error is in words too.
    other = new_page()
    other.goto("/console")
    other.get_by_label("Email").fill(ada)
    other.get_by_label("Password").fill("not the password, clearly")
    other.get_by_role("button", name="Log in").click()
    expect(other.get_by_role("alert")).to_have_text("Wrong email or password.")


def test_a_member_sees_no_admin_controls(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    org = live_server.register(ada, "Ada", organization="Forges")["organization"]["id"]
    live_server.register(grace, "Grace")
    token = live_server.token(ada)
    assert live_server.call(token, "POST", f"/organizations/{org}/members", json={"email": grace}).status_code == 201

    page = new_page(width=360, height=740)
    log_in(page, grace)  # her only organization opens at once
    expect(page.get_by_role("heading", name="Forges", level=1)).to_be_visible()
    expect(role_of(page, "Ada")).to_have_text("owner")
    expect(page.get_by_label("Email of the person to add")).to_have_count(0)
    for control in ("Make admin", "Revoke admin", "Make owner", "Remove"):
        expect(page.get_by_role("button", name=re.compile(control))).to_have_count(0)
    expect(page.get_by_role("link", name="History")).to_have_count(0)
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)
    expect(member_row(page, "Grace").get_by_role("button", name="Leave: Grace")).to_be_visible()
    # Readable at 360 px: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    snap(page, "member-view-360px")


def test_revoking_a_session_logs_the_other_browser_out_at_its_next_action(new_page, live_server: LiveServer):
    ada = unique("ada")
    live_server.register(ada, "Ada", organization="Presses")
    laptop, phone = new_page(), new_page(width=360, height=740)
    log_in(laptop, ada)
    log_in(phone, ada)

    laptop.get_by_role("link", name="Sessions").click()
    sessions = laptop.get_by_role("list", name="Sessions").get_by_role("listitem")
    expect(sessions).to_have_count(2)
    expect(sessions.filter(has_text="this browser")).to_have_count(1)
    snap(laptop, "sessions")
    sessions.filter(has_not_text="this browser").get_by_role("button", name=re.compile("Revoke")).click()
    expect(laptop.get_by_role("list", name="Sessions").get_by_role("listitem")).to_have_count(1)

    # The phone still shows its page; its next action finds the session ended.
    phone.get_by_role("link", name="Organizations").click()
    expect(phone.get_by_role("heading", name="Log in")).to_be_visible()
    expect(phone.locator("#notice")).to_have_text("Your session has ended. Please log in again.")
    # The laptop carries on.
    laptop.get_by_role("link", name="Team").click()
    expect(laptop.get_by_role("heading", name="Presses", level=1)).to_be_visible()


def test_a_newcomer_registers_and_creates_an_organization(new_page, live_server: LiveServer):
    page = new_page()
    page.goto("/console")
    snap(page, "log-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill(unique("newcomer"))
    page.get_by_label("Your name").fill("Newcomer")
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
    page.get_by_label("Name").fill("First Steps")
    page.get_by_role("button", name="Create and open").click()
    expect(page.get_by_role("heading", name="First Steps", level=1)).to_be_visible()
    expect(page.locator(".owner")).to_contain_text("Newcomer")
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # Logged out for real: a reload does not bring the session back.
    page.reload()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.errors == []


def test_api_keys_are_created_shown_once_and_revoked(new_page, live_server: LiveServer):
    ada = unique("ada")
    live_server.register(ada, "Ada", organization="Key Works")
    page = new_page()
    log_in(page, ada)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("billing backend")
    page.get_by_label("members:read").check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("output.key")
    expect(key).to_have_text(re.compile(r"^tnc_"))
    snap(page, "api-keys")
    page.get_by_role("button", name="Done").click()
    row = page.get_by_role("list", name="API keys").get_by_role("listitem").filter(has_text="billing backend")
    expect(row).to_contain_text("members:read")
    expect(page.locator("output.key")).to_have_count(0)  # never shown again
    row.get_by_role("button", name="Revoke the key billing backend").click()
    expect(page.locator("#notice")).to_have_text("The key billing backend was revoked.")
    assert page.errors == []


def test_the_keyboard_is_enough(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    org = live_server.register(ada, "Ada", organization="Keys Only")["organization"]["id"]
    live_server.register(grace, "Grace")
    token = live_server.token(ada)
    assert live_server.call(token, "POST", f"/organizations/{org}/members", json={"email": grace}).status_code == 201

    page = new_page()
    page.goto("/console")
    expect(page.get_by_label("Email")).to_be_focused()  # the first field has the focus
    page.keyboard.type(ada)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Keys Only", level=1)).to_be_visible()
    page.get_by_role("button", name="Make owner: Grace").focus()
    page.keyboard.press("Enter")
    # The confirmation takes the focus; Cancel gives it back.
    expect(page.get_by_role("button", name="Confirm transfer: Grace")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Make owner: Grace")).to_be_focused()
