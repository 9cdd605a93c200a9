"""The case page in real Chromium: a reviewer sees the stages, evidence hashes and documents, and approves."""

from __future__ import annotations

import os
import time

import pytest
from selenium.webdriver.common.by import By

from tests.browser import chromium, sign_in
from tests.conftest import bearer
from tests.helpers import entity_in, new_task, upload_photo

SHOTS = os.environ.get("ZHENGTU_SHOTS")  # a folder: also save screenshots there, to look at


def wait_text(driver, css: str, text: str, timeout: float = 20) -> str:
    deadline = time.time() + timeout
    seen = ""
    while time.time() < deadline:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        seen = " ".join(e.text for e in found)
        if text in seen:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {css}: {seen!r}")


def choose(driver, label: str, timeout: float = 20) -> None:
    """Pick an action by its label among the page's radio choices."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for option in driver.find_elements(By.CSS_SELECTOR, "#zt-case-action label"):
            if label in option.text:
                option.click()
                return
        time.sleep(0.2)
    raise AssertionError(f"no action {label!r}")


@pytest.fixture(scope="module")
def case_in_review(app, tokens, db_url):
    client = app.server.test_client()
    task_id = new_task(client, tokens, entity_in(db_url, "440106"), ["insp_tianhe"])
    photo = upload_photo(client, tokens, task_id)
    case_id = client.post(f"/api/tasks/{task_id}/result", headers=bearer(tokens, "insp_tianhe"),
                          json={"result": "发现问题待后续处理", "findings": "无证经营"}).get_json()["case_id"]
    for to in ("调查取证", "法制审核"):
        moved = client.post(f"/api/cases/{case_id}/transitions", json={"to": to},
                            headers=bearer(tokens, "insp_tianhe"))
        assert moved.status_code == 201, moved.get_json()
    return {"id": case_id, "photo": photo}


@pytest.mark.browser
def test_reviewer_approves_a_case_on_its_page(live_url, case_in_review, driver):
    sign_in(driver, live_url, "t_reviewer_gz")
    driver.get(f"{live_url}/case/{case_in_review['id']}")
    wait_text(driver, "#zt-case-stage", "法制审核")
    evidence = wait_text(driver, "#zt-case-evidence", case_in_review["photo"]["sha256"])
    assert case_in_review["photo"]["sm3"] in evidence
    assert driver.find_element(By.ID, "zt-doc-inspection-record").get_attribute("href").endswith(
        f"/api/cases/{case_in_review['id']}/documents/inspection-record.pdf")
    assert driver.find_element(By.CSS_SELECTOR, ".zt-case-map").get_attribute("src").startswith("data:image/png")
    if SHOTS:
        driver.save_screenshot(os.path.join(SHOTS, "case-1280.png"))
    choose(driver, "审核通过")
    driver.find_element(By.ID, "zt-case-note").send_keys("事实清楚，同意")
    driver.find_element(By.ID, "zt-case-submit").click()
    wait_text(driver, "#zt-case-done", "当前阶段 决定")
    wait_text(driver, "#zt-case-stage", "决定")
    wait_text(driver, "#zt-case-timeline", "事实清楚，同意")
    # the same refusal as the API: the reviewer may not make the decision without its text
    choose(driver, "作出处罚决定")
    driver.find_element(By.ID, "zt-case-submit").click()
    wait_text(driver, "#zt-case-error", "请填写处罚决定内容")


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(1920, 1080), (390, 844)])
def test_case_list_and_page_fit_desk_and_phone(live_url, case_in_review, width, height):
    browser = chromium(width, height, mobile=width < 500)
    try:
        sign_in(browser, live_url, "t_reviewer_gz")
        browser.get(f"{live_url}/cases")
        wait_text(browser, "#zt-cases-list", "穗天市监立")
        if SHOTS:
            browser.save_screenshot(os.path.join(SHOTS, f"cases-{width}.png"))
        browser.get(f"{live_url}/case/{case_in_review['id']}")
        wait_text(browser, "#zt-case-evidence", case_in_review["photo"]["sha256"][:12])
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1  # nothing pushes the page sideways
        if SHOTS:
            browser.save_screenshot(os.path.join(SHOTS, f"case-{width}.png"))
    finally:
        browser.quit()
