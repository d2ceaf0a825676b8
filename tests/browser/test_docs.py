"""The admin console: /docs and /redoc work with no other origin reachable.

Every request the pages make to another origin is refused by the test (as on a machine
without internet access) and recorded: there must be none. Screenshots go to
test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import json
import re

from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Route, expect

from tests.browser.support import BROWSER_TESTS, PASSWORD, RestartableServer, person
from tests.servers import ROOT

pytestmark = BROWSER_TESTS

_REFUSED = re.compile(r"^Loading the \w+ '([^']+)' violates the following Content Security Policy")

SCREENSHOTS = ROOT / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


class Offline:
    """A browser context that can reach only Hubbub, and notes what the page complains of."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.elsewhere: list[str] = []
        self.errors: list[str] = []
        self.refused_by_policy: list[str] = []

    async def attach(self, context: BrowserContext) -> None:
        await context.route("**/*", self._route)

    async def _route(self, route: Route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            await route.continue_()
        else:
            self.elsewhere.append(url)
            await route.abort("internetdisconnected")

    def watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type != "error":
                return
            refused = _REFUSED.search(message.text)
            if refused and not refused[1].startswith(self.origin):
                self.refused_by_policy.append(refused[1])  # the page's policy kept it offline
            else:
                self.errors.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))


async def test_an_admin_logs_in_on_docs_and_reads_the_stats(
    browser: Browser, server: RestartableServer
) -> None:
    url = server.http_url
    root = await person(url, "root", "Root Admin")
    await server.make_admin(root.id)
    room = await root.create_room("general")
    await root.say(room, "one", "two", "three")

    offline = Offline(url)
    context = await browser.new_context(viewport=DESKTOP)
    await offline.attach(context)
    page = await context.new_page()
    offline.watch(page)
    await page.goto(url + "/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Hubbub")
    admin_tag = page.locator("#operations-tag-admin")
    await expect(admin_tag).to_be_visible()
    # Tags in their order: administration first.
    tags = await page.locator(".opblock-tag-section h3 .nostyle span").all_inner_texts()
    assert tags[:2] == ["admin", "auth"], tags

    await page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".modal-ux")
    await dialog.locator("#oauth_username").fill("root")
    await dialog.locator("#oauth_password").fill(PASSWORD)
    await dialog.locator("button.modal-btn.authorize").click()
    await expect(dialog.locator("button.modal-btn", has_text="Logout")).to_be_visible()
    await page.screenshot(path=SCREENSHOTS / "docs-authorized.png")
    await dialog.locator("button.modal-btn", has_text="Close").click()

    stats = page.locator("#operations-admin-stats_api_admin_stats_get")
    await stats.locator(".opblock-summary").click()
    await stats.get_by_role("button", name="Try it out").click()
    await stats.get_by_role("button", name="Execute").click()
    live = stats.locator(".live-responses-table")
    await expect(live.locator("tbody .response-col_status").first).to_have_text("200")
    body = json.loads(await live.locator("tbody .response-col_description pre").first.inner_text())
    assert body == {"users": 1, "rooms": 1, "messages": 3, "connections": 0}
    await stats.scroll_into_view_if_needed()
    await page.screenshot(path=SCREENSHOTS / "docs-stats.png", full_page=False)

    # The OAuth2 redirect page runs under its policy and hands a token back to its opener.
    handed_back = await page.evaluate(
        """() => new Promise((resolve) => {
            window.swaggerUIRedirectOauth2 = {
                state: 'st4te', redirectUrl: location.origin + '/docs/oauth2-redirect',
                auth: { name: 'test', schema: { get: () => 'implicit' } },
                callback: (result) => resolve(result.token.access_token + ' ' + result.isValid),
                errCb: (error) => resolve('error: ' + error.message),
            };
            window.open('/docs/oauth2-redirect#access_token=t0ken&state=st4te');
        })"""
    )
    assert handed_back == "t0ken true"

    assert offline.elsewhere == []
    assert offline.errors == []
    assert offline.refused_by_policy == []
    await context.close()


async def test_redoc_renders_the_operations(browser: Browser, server: RestartableServer) -> None:
    url = server.http_url
    offline = Offline(url)
    context = await browser.new_context(viewport=DESKTOP)
    await offline.attach(context)
    page = await context.new_page()
    offline.watch(page)
    await page.goto(url + "/redoc")
    await expect(page.get_by_role("heading", name="Read the audit log")).to_be_visible(timeout=20_000)
    await expect(page.get_by_role("heading", name="Send a message")).to_be_attached()
    await expect(page.locator("h1").first).to_contain_text("Hubbub")
    await page.screenshot(path=SCREENSHOTS / "redoc.png")
    assert offline.elsewhere == []
    assert offline.errors == []
    # ReDoc's sidebar credit shows Redocly's logo from their CDN, and hides it when it
    # cannot load: the page's policy refuses it before any request leaves.
    assert offline.refused_by_policy in ([], ["https://cdn.redoc.ly/redoc/logo-mini.svg"])
    await context.close()
