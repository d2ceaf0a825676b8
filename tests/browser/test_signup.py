"""Who may sign up follows the server's setting: an invite link fills the code in, a
missing or spent code is explained, and a closed server says whom to ask."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from api.config import Settings
from tests.browser.support import BROWSER_TESTS, DESKTOP, PASSWORD, RestartableServer
from tests.conftest import make_settings

pytestmark = BROWSER_TESTS


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, signup="invite")


async def test_invite_only_signup_with_a_link_and_a_closed_server(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    admin = await server.create_admin("root", "Site Admin")
    invite = await admin.call("POST", "/api/admin/invites", json={"uses": 1})

    # The link opens the sign-up form with the code filled in, and takes the code out of
    # the address bar.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(f"{url}/#invite={invite['code']}")
    form = page.locator("#signup-panel")
    await expect(page.get_by_role("tab", name="Create account")).to_have_attribute("aria-selected", "true")
    await expect(form.get_by_label("Invite code")).to_have_value(invite["code"])
    assert invite["code"] not in page.url
    await form.get_by_label("Username").fill("newcomer")
    await form.get_by_label("Display name").fill("New Comer")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create account").click()
    await expect(page.locator(".sidebar .me-name")).to_have_text("New Comer")
    await context.close()

    # Without a link: the form asks for a code, and says why a spent one does not work.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_role("tab", name="Create account").click()
    form = page.locator("#signup-panel")
    code = form.get_by_label("Invite code")
    await expect(code).to_be_visible()
    await form.get_by_label("Username").fill("latecomer")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create account").click()
    await expect(form.get_by_text("Paste the invite code (or link) you were given.")).to_be_visible()
    await expect(code).to_be_focused()
    await code.fill(f"{url}/#invite={invite['code']}")  # a pasted link works as well as its code
    await form.get_by_role("button", name="Create account").click()
    await expect(form.get_by_text("This invite code doesn't work")).to_be_visible()
    await expect(code).to_have_attribute("aria-invalid", "true")

    # The same database behind a server with signup closed: no form, whom to ask instead.
    closed = RestartableServer(server.settings.model_copy(update={"signup": "closed"}))
    await closed.start()
    try:
        await page.goto(closed.http_url + "/")
        await page.get_by_role("tab", name="Create account").click()
        panel = page.get_by_role("tabpanel", name="Create account")
        await expect(panel.get_by_text("Sign-up is closed on this server")).to_be_visible()
        await expect(panel.get_by_text("Ask an administrator to create an account for you")).to_be_visible()
        await expect(panel.get_by_label("Username")).to_be_hidden()
    finally:
        await closed.stop()
    await context.close()
