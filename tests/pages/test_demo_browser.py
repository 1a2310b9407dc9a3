"""The demo in a real browser: ``grader serve --demo`` (as ``make serve`` runs it), its sign-in page
signing in as a demo account with one click, and the demo students' work on the pages."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from api.demo.course import COURSE
from harness.server import VENV_BIN, ServerProcess, free_port, server_env

from live_service import chromium, screenshot_dir


def test_one_click_signs_in_as_the_demo_instructor_who_sees_the_students_work(tmp_path: Path) -> None:
    port = free_port()
    command = [str(VENV_BIN / "grader"), "serve", "--demo", "--port", str(port)]
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'grader.db'}")
    with ServerProcess(command, port=port, env=env, cwd=tmp_path, log=tmp_path / "server.log") as server:
        server.wait_healthy()
        with chromium(tmp_path / "profile") as browser:
            page = browser.new_page()
            page.goto(server.base_url + "/")
            expect(page.get_by_role("heading", name="Demo: sign in with one click")).to_be_visible()
            page.screenshot(path=screenshot_dir(tmp_path) / "demo-sign-in.png", full_page=True)
            page.get_by_role("button", name="Demo Instructor").click()
            expect(page.get_by_role("heading", name=COURSE[1])).to_be_visible()  # straight to the demo course
            expect(page.locator("header")).to_contain_text("Demo Instructor")

            page.goto(f"{server.base_url}/courses/{COURSE[0]}/assignments/conv-pool-basics/stats")
            expect(page.locator("main")).to_contain_text("bias-omitted")  # bob's named mistakes, counted
            expect(page.locator("main svg").first).to_be_visible()
            page.screenshot(path=screenshot_dir(tmp_path) / "demo-stats.png", full_page=True)
