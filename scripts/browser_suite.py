#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven over WebDriver by Selenium (PyPI), against `hashcart demo --serve`.

It plays a flash sale through the pages as people would: the merchant signs in, sees the sale
as charts, creates an offer and watches its funnel move live while sandbox posts arrive, ships an
order and refunds part of one, rotates a webhook secret; the cardholder cancels a purchase; the
operator stops every purchase. It checks what a person would see, that every page works without
JavaScript (a second browser with JavaScript off creates an offer), that markup in a title is
shown as text, and the basics of accessibility on every page: a label for every control, every
control reachable by keyboard, text contrast of at least 4.5:1.

    python3 scripts/browser_suite.py .build/release/hashcart [--screenshots docs/screenshots]

Exit 0 when every check passed; 1 with the failed checks listed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

failures = []
screens = None


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def start_demo(binary):
    data = tempfile.mkdtemp(prefix="hashcart-browser-")
    process = subprocess.Popen([binary, "demo", "--serve", "--port", "0", "--cardholders", "300", "--data", data + "/demo"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, errors = {}, []
    threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True).start()
    deadline = time.time() + 240
    while len(lines) < 4 and time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.match(r"^(dashboard|merchant sign-in|operator sign-in|cardholder sign-in): (.*)$", line.strip())
        if match:
            lines[match.group(1)] = match.group(2).split(" ")
    if len(lines) < 4:
        process.kill()
        sys.exit("the demo did not print its four lines: " + "".join(errors[-20:]))
    for _ in range(100):
        token = next((m.group(1) for e in errors for m in [re.search(r"admin token is (\S+)", e)] if m), None)
        if token:
            break
        time.sleep(0.1)
    return process, lines, token


def browser(javascript=True):
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--force-device-scale-factor=1", "--lang=en-US"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    binary = next((p for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] if os.path.exists(p)), None)
    if binary:
        options.binary_location = binary
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# The basics of accessibility, computed in the page: a label for every control, nothing interactive
# taken out of the keyboard order, and WCAG AA contrast (4.5:1) for text on its effective background.
ACCESSIBILITY = r"""
function rgb(text) { const m = text.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; }
function lum(c) { return [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
  .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0); }
function background(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
  if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; }
const problems = [];
for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const labelled = (control.id && document.querySelector('label[for="' + control.id + '"]')) || control.getAttribute('aria-label');
  if (!labelled) problems.push('no label: ' + control.outerHTML.slice(0, 80));
}
for (const button of document.querySelectorAll('button, a')) {
  if (!(button.textContent.trim() || button.getAttribute('aria-label'))) problems.push('no name: ' + button.outerHTML.slice(0, 80));
  if (button.getAttribute('tabindex') === '-1') problems.push('not reachable by keyboard: ' + button.outerHTML.slice(0, 80));
}
for (const el of document.querySelectorAll('h1, h2, p, a, button, label, th, td, dt, dd, li, span, code')) {
  if (!el.offsetParent || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const style = getComputedStyle(el), fg = rgb(style.color), bg = background(el);
  const ratio = (Math.max(lum(fg), lum(bg)) + 0.05) / (Math.min(lum(fg), lum(bg)) + 0.05);
  if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ': ' + el.outerHTML.slice(0, 80));
}
return problems;
"""


def page_checks(driver, name):
    problems = driver.execute_script(ACCESSIBILITY)
    check(not problems, f"{name}: labels, keyboard and contrast" + ("" if not problems else " — " + "; ".join(problems[:5])))
    csp = driver.execute_script("return document.querySelectorAll('script:not([src])').length")
    check(csp == 0, f"{name}: no inline script")
    if screens:
        height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
        driver.set_window_size(1280, min(height + 40, 4000))
        driver.save_screenshot(os.path.join(screens, name + ".png"))
        driver.set_window_size(1280, 1000)


def text(driver, selector):
    """The text of the first element matching `selector`; "" (and what the page says instead) when there is none."""
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    if not found:
        said = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "h1, .error, main p")][:3]
        print(f"     (no {selector} on {driver.current_url}: {said})", flush=True)
        return ""
    return found[0].text


def submit(driver, button):
    """Clicks a button that sends a form, and waits for the page that answers it."""
    driver.execute_script("window.__hashcartOldPage = true")
    button.click()
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return !window.__hashcartOldPage && document.readyState === 'complete'"))


