"""Open a local page in Debian's headless Chromium over the DevTools protocol (on a pipe, so
no port and no extra package): collect console errors, uncaught exceptions, log errors and
every network request, check the images, measure the layout a reader sees (where elements
sit, what is wider than the window), and take a full-page and a first-screens screenshot."""

import base64
import json
import os
import shutil
import subprocess
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
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i => ({
  alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})))"""
# Where each element with an id starts and ends (page coordinates), and every visible element that
# reaches past the right edge of the window (a table or figure the reader would have to scroll to).
LAYOUT_JS = """JSON.stringify({
  bottoms: Object.fromEntries(Array.from(document.querySelectorAll('[id]')).map(
    e => [e.id, e.getBoundingClientRect().bottom + window.scrollY])),
  tops: Object.fromEntries(Array.from(document.querySelectorAll('[id]')).map(
    e => [e.id, e.getBoundingClientRect().top + window.scrollY])),
  too_wide: Array.from(document.querySelectorAll('body *')).filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 0 && r.right > window.innerWidth + 1; }).map(
    e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right)),
  scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth})"""


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevTools:
    """Minimal DevTools protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary, user_data_dir):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire():  # runs in the child: the protocol's fixed descriptors, inheritable
            read_end, write_end = os.dup(to_chrome_r), os.dup(from_chrome_w)  # above 4, so dup2 cannot clobber
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=wire,
            close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError(
                    "Chromium closed the DevTools pipe: " + self.proc.stderr.read().decode(errors="replace")[-2000:]
                )
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=30):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, timeout=30):
        for i, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                return event
            self.events.append(event)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass


def inspect_page(path, screenshot, width=1280, height=800):
    """Load file `path` in a width x height window; return {'images', 'errors', 'requests',
    'title', 'layout'} and write the full page to `screenshot` and its first two screens
    beside it (*.top.png)."""
    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("Chromium not found: install Debian's 'chromium' (deps/apt-packages.txt)")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        tools = DevTools(binary, profile)
        try:
            target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.send(f"{domain}.enable", session=session)
            tools.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session,
            )
            tools.send("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session)
            tools.wait_for("Page.loadEventFired", timeout=60)
            result = tools.send("Runtime.evaluate", {"expression": IMAGES_JS, "returnByValue": True}, session=session)
            images = json.loads(result["result"]["value"])
            title = tools.send(
                "Runtime.evaluate", {"expression": "document.title", "returnByValue": True}, session=session
            )["result"]["value"]
            layout = json.loads(
                tools.send("Runtime.evaluate", {"expression": LAYOUT_JS, "returnByValue": True}, session=session)[
                    "result"
                ]["value"]
            )
            top = tools.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "clip": {"x": 0, "y": 0, "width": width, "height": 2 * height, "scale": 1},
                    "captureBeyondViewport": True,
                },
                session=session,
                timeout=120,
            )
            Path(screenshot).with_suffix(".top.png").write_bytes(base64.b64decode(top["data"]))
            shot = tools.send(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session, timeout=120
            )
            Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
            events = list(tools.events)
        finally:
            tools.close()
    errors, requests = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            errors.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:500])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
        elif method == "Network.loadingFailed":
            errors.append("network: " + params.get("errorText", ""))
    return {"images": images, "errors": errors, "requests": requests, "title": title, "layout": layout}
