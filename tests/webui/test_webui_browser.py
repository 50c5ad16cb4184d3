"""End to end in headless Chromium (Debian's chromium + chromedriver, driven by Selenium): type a
prompt, press Generate, get an <audio> element whose file is a playable WAV; a bad prompt shows
the model's message; the page loads nothing from outside the local server.

Set UNISONO_WEBUI_SCREENSHOT=docs/images/webui.png to also write the documentation's screenshot.
"""

import io
import json
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import soundfile as sf
from webui_fixtures import running

from unisono.webui import build_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
           "chromium-driver; scripts/setup.sh installs them)",
)


@pytest.fixture
def browser(monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1280,1000", "--autoplay-policy=no-user-gesture-required",
        # Offline: every host but the local server fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_generate_in_the_browser(webui_model, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    with running(build_app(webui_model)) as url:
        browser.get(url)
        wait = WebDriverWait(browser, 60)
        prompt = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#generate-prompt textarea"))
        prompt.send_keys("a dog barks in the rain")
        browser.find_element(By.CSS_SELECTOR, "#generate-button").click()
        player = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#generate-audio audio[src]"))
        wait.until(lambda d: "a dog barks in the rain" in d.find_element(
            By.CSS_SELECTOR, "#generate-instruction textarea").get_attribute("value"))
        source = player.get_attribute("src")
        response = httpx.get(source, timeout=10)
        assert response.status_code == 200
        assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"
        audio, rate = sf.read(io.BytesIO(response.content), dtype="int16")
        assert rate == 16000 and len(audio) > 0 and abs(audio).max() > 0
        # The browser itself decodes it: its duration is the file's.
        seconds = browser.execute_async_script(
            "const [audio, done] = arguments;"
            "if (audio.readyState >= 1) { done(audio.duration); return; }"
            "audio.addEventListener('loadedmetadata', () => done(audio.duration));"
            "audio.addEventListener('error', () => done(-1)); audio.load();", player)
        assert seconds == pytest.approx(len(audio) / rate, abs=0.01)
        assert browser.find_elements(By.CSS_SELECTOR, "#generate-spectrogram img")

        shot = tmp_path / "webui.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        if os.environ.get("UNISONO_WEBUI_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["UNISONO_WEBUI_SCREENSHOT"])

        # Bad input: the model's message reaches the page.
        prompt.send_keys(Keys.CONTROL, "a")
        prompt.send_keys(Keys.BACKSPACE)
        browser.find_element(By.CSS_SELECTOR, "#generate-button").click()
        wait.until(lambda d: "empty prompt: describe the sound to generate" in d.page_source)

        server = urlparse(url).netloc
        outside = [u for u in _requested_urls(browser)
                   if urlparse(u).scheme in ("http", "https", "ws", "wss")
                   and urlparse(u).netloc != server]
        assert outside == []  # nothing from the internet: no CDN, fonts or analytics
