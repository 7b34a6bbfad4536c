// The pages in headless Chromium over WebDriver, as people use them, with an axe-core scan of
// every page (no serious or critical violation) and a screenshot of each under $OUT.
// Started by tests/it/browser.rs with BASE (the server), KEYS (JSON: a key per role) and OUT.
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Builder, By } from "selenium-webdriver";
import chrome from "selenium-webdriver/chrome.js";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const BASE = process.env.BASE;
const KEYS = JSON.parse(process.env.KEYS);
const OUT = process.env.OUT;
mkdirSync(OUT, { recursive: true });

const options = new chrome.Options().addArguments("--headless=new", "--no-sandbox", "--window-size=1280,1600");
if (process.env.CHROME_BIN) options.setChromeBinaryPath(process.env.CHROME_BIN);
const service = new chrome.ServiceBuilder(process.env.CHROMEDRIVER || "/usr/bin/chromedriver");
const driver = await new Builder().forBrowser("chrome").setChromeOptions(options).setChromeService(service).build();

const failures = [];
function check(condition, what) {
  if (!condition) failures.push(what);
}
const text = async () => driver.findElement(By.css("body")).getText();

/** Screenshot and axe scan of the page as it is now. */
async function look(name) {
  writeFileSync(`${OUT}/${name}.png`, await driver.takeScreenshot(), "base64");
  await driver.executeScript(AXE);
  const violations = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] })
      .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")) }))));`);
  for (const v of violations) {
    if (v.impact === "serious" || v.impact === "critical") failures.push(`axe ${name}: ${v.id} (${v.impact}) at ${v.nodes.join(", ")}`);
  }
}

/** Clicks and waits for the next page to load. */
async function clickAndWait(element) {
  // A mark on the old page: the next page has none. Asked again while the browser is between
  // pages, the question may fail; that is "not yet".
  await driver.executeScript("window.__leaving = true");
  await element.click();
  await driver.wait(async () => {
    try {
      return await driver.executeScript("return !window.__leaving && document.readyState === 'complete'");
    } catch {
      return false;
    }
  }, 15000);
}

async function signIn(key, lang) {
  await driver.manage().deleteAllCookies();
  await driver.get(`${BASE}/?lang=${lang}`);
  await driver.findElement(By.id("key")).sendKeys(key);
  await clickAndWait(await driver.findElement(By.css("form.sign-in button")));
}

async function submitForm(selector, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const field = await driver.findElement(By.css(`${selector} [name="${name}"]`));
    const tag = await field.getTagName();
    if (tag === "select") {
      await driver.executeScript("arguments[0].value = arguments[1]", field, value);
    } else {
      await field.clear();
      await field.sendKeys(value);
    }
  }
  await clickAndWait(await driver.findElement(By.css(`${selector} button[type="submit"]`)));
}

