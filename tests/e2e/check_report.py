#!/usr/bin/env python3
"""Open a poolscope report's index.html in headless Chromium and check that it is self-contained.

Usage: check_report.py REPORT_DIR [--screenshot OUT.png] [--print-screenshot OUT.png] [--chromium PATH]

Talks the DevTools protocol over --remote-debugging-pipe (standard library only) and fails when:
- the HTML names an http(s) or file URL, or loads anything but data: images (grep of the file);
- the page makes any network request other than the page itself and data: URIs;
- the console shows an error or warning, a script exception happens, or a JavaScript dialog opens
  (an escaped `<script>alert(1)</script>` must stay text);
- a chart image fails to decode (naturalWidth 0) or the verdict, contents or suspects are missing;
- the verdict block is not entirely in the first screen at 1400x900, or the page scrolls
  horizontally at 1000 px wide (issue 10; measured by the DevTools protocol, so the page itself
  still runs no script);
- printing to PDF fails.
REPORT may also be one page of a report (a fleet report's hosts/HOST.html). A fleet index (it has
#fleet-chart) has a verdict table and no contents; its per-host pages are checked like any report.
It saves a full-page screenshot (and one in print media) for a person to look at.
"""

import argparse
import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def fail(message):
    print(f"check_report: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def grep_html(html):
    """Static checks on the file itself."""
    lower = html.lower()
    for banned in ["http://", "https://", "file://", "<script", "<link", "<iframe", "<object", "<embed", "@import", "url("]:
        if banned in lower:
            i = lower.index(banned)
            fail(f"index.html contains {banned!r}: ...{html[max(0, i - 60):i + 60]!r}...")
    for m in re.finditer(r"""\b(?:src|href|srcset|poster|data)\s*=\s*["']([^"']*)""", html, re.I):
        value = m.group(1)
        # A fleet report links its own pages: hosts/HOST.html from the index, ../index.html back.
        own_page = re.fullmatch(r"(?:hosts/[A-Za-z0-9_.-]+|\.\./index)\.html", value)
        if not (value.startswith("data:image/") or value.startswith("#") or own_page):
            fail(f"index.html refers to {value[:80]!r}")


class Browser:
    """A Chromium process driven over the DevTools pipe (fd 3 in, fd 4 out, NUL-separated JSON)."""

    def __init__(self, chromium, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def wire():
            # Move the child's ends to fds 3 and 4 without clobbering one with the other, and clear
            # close-on-exec (Python's pipes are non-inheritable; dup2 onto itself keeps the flag).
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.proc = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(profile) / "chromium.log", "wb"),
            preexec_fn=wire,
            close_fds=False,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_child, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            for reply in self.read(deadline):
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        fail(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self.events.append(reply)
        fail(f"{method}: no reply within {timeout} s")

    def read(self, deadline):
        ready, _, _ = select.select([self.from_child], [], [], max(0.0, deadline - time.time()))
        if not ready:
            return []
        chunk = os.read(self.from_child, 1 << 20)
        if not chunk:
            fail("chromium closed the DevTools pipe (see chromium.log in the profile folder)")
        self.buffer += chunk
        *messages, self.buffer = self.buffer.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in self.events:
                if e.get("method") == method:
                    return e
                if e.get("method") == "Page.javascriptDialogOpening":
                    # alert() blocks the page load: report the cause, not a timeout.
                    fail(f"a JavaScript dialog opened: {e['params'].get('message')!r} (text ran as script)")
            self.events.extend(self.read(deadline))
        fail(f"no {method} within {timeout} s")

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report_dir")
    parser.add_argument("--screenshot")
    parser.add_argument("--print-screenshot")
    parser.add_argument("--screenshot-parts", help="also save the page as 1366x1600 parts into this folder")
    parser.add_argument("--parts-media", default="screen", choices=["screen", "print"], help="media of the parts")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args()

    index = Path(args.report_dir).resolve()
    if index.is_dir():
        index = index / "index.html"
    if not index.is_file():
        fail(f"{index} does not exist")
    html = index.read_text(encoding="utf-8")
    grep_html(html)
    charts = html.count('<img src="data:image/')

    profile = tempfile.mkdtemp(prefix="poolscope-e2e-")
    browser = Browser(args.chromium, profile)
    try:
        targets = browser.send("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        if page is None:
            page = {"targetId": browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]}
        session = browser.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for domain in ["Page", "Runtime", "Log", "Network"]:
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.events.clear()
        url = index.as_uri()
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_event("Page.loadEventFired")
        # Let late console messages and requests arrive.
        end = time.time() + 1.5
        while time.time() < end:
            browser.events.extend(browser.read(end))

        problems = []
        for e in browser.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                target = params["request"]["url"]
                if target != url and not target.startswith("data:"):
                    problems.append(f"network request to {target}")
            elif method == "Runtime.exceptionThrown":
                problems.append(f"script exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                problems.append(f"console {params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                problems.append(f"console {params['entry']['level']}: {params['entry'].get('text')}")
            elif method == "Page.javascriptDialogOpening":
                problems.append(f"a JavaScript dialog opened: {params.get('message')!r} (escaped text ran as script)")
        if problems:
            fail("; ".join(problems))

        probe = """(() => {
            const imgs = [...document.images];
            return JSON.stringify({
                images: imgs.length,
                broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
                sizes: [...new Set(imgs.map(i => i.naturalWidth + 'x' + i.naturalHeight))],
                scripts: document.scripts.length,
                verdict: !!document.querySelector('#verdict .verdict'),
                fleet: !!document.querySelector('#fleet-chart'),
                contents: document.querySelectorAll('nav#contents a').length,
                suspects: !!document.querySelector('#suspects'),
                firstSection: (document.querySelector('main section') || {}).id,
                height: document.documentElement.scrollHeight,
            });
        })()"""
        state = json.loads(browser.send("Runtime.evaluate", {"expression": probe, "returnByValue": True},
                                        session=session)["result"]["value"])
        if state["images"] != charts:
            fail(f"{state['images']} images in the DOM, {charts} in the file")
        if state["broken"]:
            fail(f"charts that did not decode: {state['broken']}")
        if charts and not state["fleet"] and state["sizes"] != ["1200x700"]:
            fail(f"chart sizes {state['sizes']}, expected 1200x700")
        if state["scripts"]:
            fail(f"{state['scripts']} script elements in the DOM")
        if state["fleet"]:
            if not state["verdict"]:
                fail(f"the fleet index has no verdict: {state}")
        elif not (state["verdict"] and state["suspects"] and state["contents"] >= 5):
            fail(f"verdict, contents or suspects missing: {state}")
        if state["firstSection"] != "verdict":
            fail(f"the first section is {state['firstSection']!r}, not the verdict")

        def measure(width, height, expression):
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            return json.loads(browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                           session=session)["result"]["value"])

        # The verdict block (the whole five-line block, flag to evidence) is in the first screen.
        first = measure(1400, 900, """(() => {
            window.scrollTo(0, 0);
            const v = document.querySelector('#verdict .verdict dl.block') || document.querySelector('#verdict .verdict');
            const r = v.getBoundingClientRect();
            return JSON.stringify({top: r.top, bottom: r.bottom, view: window.innerHeight});
        })()""")
        if first["top"] < 0 or first["bottom"] > first["view"]:
            fail(f"the verdict block is not in the first 1400x900 screen: {first}")
        # No horizontal scrolling at 1000 px: wide tables scroll inside their own box, charts shrink.
        narrow = measure(1000, 900, """(() => JSON.stringify({
            scroll: document.documentElement.scrollWidth,
            view: document.documentElement.clientWidth,
            widest: [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .slice(0, 3).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className),
        }))()""")
        if narrow["scroll"] > narrow["view"]:
            fail(f"the page scrolls horizontally at 1000 px: {narrow}")

        def shoot(path, media):
            browser.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
            height = min(int(state["height"]), 16000)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": 1366, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                session=session)
            Path(path).write_bytes(base64.b64decode(shot["data"]))

        if args.screenshot:
            shoot(args.screenshot, "screen")
        if args.screenshot_parts:
            Path(args.screenshot_parts).mkdir(parents=True, exist_ok=True)
            browser.send("Emulation.setEmulatedMedia", {"media": args.parts_media}, session=session)
            for k, top in enumerate(range(0, min(int(state["height"]), 16000), 1600)):
                clip = {"x": 0, "y": top, "width": 1366, "height": 1600, "scale": 1}
                shot = browser.send("Page.captureScreenshot",
                                    {"format": "png", "clip": clip, "captureBeyondViewport": True}, session=session)
                Path(args.screenshot_parts, f"part-{k + 1:02}.png").write_bytes(base64.b64decode(shot["data"]))
        if args.print_screenshot:
            shoot(args.print_screenshot, "print")
        pdf = browser.send("Page.printToPDF", {"printBackground": False}, session=session, timeout=120)
        pdf_bytes = base64.b64decode(pdf["data"])
        if not pdf_bytes.startswith(b"%PDF") or len(pdf_bytes) < 10_000:
            fail("printing to PDF gave no document")
        print(f"check_report: ok: {index}: {charts} charts, {state['contents']} contents entries, "
              f"verdict in the first screen (bottom {first['bottom']:.0f} px of 900), no horizontal scroll "
              f"at 1000 px, no network requests, no console errors, PDF {len(pdf_bytes) // 1024} KiB")
    finally:
        browser.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
