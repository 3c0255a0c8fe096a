"""A real headless Chromium, driven over the DevTools protocol (stdlib only).

``load_page(path)`` opens a file in Debian's ``chromium``, waits for the load event and
returns what a browser saw: console messages and uncaught exceptions (errors included),
log entries (e.g. failed resource loads), the result of a JavaScript probe evaluated in
the page, and a PNG screenshot of the full page. The DevTools socket listens on
127.0.0.1 only; the browser has networking features off.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class PageResult:
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    probe: Any = None
    screenshot: bytes = b""

    @property
    def errors(self) -> list[str]:
        out = [f"console.{m.get('type')}: {m.get('args')}" for m in self.console
               if m.get("type") in ("error", "assert")]
        out += [f"exception: {e.get('exceptionDetails', {}).get('text')} "
                f"{e.get('exceptionDetails', {}).get('exception', {}).get('description', '')}"
                for e in self.exceptions]
        out += [f"log.{e.get('level')}: {e.get('text')} {e.get('url', '')}" for e in self.log
                if e.get("level") == "error"]
        return out


class _WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: masked text frames out,
    (possibly fragmented) text frames in."""

    def __init__(self, url: str, timeout: float) -> None:
        m = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not m:
            raise ValueError(f"bad websocket url {url!r}")
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        assert host == "127.0.0.1", "the DevTools socket must be local"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("devtools closed during handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise ConnectionError(f"devtools handshake failed: {status!r}")
        self.buf = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("devtools socket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self) -> str:
        parts = []
        while True:
            b1, b2 = self._read(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b2 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            opcode = b1 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("devtools closed the socket")
            if opcode in (0x9, 0xA):  # ping/pong: ignore
                continue
            parts.append(data)
            if b1 & 0x80:
                return b"".join(parts).decode("utf-8", "replace")

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def load_page(path: Path | str, probe: str = "null", timeout: float = 60.0,
              width: int = 1280, steps: tuple[tuple[str, str], ...] = (),
              settle: float = 0.3) -> PageResult:
    """Open ``path`` (a file, or an http://127.0.0.1 URL) in headless Chromium and report
    what happened (see the module doc). ``steps`` run after the first load, in order:
    ``("js", code)`` evaluates code that causes a navigation and waits for the new page;
    ``("goto", url)`` opens another page. ``settle`` seconds pass before the probe (a
    script-built page needs a moment after its load event)."""
    profile = tempfile.mkdtemp(prefix="synthvet-chromium-")
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--window-size={width},900", "about:blank"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    ws = None
    try:
        deadline = time.monotonic() + timeout
        url = None
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise RuntimeError(f"chromium exited ({proc.poll()}) before DevTools listened")
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                url = m.group(1)
                break
        if url is None:
            raise TimeoutError("chromium did not open its DevTools socket")
        # keep reading chromium's chatter so a full pipe never blocks it
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        ws = _WebSocket(url, timeout)
        result = PageResult()
        counter = [0]
        session: list[str | None] = [None]

        def call(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
            counter[0] += 1
            msg: dict[str, Any] = {"id": counter[0], "method": method, "params": params or {}}
            if session[0]:
                msg["sessionId"] = session[0]
            ws.send(json.dumps(msg))
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no answer to {method}")
                reply = json.loads(ws.recv())
                if reply.get("id") == counter[0]:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return dict(reply.get("result") or {})
                events.append(reply)

        events: list[dict[str, Any]] = []
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session[0] = call("Target.attachToTarget", {"targetId": target, "flatten": True}
                          )["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            call(f"{domain}.enable")
        def wait_load(since: int) -> None:
            while not any(e.get("method") == "Page.loadEventFired" for e in events[since:]):
                if time.monotonic() > deadline:
                    raise TimeoutError("the page did not finish loading")
                events.append(json.loads(ws.recv()))

        url = str(path) if str(path).startswith("http://127.0.0.1") else \
            Path(path).resolve().as_uri()
        since = len(events)
        call("Page.navigate", {"url": url})
        wait_load(since)
        for kind, arg in steps:
            since = len(events)
            if kind == "goto":
                call("Page.navigate", {"url": arg})
            else:
                call("Runtime.evaluate", {"expression": arg})
            wait_load(since)
        # let late console messages, scripts and layout settle; keep collecting events
        end = time.monotonic() + settle
        while (left := end - time.monotonic()) > 0:
            # read a whole message only once bytes are there, so no frame is cut in two
            if ws.buf or select.select([ws.sock], [], [], left)[0]:
                events.append(json.loads(ws.recv()))
        probe_value = call("Runtime.evaluate", {"expression": probe, "returnByValue": True})
        result.probe = probe_value.get("result", {}).get("value")
        metrics = call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
        shot = call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width,
                     "height": min(float(size.get("height", 900)), 12000.0), "scale": 1}})
        result.screenshot = base64.b64decode(shot["data"])
        for e in events:
            method, params = e.get("method"), e.get("params") or {}
            if method == "Runtime.consoleAPICalled":
                result.console.append({"type": params.get("type"),
                                       "args": [a.get("value", a.get("description"))
                                                for a in params.get("args", [])]})
            elif method == "Runtime.exceptionThrown":
                result.exceptions.append(params)
            elif method == "Log.entryAdded":
                result.log.append(params.get("entry") or {})
        return result
    finally:
        if ws is not None:
            ws.close()
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