try {
  // The sign-in page in each language; the switch on the page.
  await driver.manage().deleteAllCookies();
  await driver.get(`${BASE}/?lang=zh-CN`);
  check((await driver.findElement(By.css("html")).getAttribute("lang")) === "zh-CN", "html lang zh-CN");
  await look("sign-in-zh-CN");
  await clickAndWait(await driver.findElement(By.linkText("Nederlands")));
  check((await driver.findElement(By.css("html")).getAttribute("lang")) === "nl", "the switch to Dutch");
  check((await text()).includes("Toegangssleutel"), "Dutch sign-in page");
  await look("sign-in-nl");

  // A consumer: the report, and the session cookie is out of the page's reach (HttpOnly).
  await signIn(KEYS.consumer, "en");
  check((await driver.getCurrentUrl()).includes("/me"), "a consumer lands on /me");
  check((await text()).includes("Your credit report"), "the report page");
  check(!(await driver.executeScript("return document.cookie")).includes("session="), "the session cookie is HttpOnly");
  const cookie = await driver.manage().getCookie("session");
  check(cookie && cookie.httpOnly && cookie.sameSite === "Strict" && cookie.expiry, `session cookie flags: ${JSON.stringify(cookie)}`);
  await look("consumer-report");
  await driver.get(`${BASE}/me?lang=zh-CN`);
  check((await text()).includes("您的信用报告"), "the report in Chinese");
  await look("consumer-report-zh-CN");
  await driver.get(`${BASE}/me?lang=en`);

  // A form without its CSRF token is refused and changes nothing.
  await driver.get(`${BASE}/me/consents`);
  await driver.executeScript(`document.querySelector('form[action="/me/consents"] input[name="csrf"]').remove()`);
  await submitForm('form[action="/me/consents"]', { lender: "bank-a", purpose: "credit_application", expires: "12/31/2099" });
  check((await text()).includes("did not come from this site"), "CSRF refusal");
  await driver.get(`${BASE}/me/consents`);
  check((await text()).includes("You have given no consent"), "the refused form changed nothing");

  // The consumer grants a consent; the lender inquires with it.
  await driver.executeScript(`document.getElementById('expires').value = '2099-12-31'`);
  await submitForm('form[action="/me/consents"]', { lender: "bank-a", purpose: "credit_application" });
  const granted = await text();
  const consent = (granted.match(/cns_[0-9A-Za-z_]+/) || [])[0];
  check(consent, "a consent id is shown");
  await look("consumer-consents");
  await driver.get(`${BASE}/me/accesses`);
  await look("consumer-accesses");
  await driver.get(`${BASE}/me/protection`);
  await look("consumer-protection");

  await signIn(KEYS.lender, "en");
  check((await driver.getCurrentUrl()).includes("/lender"), "a lender lands on /lender");
  await look("lender-form");
  await driver.executeScript(`document.getElementById('birth_date').value = '1949-12-31'`);
  await submitForm('form[action="/lender"]', {
    id_type: "cn_rid", id: KEYS.subject_id, family_name: "Wang", given_name: "Fang", purpose: "credit_application", consent_id: consent,
  });
  check((await text()).includes("Report for the inquiry"), "the lender sees the report");
  await look("lender-report");
  await driver.get(`${BASE}/lender`);
  await driver.executeScript(`document.getElementById('birth_date').value = '1949-12-31'`);
  await submitForm('form[action="/lender"]', {
    id_type: "cn_rid", id: KEYS.subject_id, family_name: "Wang", given_name: "Fang", purpose: "credit_application", consent_id: "cns_1_000000000000000000000000",
  });
  check((await text()).includes("No valid consent"), "a refusal without consent");
  await look("lender-refusal");

  // The consumer disputes an account; the inquiry is among their accesses, verified.
  await signIn(KEYS.consumer, "en");
  await driver.get(`${BASE}/me/accesses`);
  const accesses = await text();
  check(accesses.includes("bank-a") && accesses.includes("Verified"), "the inquiry in the consumer's accesses, verified");
  await driver.get(`${BASE}/me/disputes`);
  await submitForm('form[action="/me/disputes"]', { field: "balance", reason: "I paid this in full" });
  check((await text()).includes("Dispute sent"), "the dispute is sent");
  await look("consumer-disputes");

  // The furnisher uploads a file and sees its rejections, then answers the dispute.
  await signIn(KEYS.furnisher, "en");
  check((await driver.getCurrentUrl()).includes("/furnisher"), "a furnisher lands on /furnisher");
  await look("furnisher-submissions");
  await driver.findElement(By.id("file")).sendKeys(process.env.UPLOAD);
  await clickAndWait(await driver.findElement(By.css('form[action="/furnisher/upload"] button')));
  const result = await text();
  check(result.includes("Applied") && result.includes("invalid_value") && result.includes("sideways"), `the upload's result and rejection: ${result.slice(0, 400)}`);
  check((await driver.findElements(By.css('a[href$="/rejections.csv"]'))).length === 1, "the rejections as CSV");
  await look("furnisher-upload-result");
  await driver.get(`${BASE}/furnisher/disputes`);
  check((await text()).includes("I paid this in full"), "the consumer's dispute in the furnisher's queue");
  await look("furnisher-disputes");
  await driver.findElement(By.css('input[name="outcome"][value="confirmed"]')).click();
  await submitForm('form[action="/furnisher/disputes"]', { note: "Checked against our ledger" });
  check((await text()).includes("Answer recorded"), "the answer is recorded");

  await signIn(KEYS.consumer, "en");
  await driver.get(`${BASE}/me/disputes`);
  check((await text()).includes("Confirmed as reported"), "the consumer sees the answer");

  await signIn(KEYS.supervisor, "en");
  check((await driver.getCurrentUrl()).includes("/supervision"), "a supervisor lands on /supervision");
  await driver.get(`${BASE}/supervision?month=2021-06&lang=zh-CN`);
  check((await driver.findElements(By.css("svg.chart"))).length >= 3, "the supervision charts");
  await look("supervision-zh-CN");

  // Signing out: the pages ask to sign in again.
  await signIn(KEYS.consumer, "en");
  await clickAndWait(await driver.findElement(By.css('form[action="/sign-out"] button')));
  await driver.get(`${BASE}/me`);
  check((await driver.findElement(By.id("key"))) !== null, "signed out: back at the sign-in form");
} catch (error) {
  failures.push(`stopped: ${error.stack || error}`);
} finally {
  await driver.quit();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`every check passed; screenshots in ${OUT}`);
