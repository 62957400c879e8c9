"""The console's pages behind links in email: an invitation answered by a newcomer, a password reset."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

# Fixtures by import: a conftest.py here would shadow the suite's own `conftest` module.
from tests.browser.live import PASSWORD, LiveServer, browser_fixture, live_server_fixture, new_page_fixture, snap  # noqa: F401

pytestmark = pytest.mark.browser


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def test_an_invited_newcomer_registers_from_the_link_and_joins(new_page, live_server: LiveServer):
    ada, grace = unique("ada"), unique("grace")
    live_server.register(ada, "Ada", organization="Workshop")
    owner = new_page()
    owner.goto("/console")
    owner.get_by_label("Email").fill(ada)
    owner.get_by_label("Password").fill(PASSWORD)
    owner.get_by_role("button", name="Log in").click()
    owner.get_by_label("Email to invite").fill(grace)
    owner.get_by_label("Role").select_option("admin")
    owner.get_by_role("button", name="Send invitation").click()
    pending = owner.get_by_role("list", name="Pending invitations").get_by_role("listitem")
    expect(pending.filter(has_text=grace)).to_contain_text("admin")
    snap(owner, "team-owner-view")

    invitee = new_page()
    invitee.goto(live_server.latest_link(grace))  # /invitations/accept?token=… → the console
    expect(invitee.get_by_role("heading", name="An invitation")).to_be_visible()
    invitee.get_by_role("link", name="Create an account").click()
    invitee.get_by_label("Email").fill(grace)
    invitee.get_by_label("Your name").fill("Grace")
    invitee.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    invitee.get_by_role("button", name="Create account").click()
    # Registering with the invitation joins at once; her only organization opens.
    expect(invitee.get_by_role("heading", name="Workshop", level=1)).to_be_visible()
    grace_row = invitee.get_by_role("list", name="Members").get_by_role("listitem").filter(has_text="Grace")
    expect(grace_row.locator(".badge")).to_have_text("admin")
    assert invitee.errors == []


def test_a_forgotten_password_is_reset_from_the_link(new_page, live_server: LiveServer):
    ada = unique("ada")
    live_server.register(ada, "Ada")
    page = new_page()
    page.goto("/console")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(ada)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("status").filter(has_text="a link to reset its password is on its way")).to_be_visible()

    page.goto(live_server.latest_link(ada))  # /reset-password?token=… → the console
    new_password = "a brand new passphrase 2026"
    page.get_by_label("New password (at least 12 characters)").fill(new_password)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#notice")).to_have_text("Your password was changed. Log in with the new one.")
    page.get_by_label("Email").fill(ada)
    page.get_by_label("Password").fill(new_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    # The link worked once.
    page.goto(live_server.latest_link(ada))
    page.get_by_label("New password (at least 12 characters)").fill("yet another passphrase 99")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_have_text("This link is invalid, already used or expired. Ask for a new one.")


def test_an_email_address_is_verified_from_the_link(new_page, live_server: LiveServer):
    ada = unique("ada")
    live_server.register(ada, "Ada")
    page = new_page()
    page.goto("/console")
    page.get_by_label("Email").fill(ada)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Your email address {ada} is not verified yet.")).to_be_visible()
    page.get_by_role("button", name="Send a new link").click()
    expect(page.get_by_role("status").filter(has_text="A new link is on its way")).to_be_visible()

    page.goto(live_server.latest_link(ada))  # /verify-email?token=… → the console
    expect(page.get_by_role("status").filter(has_text=f"{ada} is verified.")).to_be_visible()
    page.get_by_role("link", name="Continue to the console").click()
    expect(page.get_by_role("heading", name="Your organizations")).to_be_visible()
    expect(page.get_by_text("is not verified yet")).to_have_count(0)