def sign_in(driver, base, email, password):
    driver.get(base + "/dashboard")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def api(base, token, method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json", "Hashcart-Mode": "test"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def main():
    global screens
    binary = sys.argv[1]
    if "--screenshots" in sys.argv:
        screens = sys.argv[sys.argv.index("--screenshots") + 1]
        os.makedirs(screens, exist_ok=True)
    process, lines, admin = start_demo(binary)
    base = lines["dashboard"][0].removesuffix("/dashboard")
    driver = browser()
    try:
        # The sign-in, by keyboard alone: Tab from the page's start reaches email, password, the button.
        driver.get(base + "/dashboard")
        check(driver.current_url.endswith("/dashboard/test/sign-in"), "the dashboard sends to the sign-in")
        check("Test mode" in text(driver, ".mode-badge"), "the sign-in says which mode")
        page_checks(driver, "sign-in")
        body = driver.find_element(By.TAG_NAME, "body")
        reached = []
        for _ in range(12):
            body.send_keys(Keys.TAB) if not reached else driver.switch_to.active_element.send_keys(Keys.TAB)
            active = driver.switch_to.active_element
            reached.append(active.get_attribute("id") or active.tag_name)
        check("email" in reached and "password" in reached and "button" in reached, f"the sign-in is reachable by keyboard ({reached})")

        email, password = lines["merchant sign-in"]
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys("wrong password, surely")
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        check("do not match" in text(driver, ".error"), "a wrong password is refused with a clear message")
        sign_in(driver, base, email, password)
        check(text(driver, "h1") == "Overview", "the merchant lands on the overview")
        check(len(driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline")) == 3, "the overview draws the sale as a chart")
        driver.get(base + "/dashboard/test?range=7d")
        net = text(driver, '[data-metric="net"]')
        check(net.startswith("$") and net != "$0.00", f"the sale's net sales are shown ({net})")
        orders = text(driver, 'td[data-metric="orders"]')
        check(orders not in ("", "0"), f"the sale's orders are counted ({orders})")
        page_checks(driver, "merchant-overview")

        # A new offer, made through the form; its funnel moves live while posts arrive.
        driver.get(base + "/dashboard/test/offers")
        page_checks(driver, "merchant-offers")
        form = {"title": "Browser Sale Hoodie", "sku": "HOODIE-1", "price": "39.00", "hashtag": "#BuyBrowserHoodie", "quantity": "50"}
        for field, value in form.items():
            driver.find_element(By.ID, field).send_keys(value)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
        check("Offer created." in text(driver, ".notice"), "the offer is created from the form")
        check(text(driver, "h1") == "Browser Sale Hoodie", "the new offer's page opens")
        before = text(driver, 'td[data-metric="posts"]')
        check(before == "0", f"the new offer starts with no posts ({before})")
        flat = driver.find_element(By.CSS_SELECTOR, "#chart polyline.s1").get_attribute("points")
        fans = [api(base, admin, "POST", "/sandbox/accounts", {"handle": f"browserfan{i}"}) for i in range(3)]
        for fan in fans:
            api(base, fan["token"], "POST", "/sandbox/posts", {"author_id": fan["id"], "text": "I want one #BuyBrowserHoodie"})
        moved = None
        for _ in range(60):
            moved = text(driver, 'td[data-metric="posts"]')
            if moved == "3":
                break
            time.sleep(0.5)
        check(moved == "3", f"the funnel moves live, without a reload, as posts arrive ({before} → {moved})")
        # The chart is redrawn from the server's SVG (every ten seconds) without a reload.
        redrawn = flat
        for _ in range(50):
            redrawn = driver.find_element(By.CSS_SELECTOR, "#chart polyline.s1").get_attribute("points")
            if redrawn != flat:
                break
            time.sleep(0.5)
        check(redrawn != flat, "the chart is redrawn live as posts arrive")
        page_checks(driver, "merchant-offer")

        # Ship an order, refund part of another.
        driver.get(base + "/dashboard/test/orders?status=created")
        page_checks(driver, "merchant-orders")
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "table a")]
        check(len(links) >= 1, f"the orders list shows the sale's orders ({len(links)})")
        driver.get(links[0])
        driver.find_element(By.ID, "carrier").send_keys("UPS")
        driver.find_element(By.ID, "tracking").send_keys("1Z999AA10123456784")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Mark shipped']"))
        check("marked shipped" in text(driver, ".notice") and "UPS 1Z999AA10123456784" in driver.page_source, "an order is shipped")
        # Shipping captured it (the demo's offers capture on shipment): now part of it can be refunded.
        check(len(driver.find_elements(By.ID, "amount")) == 1, "a shipped order offers a refund")
        driver.find_element(By.ID, "amount").send_keys("5.00")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Refund']"))
        check("Refund made" in text(driver, ".notice"), "part of an order is refunded")
        refunded = driver.find_element(By.XPATH, "//dt[text()='Refunded']/following-sibling::dd[1]").text
        check(refunded == "$5.00", f"the order shows what was refunded ({refunded})")
        page_checks(driver, "merchant-order")
        driver.find_element(By.ID, "amount").send_keys("100000")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Refund']"))
        check("exceeds" in driver.page_source, "a refund over what was captured is refused with a message")

        # A webhook endpoint, its secret rotated.
        driver.get(base + "/dashboard/test/webhooks")
        driver.find_element(By.ID, "url").send_keys("http://127.0.0.1:9/hashcart-events")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Add endpoint']"))
        first = driver.find_element(By.ID, "secret").get_attribute("value")
        check(first.startswith("whsec_"), "a new endpoint's secret is shown once")
        driver.get(base + "/dashboard/test/webhooks")
        check(first not in driver.page_source, "the secret is not shown again")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Rotate secret']"))
        second = driver.find_element(By.ID, "secret").get_attribute("value")
        check(second.startswith("whsec_") and second != first and "previous secret signs too" in driver.page_source, "the secret is rotated")
        driver.get(base + "/dashboard/test/webhooks")
        page_checks(driver, "merchant-webhooks")
        for name, path in [("merchant-api-keys", "/api-keys"), ("merchant-settlements", "/settlements"), ("merchant-activity", "/activity"),
                           ("merchant-account", "/account")]:
            driver.get(base + "/dashboard/test" + path)
            page_checks(driver, name)

        # Markup in a title is text.
        driver.get(base + "/dashboard/test/offers")
        evil = '<img src=x onerror="alert(1)">Evil'
        for field, value in {"title": evil, "sku": "EVIL", "price": "1.00", "hashtag": "#BuyEvilThing"}.items():
            driver.find_element(By.ID, field).send_keys(value)
        submit(driver, driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
        check(text(driver, "h1") == evil, "a title carrying markup is shown as text")
        try:
            driver.switch_to.alert
            check(False, "no script from a title runs")
        except NoAlertPresentException:
            check(True, "no script from a title runs")
        check(len(driver.find_elements(By.CSS_SELECTOR, "main img")) == 0, "no element is made from a title")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Sign out']"))
        check(driver.current_url.endswith("/sign-in"), "signing out ends the session")

        # The cardholder cancels a purchase before shipment.
        email, password = lines["cardholder sign-in"]
        sign_in(driver, base, email, password)
        check(text(driver, "h1") == "Your purchases", "the cardholder lands on their purchases")
        page_checks(driver, "cardholder-purchases")
        buttons = driver.find_elements(By.XPATH, "//button[text()='Cancel']")
        check(len(buttons) >= 1, "a purchase not yet shipped can be cancelled")
        if buttons:
            submit(driver, buttons[0])
            check("Purchase cancelled" in text(driver, ".notice"), "the cardholder cancels a purchase")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Sign out']"))

        # The operator's console: stop every purchase, with a reason.
        email, password = lines["operator sign-in"]
        sign_in(driver, base, email, password)
        check(text(driver, "h1") == "Console" and "Every rule holds" in driver.page_source, "the operator sees the console and the ledger check")
        page_checks(driver, "operator-console")
        driver.find_element(By.ID, "reason").send_keys("card network maintenance")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Stop every purchase']"))
        check("card network maintenance" in driver.page_source, "the operator stops every purchase")
        driver.find_element(By.ID, "reason").send_keys("maintenance over")
        submit(driver, driver.find_element(By.XPATH, "//button[text()='Let purchases go on']"))
        check("Purchases go on" in driver.page_source, "and lets them go on")
        for name, path in [("operator-users", "/users"), ("operator-merchants", "/merchants"), ("operator-cardholders", "/cardholders"),
                           ("operator-audit-log", "/audit")]:
            driver.get(base + "/dashboard/test" + path)
            page_checks(driver, name)
        check("order.ship" in driver.page_source and "order.refund" in driver.page_source and "webhook_endpoint.rotate_secret" in driver.page_source,
              "the audit log shows the merchant's shipment, refund and secret rotation")
    finally:
        driver.quit()

    # Without JavaScript, the pages still work (only the live numbers need it).
    plain = browser(javascript=False)
    try:
        email, password = lines["merchant sign-in"]
        sign_in(plain, base, email, password)
        check(plain.find_element(By.CSS_SELECTOR, "h1").text == "Overview", "without JavaScript, the merchant signs in")
        plain.get(base + "/dashboard/test/offers")
        for field, value in {"title": "No Script Mug", "sku": "MUG", "price": "12.50", "hashtag": "#BuyNoScriptMug"}.items():
            plain.find_element(By.ID, field).send_keys(value)
        submit(plain, plain.find_element(By.CSS_SELECTOR, "form.form button[type=submit]"))
        check(plain.find_element(By.CSS_SELECTOR, "h1").text == "No Script Mug", "without JavaScript, an offer is created")
    finally:
        plain.quit()
        process.terminate()
        process.wait(timeout=20)
    if failures:
        print(f"{len(failures)} check(s) failed:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("every browser check passed")


main()
