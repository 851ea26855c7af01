"""Helpers for browser tests of the staff screens."""
from __future__ import annotations


def csp_watch(page) -> list[str]:
    """Collect the console's Content-Security-Policy complaints while the test runs."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text else None)
    return problems


def login(page, base, username):
    """Sign in as a demo account and land on the dashboard."""
    page.goto(base + "/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")
