"""A minimal form-filling HTTP client for benchmarks: cookies, hidden fields, radio buttons, redirects."""
from __future__ import annotations

import html
import http.client
import random
import re
import urllib.parse

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"')
INPUT_RE = re.compile(r"<input\b([^>]*)>", re.I)
SKIP_ACTIONS = ("/language", "/logout")


class Browser:
    def __init__(self, base: str):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.requests = 0

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """One request; returns (status, location, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, urllib.parse.quote(path, safe="/?&=%"), body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        self.requests += 1
        return response.status, response.getheader("Location") or "", text

    def get(self, path: str) -> str:
        status, location, body = self.request("GET", path)
        while status in (301, 302, 303) and location:
            status, location, body = self.request("GET", urllib.parse.urlsplit(location).path or "/")
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return body

    def submit(self, page: str, rng: random.Random, extra: dict | None = None) -> tuple[str, str]:
        """Fill the page's main form (hidden fields kept, one radio option per group) and post it.

        Returns (final path, body) after following redirects.
        """
        action, fields, radios = self.main_form(page)
        form = dict(fields)
        for name, values in radios.items():
            form[name] = rng.choice(values)
        form.update(extra or {})
        status, location, body = self.request("POST", action, form)
        path = action
        while status in (301, 302, 303) and location:
            path = urllib.parse.urlsplit(location).path
            status, location, body = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"POST {action} ended with {status}")
        return path, body

    @staticmethod
    def main_form(page: str) -> tuple[str, dict, dict]:
        for attrs, inner in FORM_RE.findall(page):
            attributes = dict(ATTR_RE.findall(attrs))
            action = html.unescape(attributes.get("action", ""))
            if attributes.get("method", "get").lower() != "post" or action.startswith(SKIP_ACTIONS):
                continue
            fields, radios = {}, {}
            for raw in INPUT_RE.findall(inner):
                input_attrs = {k: html.unescape(v) for k, v in ATTR_RE.findall(raw)}
                name, kind = input_attrs.get("name"), input_attrs.get("type", "text")
                if not name:
                    continue
                if kind == "radio":
                    radios.setdefault(name, []).append(input_attrs.get("value", ""))
                elif kind in ("hidden", "text") and "value" in input_attrs:
                    fields[name] = input_attrs["value"]
            return action, fields, radios
        raise RuntimeError("no form on the page")


def sign_in(browser: Browser, username: str, password: str) -> None:
    page = browser.get("/login")
    path, _body = browser.submit(page, random.Random(0), {"username": username, "password": password})
    if path.startswith("/login"):
        raise RuntimeError(f"sign-in as {username} failed")
