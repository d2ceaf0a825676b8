"""A person's own API tokens in the account dialog: a name the server refuses is explained;
a new token is shown once, to copy, and works against the API; the list shows it; revoking
one (confirmed first, from the keyboard too) makes the API refuse it, and one revoked
elsewhere meanwhile just leaves the list. Screenshots at phone size, light and dark."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Browser, Page, expect

from tests.browser.support import (
    BROWSER_TESTS,
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    RestartableServer,
    log_in,
    person,
    settle,
    unlabelled_controls,
)

pytestmark = BROWSER_TESTS


async def open_account(page: Page) -> None:
    """At phone size: the account button is in the drawer, which may be closed (or closing)."""
    if not await page.locator(".shell.show-sidebar").count():
        await page.get_by_role("button", name="Rooms", exact=True).click()
    await page.get_by_role("button", name="Your account").click()


async def me_with(url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        return await http.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})


async def inputs_holding(page: Page, text: str) -> int:
    count: int = await page.evaluate(
        "(text) => [...document.querySelectorAll('input')].filter((el) => el.value === text).length", text
    )
    return count


async def test_api_tokens_are_made_shown_once_listed_and_revoked(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    ada = await person(url, "ada", "Ada Lovelace")
    context = await browser.new_context(viewport=PHONE)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = await context.new_page()
    await log_in(page, url, "ada")
    await open_account(page)
    account = page.get_by_role("dialog", name="Your account")
    tokens = account.locator("#api-tokens")
    await expect(tokens).to_have_text("You have no API tokens.")

    # What the server refuses is said beside its field, which takes the focus.
    name = account.get_by_label("Name", exact=True)
    days = account.get_by_label("Days until it expires")
    create = account.get_by_role("button", name="Create token")
    await name.fill("x" * 101)
    await create.click()
    name_error = account.locator(".token-form .field-error").first
    await expect(name_error).to_have_text("Name must be at most 100 characters.")
    await expect(name).to_be_focused()
    await expect(name).to_have_attribute("aria-invalid", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.emulate_media(color_scheme="dark")
    await name.scroll_into_view_if_needed()
    await settle(page)
    await page.screenshot(path=SCREENSHOTS / "token-error-phone-dark.png")
    await name.fill("CI notifications")
    await days.fill("0")
    await create.click()
    await expect(account.locator(".token-form .field-error").nth(1)).to_have_text(
        "Days until it expires must be at least 1."
    )
    await expect(days).to_be_focused()
    await expect(name_error).to_be_empty()
    assert await ada.call("GET", "/api/me/tokens") == []

    # Made: its text in a read-only field with a Copy button, said to be shown this once.
    await days.fill("30")
    await create.click()
    shown = account.get_by_label("New token CI notifications")
    await expect(shown).to_be_focused()
    await expect(shown).to_have_attribute("readonly", "")
    await expect(account.get_by_role("status").filter(has_text="created")).to_have_text(
        "Token “CI notifications” created."
    )
    await expect(shown).to_have_accessible_description(re.compile("^Copy it now: it won't be shown again."))
    await expect(name).to_have_value("")
    token = await shown.input_value()
    assert token.startswith("hbb_")
    await account.get_by_role("button", name="Copy the new token").click()
    await expect(account.locator(".token-copied")).to_have_text("Copied.")
    assert await page.evaluate("navigator.clipboard.readText()") == token
    assert await unlabelled_controls(page) == []
    [listed] = await ada.call("GET", "/api/me/tokens")
    assert listed["name"] == "CI notifications"
    row = tokens.locator(".token", has_text="CI notifications")
    await expect(row.locator(".device-meta")).to_contain_text("Created just now · Never used · Expires ")
    await expect(row.locator("time").last).to_have_attribute("datetime", listed["expires_at"])

    for scheme, viewport, shot in (
        ("light", PHONE, "tokens-phone-light"),
        ("dark", PHONE, "tokens-phone-dark"),
        ("light", DESKTOP, "tokens-desktop-light"),
    ):
        await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]
        await account.locator(".token-reveal").scroll_into_view_if_needed()
        await settle(page)
        await page.screenshot(path=SCREENSHOTS / f"{shot}.png")
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]

    # It works wherever an access token does.
    answer = await me_with(url, token)
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == "ada"

    # Done hides it; the dialog opened again never shows it, and lists it as used.
    await account.get_by_role("button", name="Done").click()
    await expect(account.locator(".token-reveal")).to_have_count(0)
    await expect(name).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(account).to_have_count(0)
    await ada.call("POST", "/api/me/tokens", json={"name": "deploy script"})
    await open_account(page)
    rows = tokens.locator(".token")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("deploy script")  # newest first
    await expect(rows.first.locator(".device-meta")).to_have_text(
        "Created just now · Never used · Never expires"
    )
    await expect(row.locator(".device-meta")).to_contain_text("Last used just now")
    assert await inputs_holding(page, token) == 0

    # Revoked elsewhere meanwhile: revoking it here (confirmed) just takes it off the list.
    deploy = next(t for t in await ada.call("GET", "/api/me/tokens") if t["name"] == "deploy script")
    await ada.call("DELETE", f"/api/me/tokens/{deploy['id']}")
    await rows.first.get_by_role("button", name="Revoke deploy script").click()
    confirm = page.get_by_role("dialog", name="Revoke this token?")
    await expect(confirm).to_contain_text("“deploy script” stops working at once")
    await confirm.get_by_role("button", name="Revoke").click()
    await expect(rows).to_have_count(1)
    await expect(account.get_by_role("status").filter(has_text="revoked")).to_have_text(
        "Token “deploy script” revoked: programs using it are refused from now on."
    )

    # From the keyboard: focus is on the next token's Revoke; Escape keeps it, Enter revokes.
    revoke = row.get_by_role("button", name="Revoke CI notifications")
    await expect(revoke).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(confirm).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(confirm).to_have_count(0)
    await expect(revoke).to_be_focused()
    await expect(rows).to_have_count(1)
    await page.keyboard.press("Enter")
    await expect(confirm.get_by_role("button", name="Revoke")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(tokens).to_have_text("You have no API tokens.")
    await expect(tokens).to_be_focused()
    await expect(account.get_by_role("status").filter(has_text="revoked")).to_have_text(
        "Token “CI notifications” revoked: programs using it are refused from now on."
    )
    refused = await me_with(url, token)
    assert refused.status_code == 401, refused.text
    assert await ada.call("GET", "/api/me/tokens") == []
    await context.close()
