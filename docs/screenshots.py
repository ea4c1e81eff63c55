"""Regenerate docs/img/queue.png, document.png, source.png (the viewer at a marked attribute), group.png (when
the demo has a rejected correlation group) and queue-phone.png (390 px wide) from a real demo workspace.

    .venv/bin/python docs/screenshots.py

Builds the demo workspace (good and broken invoices), runs it once, adds an operator, starts
``immex-gateway serve`` on a free local port and photographs the queue and the page of the
invoice whose total was edited, in Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "img"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run", "--lang=es-MX"]
PASSWORD = "capturas-de-pantalla"


def main() -> int:
    sys.path.insert(0, str(REPO))
    from playwright.sync_api import sync_playwright

    from gateway.demo.workspace import build_workspace

    with tempfile.TemporaryDirectory() as tmp:
        config = build_workspace(Path(tmp) / "demo")
        env = {**os.environ, "PYTHONPATH": str(REPO), "IMMEX_GATEWAY_PASSWORD": PASSWORD}
        gateway = [sys.executable, "-m", "gateway"]
        subprocess.run([*gateway, "run", "--once", "-c", str(config)], check=True, env=env, cwd=REPO,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*gateway, "users", "add", "operadora", "--role", "operator", "-c", str(config)], check=True,
                       env=env, cwd=REPO, stdout=subprocess.DEVNULL)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([*gateway, "serve", "-c", str(config), "--port", str(port)], env=env, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1360, "height": 760}, locale="es-MX", base_url=url)
                page.goto("/login")
                page.fill("#username", "operadora")
                page.fill("#password", PASSWORD)
                page.click("#login-submit")
                page.wait_for_selector("#queue-table")
                page.screenshot(path=str(OUT / "queue.png"))
                page.click("text=total-alterado.xml")
                page.wait_for_selector("#source")
                page.set_viewport_size({"width": 1360, "height": 1250})
                page.screenshot(path=str(OUT / "document.png"))
                page.set_viewport_size({"width": 1360, "height": 760})
                page.locator("#findings a.attr-link").first.click()  # the source viewer, at the attribute
                page.evaluate("document.querySelector('mark.attr').scrollIntoView({block: 'center'})")
                page.screenshot(path=str(OUT / "source.png"))
                page.goto("/queue")
                if page.locator(".group-link").count():
                    page.locator(".group-link").first.click()
                    page.wait_for_selector("#disagreements")
                    page.screenshot(path=str(OUT / "group.png"), full_page=True)
                phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-MX", base_url=url)
                phone.goto("/login")
                phone.fill("#username", "operadora")
                phone.fill("#password", PASSWORD)
                phone.click("#login-submit")
                phone.wait_for_selector("#queue-table")
                phone.screenshot(path=str(OUT / "queue-phone.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} in {OUT}")
    return 0


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("serve did not start")


if __name__ == "__main__":
    raise SystemExit(main())
