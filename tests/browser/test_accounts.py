"""Signing up, logging in and out, and a clear message for each refusal the API gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from api.config import Settings
from tests.browser.support import BROWSER_TESTS, PASSWORD, RestartableServer, expect_connected, log_in, person
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
    await expect(signup.locator(".field-error").first).to_have_text(
        "Use 3–32 letters, digits, dots, dashes or underscores (no spaces)."
    )
    await expect(signup.locator(".field-error").nth(2)).to_have_text("Use at least 8 characters.")
    await expect(signup.get_by_label("Username")).to_be_focused()
    await signup.get_by_label("Username").fill("TAKEN")
    await signup.get_by_label("Password").fill(PASSWORD)
    await signup.get_by_role("button", name="Create account").click()
    await expect(signup.locator(".field-error").first).to_have_text(
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
