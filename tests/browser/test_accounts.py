"""Signing up, logging in and out, and a clear message for each refusal the API gives."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from api.config import Settings
from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    PASSWORD,
    RestartableServer,
    expect_connected,
    log_in,
    message,
    person,
    send,
)
from tests.conftest import make_settings

pytestmark = BROWSER_TESTS


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, login_max_failures=2)


async def test_account_errors_are_explained(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    await person(url, "taken", "Already Here")
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/")

    # Sign up: checked in the page first, then by the server.
    await page.get_by_role("tab", name="Create account").click()
    signup = page.locator("#signup-panel")
    await signup.get_by_label("Username").fill("no spaces allowed")
    await signup.get_by_label("Password").fill("short")
    await signup.get_by_role("button", name="Create account").click()
    await expect(signup.locator('.field:has(input[name="username"]) .field-error')).to_have_text(
        "Use 3–32 letters, digits, dots, dashes or underscores (no spaces)."
    )
    await expect(signup.locator('.field:has(input[name="password"]) .field-error')).to_have_text(
        "Use at least 8 characters."
    )
    await expect(signup.get_by_label("Username")).to_be_focused()
    await signup.get_by_label("Username").fill("TAKEN")
    await signup.get_by_label("Password").fill(PASSWORD)
    await signup.get_by_role("button", name="Create account").click()
    await expect(signup.locator('.field:has(input[name="username"]) .field-error')).to_have_text(
        "That username is already taken. Pick another one."
    )

    # Log in: a wrong password, then the throttle with its wait.
    await page.get_by_role("tab", name="Log in").click()
    login = page.locator("#login-panel")
    await login.get_by_label("Username").fill("taken")
    for _ in range(2):
        await login.get_by_label("Password").fill("not the password")
        await login.get_by_role("button", name="Log in").click()
        await expect(login.get_by_role("alert")).to_have_text("Wrong username or password.")
    await login.get_by_label("Password").fill(PASSWORD)
    await login.get_by_role("button", name="Log in").click()
    await expect(login.get_by_role("alert")).to_contain_text(
        "Too many failed attempts for this username. Try again in 1"  # 15:00 or 14:59
    )
    await expect(login.get_by_role("button", name="Log in")).to_be_disabled()
    # Another username is not held up.
    await login.get_by_label("Username").fill("nobody")
    await expect(login.get_by_role("button", name="Log in")).to_be_enabled()
    await context.close()


async def test_log_out_and_deactivation(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    admin = await person(url, "root", "Site Admin")
    await server.make_admin(admin.id)
    zed = await person(url, "zed", "Zed")
    room = await admin.create_room("lobby")
    await zed.join(room)

    context = await browser.new_context()
    page = await context.new_page()
    await log_in(page, url, "zed", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)

    # Logging out ends the session here and on the server; a reload stays logged out.
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()

    # Deactivated while the page is open: the socket closes (1008 account_disabled) and
    # the page says why; logging in again gets the same answer.
    await log_in(page, url, "zed", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await admin.call("PATCH", f"/api/admin/users/{zed.id}", json={"is_active": False})
    notice = "This account has been deactivated. Ask an administrator to reactivate it."
    await expect(page.get_by_role("status").filter(has_text="deactivated")).to_have_text(notice)
    login = page.locator("#login-panel")
    await login.get_by_label("Username").fill("zed")
    await login.get_by_label("Password").fill(PASSWORD)
    await login.get_by_role("button", name="Log in").click()
    await expect(login.get_by_role("alert")).to_have_text(notice)
    await context.close()


async def test_the_account_dialog_changes_the_name_and_the_password(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada")
    bob = await person(url, "bob", "Bob")
    room = await ada.create_room("salon")
    await bob.join(room)
    await ada.say(room, "hello from before")
    path = f"/#/rooms/{room['id']}"
    ada_context = await browser.new_context(viewport=DESKTOP)
    bob_context = await browser.new_context(viewport=DESKTOP)
    page = await ada_context.new_page()
    bob_page = await bob_context.new_page()
    await log_in(page, url, "ada", path=path)
    await log_in(bob_page, url, "bob", path=path)
    await expect_connected(page)
    await expect_connected(bob_page)

    # A new display name shows at once here, live on Bob's page, and on what she sends next.
    await page.get_by_role("button", name="Your account").click()
    account = page.get_by_role("dialog", name="Your account")
    name = account.get_by_label("Display name")
    await expect(name).to_be_focused()
    await name.fill("   ")
    await account.get_by_role("button", name="Save name").click()
    await expect(account.get_by_text("Enter the name people should see.")).to_be_visible()
    await name.fill("Ada Lovelace")
    await name.press("Enter")
    await expect(account.get_by_text("Saved. Rooms show your new name.")).to_be_visible()
    await expect(page.locator(".sidebar .me-name")).to_have_text("Ada Lovelace")
    await expect(page.locator("#messages .msg-author").first).to_have_text("Ada Lovelace")
    await expect(bob_page.locator("#messages .msg-author").first).to_have_text("Ada Lovelace")
    await expect(bob_page.locator('.member[data-username="ada"] .member-name')).to_have_text("Ada Lovelace")

    # The password: a wrong current one is refused, a right one revokes the other logins,
    # and this page logs in again with the new password by itself.
    current = account.get_by_label("Current password")
    await current.fill("not my password")
    await account.get_by_label("New password", exact=True).fill("a brand new secret")
    await account.get_by_label("New password, again").fill("a brand new secret")
    await account.get_by_role("button", name="Change password").click()
    await expect(account.get_by_text("That isn't your current password.")).to_be_visible()
    await expect(current).to_be_focused()
    await current.fill(PASSWORD)
    await account.get_by_role("button", name="Change password").click()
    await expect(
        account.get_by_text("Password changed. Your other devices have been logged out.")
    ).to_be_visible()
    async with httpx.AsyncClient(base_url=url) as http:
        spent = await http.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
        assert spent.status_code == 401
    # The page's own new refresh token works (its refresh logic spends it here).
    await page.evaluate("import('/js/session.js').then(({ session }) => session.refresh())")
    await page.keyboard.press("Escape")
    await expect(account).to_have_count(0)
    await expect(page.get_by_role("button", name="Your account")).to_be_focused()
    await send(page, "signed in still")
    confirmed = message(bob_page, "signed in still")
    await expect(confirmed).to_be_visible()
    await expect(confirmed.locator(".msg-author")).to_have_text("Ada Lovelace")

    # Wrong current passwords count as failed logins: the throttle (2 here) stops guessing.
    await page.get_by_role("button", name="Your account").click()
    for _ in range(2):
        await account.get_by_label("Current password").fill("a guess")
        await account.get_by_label("New password", exact=True).fill("another new secret")
        await account.get_by_label("New password, again").fill("another new secret")
        await account.get_by_role("button", name="Change password").click()
        await expect(account.get_by_text("That isn't your current password.")).to_be_visible()
    await account.get_by_role("button", name="Change password").click()
    await expect(account.get_by_text("Too many wrong passwords. Try again in 15 minutes.")).to_be_visible()
    await ada_context.close()
    await bob_context.close()


async def test_log_out_everywhere(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada")
    room = await ada.create_room("salon")
    context = await browser.new_context()
    other_context = await browser.new_context()
    page = await context.new_page()
    other = await other_context.new_page()
    await log_in(page, url, "ada", path=f"/#/rooms/{room['id']}")
    await log_in(other, url, "ada", path=f"/#/rooms/{room['id']}")
    await expect_connected(page)
    await expect_connected(other)

    await page.get_by_role("button", name="Your account").click()
    await (
        page.get_by_role("dialog", name="Your account")
        .get_by_role("button", name="Log out everywhere")
        .click()
    )
    await (
        page.get_by_role("dialog", name="Log out on every device?")
        .get_by_role("button", name="Log out everywhere")
        .click()
    )
    await expect(page.get_by_role("status").filter(has_text="every device")).to_have_text(
        "You logged out on every device."
    )
    # The other device's socket closes (4401 token_revoked) and its refresh fails.
    await expect(other.get_by_role("heading", name="Welcome back")).to_be_visible()
    async with httpx.AsyncClient(base_url=url) as http:
        refreshed = await http.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
        assert refreshed.status_code == 401
    await context.close()
    await other_context.close()


WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


async def test_the_sessions_list_marks_this_device_and_ends_another(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada")  # a login of its own, from a script
    laptop_context = await browser.new_context(viewport=DESKTOP, user_agent=WINDOWS_CHROME)
    phone_context = await browser.new_context(user_agent=IPHONE_SAFARI)
    laptop = await laptop_context.new_page()
    phone = await phone_context.new_page()
    await log_in(laptop, url, "ada")
    await log_in(phone, url, "ada")

    await laptop.get_by_role("button", name="Your account").click()
    account = laptop.get_by_role("dialog", name="Your account")
    devices = account.locator("#sessions .device")
    await expect(devices).to_have_count(3)
    # This device first, said so, and without a button to log itself out.
    this_device = devices.first
    await expect(this_device.locator(".device-name")).to_have_text("Chrome 126 on WindowsThis device")
    await expect(this_device.get_by_role("button")).to_have_count(0)
    iphone = account.locator(".device", has_text="Safari 17 on iPhone")
    await expect(iphone.locator(".device-meta")).to_contain_text("Last used just now")
    await expect(account.locator(".device", has_text="python-httpx")).to_have_count(1)

    await iphone.get_by_role("button", name="Log out Safari 17 on iPhone, last used just now").click()
    await expect(iphone).to_have_count(0)
    await expect(
        account.get_by_role("status").filter(has_text="Safari 17 on iPhone is logged out.")
    ).to_be_visible()
    await expect(devices).to_have_count(2)
    remaining = await ada.call("GET", "/api/users/me/sessions")
    assert len(remaining) == 2
    assert IPHONE_SAFARI not in {s["user_agent"] for s in remaining}

    # The phone cannot refresh its login any more: it ends at its next refresh.
    await phone.evaluate("import('/js/session.js').then(({ session }) => session.refresh()).catch(() => {})")
    await expect(phone.get_by_role("heading", name="Welcome back")).to_be_visible()
    await expect(phone.get_by_role("status").filter(has_text="session")).to_have_text(
        "Your session has ended. Please log in again."
    )
    await laptop_context.close()
    await phone_context.close()
