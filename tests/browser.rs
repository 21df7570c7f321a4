//! Browser tests: a real Chromium (Debian's `chromium` and `chromium-driver`) driven through the
//! main path of each role. Compiled only with `--features browser-tests`; see `.ci/run`.
//! Screenshots of the main pages are written to `target/screenshots/`.

#[path = "support/mod.rs"]
mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use std::{path::PathBuf, process::Child, time::Duration};
use support::{PASSWORD, TestApp, spawn_app};
use tenderhall::clock::Clock as _;

/// A chromedriver process, ended when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn driver() -> Driver {
    let port = free_port();
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = std::process::Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (apt-get install chromium chromium-driver)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Driver { child, port };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not start");
}

/// A fresh browser (own profile, so its own cookies).
async fn browser(d: &Driver, profile: &tempfile::TempDir) -> Client {
    let mut caps = serde_json::Map::new();
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--window-size=1280,1000".into(),
        "--lang=zh-CN".into(),
        format!("--user-data-dir={}", profile.path().display()),
    ];
    let mut opts = serde_json::json!({ "args": args });
    if let Ok(bin) = std::env::var("CHROMIUM") {
        opts["binary"] = bin.into();
    } else if std::path::Path::new("/usr/bin/chromium").exists() {
        opts["binary"] = "/usr/bin/chromium".into();
    }
    caps.insert("goog:chromeOptions".into(), opts);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("browser session")
}

fn shot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

async fn shot(c: &Client, name: &str) {
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(shot_dir().join(format!("{name}.png")), png);
    }
}

/// Opens `url` and makes sure it stays open: a navigation still under way (the redirect after
/// logging in) can otherwise replace the page just opened.
async fn open_page(c: &Client, url: &str) {
    for _ in 0..5 {
        c.goto(url).await.expect("goto");
        tokio::time::sleep(Duration::from_millis(300)).await;
        if c.current_url().await.is_ok_and(|u| u.as_str() == url) {
            return;
        }
    }
    panic!("{url} did not stay open");
}

/// The published tender's state badge. The draft page has a badge too, so waiting for any badge
/// after pressing publish could find the old page's.
async fn published_badge(c: &Client) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=tender-state].published"))
        .await
        .expect("the tender shows as published")
}

async fn css(c: &Client, sel: &str) -> fantoccini::elements::Element {
    match c.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(sel)).await {
        Ok(e) => e,
        Err(e) => {
            // What the page showed instead, so that a failure on a loaded machine can be read.
            let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
            let text = c
                .execute("return document.body ? document.body.innerText : ''", vec![])
                .await
                .ok()
                .and_then(|v| v.as_str().map(|t| t.chars().take(1500).collect::<String>()))
                .unwrap_or_default();
            panic!("{sel}: {e}\nat {url}\n{text}")
        }
    }
}

async fn fill(c: &Client, sel: &str, text: &str) {
    let e = css(c, sel).await;
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

/// Clicks `sel`. A page that is still being replaced (after a form was sent) can hand out an
/// element that is gone a moment later; the click then looks the element up again.
async fn click(c: &Client, sel: &str) {
    for _ in 0..50 {
        match css(c, sel).await.click().await {
            Ok(()) => return,
            // Chromium reports a replaced node either as stale or, while the new document is
            // being built, as an "unknown error" saying the node left the document.
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                    || e.message.contains("does not belong to the document") =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("click {sel}: {e}"),
        }
    }
    panic!("click {sel}: the element kept going stale");
}

/// Clicks `sel`, whose action asks first (`data-confirm`), and answers the question: OK when
/// `accept`, Cancel otherwise. Returns the question asked.
async fn click_and_answer(c: &Client, sel: &str, accept: bool) -> String {
    click(c, sel).await;
    let mut question = None;
    for _ in 0..50 {
        match c.get_alert_text().await {
            Ok(t) => {
                question = Some(t);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let question = question.unwrap_or_else(|| panic!("clicking {sel} asks first"));
    if accept { c.accept_alert().await } else { c.dismiss_alert().await }.expect("answer the question");
    question
}

/// Fills the notice part of the tender form: qualification, contact, and the period for
/// obtaining the documents (China Standard Time, `YYYY-MM-DDTHH:MM`).
async fn fill_notice(c: &Client, from: &str, until: &str) {
    fill(c, "textarea[name=qualification]", "具有独立承担民事责任的能力；具有良好的商业信誉。").await;
    fill(c, "input[name=contact_person]", "王工").await;
    fill(c, "input[name=contact_phone]", "010-68001234").await;
    c.execute(
        "document.querySelector('input[name=documents_from]').value = arguments[0];\
         document.querySelector('input[name=documents_until]').value = arguments[1];",
        vec![from.into(), until.into()],
    )
    .await
    .expect("the period");
}

/// The message shown after the last step, waited for.
async fn flash(c: &Client) -> String {
    text_of(c, "[data-testid=flash]").await
}

/// The value of the input `sel`.
async fn value_of(c: &Client, sel: &str) -> String {
    css(c, sel).await.prop("value").await.expect("value").unwrap_or_default()
}

/// Sets the value of an input that takes no typing (a `datetime-local` field).
async fn set_value(c: &Client, sel: &str, value: &str) {
    c.execute("document.querySelector(arguments[0]).value = arguments[1];", vec![sel.into(), value.into()])
        .await
        .expect("set the value");
}

/// Waits for the message of a step that was saved; on a refusal or a page without it, fails
/// with what the page says.
async fn saved(c: &Client) {
    shown(c, "[data-testid=flash]").await;
}

/// Waits for `sel`; fails with what the page says when it does not come.
async fn shown(c: &Client, sel: &str) {
    if let Ok(Ok(_)) = tokio::time::timeout(
        Duration::from_secs(10),
        c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(sel)),
    )
    .await
    {
        return;
    }
    let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    let text = match c.find(Locator::Css("main")).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    panic!("{sel} did not show at {url}: {text}");
}

/// Waits until `sel` matches `n` elements (a page kept current by its websocket).
async fn wait_count(c: &Client, sel: &str, n: usize) {
    for _ in 0..100 {
        if c.find_all(Locator::Css(sel)).await.is_ok_and(|v| v.len() == n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    let text = c.find(Locator::Css("main")).await.ok();
    let text = match text {
        Some(e) => e.text().await.unwrap_or_default(),
        None => String::new(),
    };
    panic!("{sel}: never {n} elements at {url}: {text}");
}

/// Waits until the attribute `attr` of `sel` is `want`, without reloading the page.
async fn wait_attr(c: &Client, sel: &str, attr: &str, want: &str) {
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(sel)).await
            && e.attr(attr).await.ok().flatten().as_deref() == Some(want)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{sel}: {attr} never became {want}");
}

async fn page_text(c: &Client) -> String {
    text_of(c, "body").await
}

async fn login(c: &Client, app: &TestApp, user: &str) {
    login_with(c, app, user, PASSWORD).await;
}

async fn login_with(c: &Client, app: &TestApp, user: &str, password: &str) {
    login_at(c, &app.base, user, password).await;
}

#[tokio::test]
async fn agency_publishes_supplier_obtains_and_asks_agency_answers() {
    // The platform mails notices to a real SMTP server.
    let smtp_port = support::free_port();
    let smtp = support::smtp::Smtp::start(smtp_port, &[]);
    let app = support::spawn_app_with(support::Options {
        settings: Some(Box::new(move |s| {
            s.email.host = "127.0.0.1".into();
            s.email.port = smtp_port;
            s.email.security = tenderhall::config::SmtpSecurity::None;
        })),
        ..Default::default()
    })
    .await;
    let d = driver().await;
    let (pa, ps) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let agency = browser(&d, &pa).await;
    let supplier = browser(&d, &ps).await;

    // The agency drafts a tender for procuring unit 甲.
    login(&agency, &app, "agency_x").await;
    click(&agency, "[data-testid=new-tender]").await;
    fill(&agency, "input[name=title]", "浏览器测试：实验室设备采购").await;
    fill(&agency, "textarea[name=description]", "采购显微镜等实验室设备。").await;
    let unit = support::org_id(&app, "甲采购单位").await;
    agency
        .execute(&format!("document.querySelector('select[name=procuring_org]').value = '{unit}'"), vec![])
        .await
        .expect("select");
    fill(&agency, "input[name=lot_name_1]", "显微镜").await;
    fill(&agency, "input[name=lot_budget_1]", "1,250,000.50").await;
    fill(&agency, "input[name=lot_ceiling_1]", "1200000").await;
    fill_notice(&agency, "2026-11-02T10:00", "2026-11-20T17:00").await;
    fill(&agency, "input[name=deposit]", "20000").await;
    shot(&agency, "tender-form").await;
    click(&agency, "[data-testid=save-draft]").await;
    let state = text_of(&agency, "[data-testid=tender-state]").await;
    assert_eq!(state, "草稿");
    assert_eq!(flash(&agency).await, "草稿已保存。");
    let tender_url = agency.current_url().await.expect("url").to_string();

    // Uploads the PDF and publishes.
    let pdf_path = app.dir.path().join("招标文件.pdf");
    std::fs::write(&pdf_path, support::pdf("Laboratory equipment", 4)).expect("write pdf");
    css(&agency, "[data-testid=upload-form] input[type=file]")
        .await
        .send_keys(&pdf_path.display().to_string())
        .await
        .expect("choose file");
    click(&agency, "[data-testid=upload]").await;
    let docs = text_of(&agency, "[data-testid=documents] li").await;
    assert!(docs.contains("招标文件.pdf") && docs.contains("4 页"), "{docs}");
    // Publishing asks first: answered with Cancel, nothing happens.
    let question = click_and_answer(&agency, "[data-testid=publish]", false).await;
    assert!(question.contains("确定发布"), "{question}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(text_of(&agency, "[data-testid=tender-state]").await, "草稿", "still a draft");
    assert!(!page_text(&agency).await.contains("招标公告已发布"), "no message of publishing: nothing was done");
    let url = agency.current_url().await.expect("url");
    assert!(tender_url.starts_with(url.as_str().split('#').next().unwrap_or("")), "the form was not sent: {url}");
    // Answered with OK, it is published, and the page says so.
    click_and_answer(&agency, "[data-testid=publish]", true).await;
    assert_eq!(published_badge(&agency).await.text().await.expect("text"), "招标中");
    assert!(flash(&agency).await.contains("招标公告已发布"));
    let facts = text_of(&agency, "[data-testid=deposit]").await;
    assert_eq!(facts, "¥20,000.00");
    assert!(text_of(&agency, "[data-testid=documents-period]").await.contains("2026-11-20 17:00"));
    shot(&agency, "tender-published").await;

    // A supplier gives its e-mail address, finds the tender by searching, obtains the documents
    // and asks.
    login(&supplier, &app, "supplier_1").await;
    // From the inbox to the notice settings: a wrong number is refused in the page with what
    // was typed; the corrected form is saved.
    supplier.goto(&format!("{}/notifications", app.base)).await.expect("goto");
    click(&supplier, "[data-testid=notice-settings-link]").await;
    fill(&supplier, "[data-testid=settings-email]", "supplier1@example.com").await;
    fill(&supplier, "[data-testid=settings-phone]", "12345").await;
    click(&supplier, "[data-testid=save-settings]").await;
    assert_eq!(
        css(&supplier, "[data-testid=form-summary]").await.attr("data-code").await.expect("code").as_deref(),
        Some("validation_failed")
    );
    css(&supplier, "[data-testid=error-phone]").await;
    assert_eq!(value_of(&supplier, "[data-testid=settings-email]").await, "supplier1@example.com");
    shot(&supplier, "notice-settings-refused").await;
    fill(&supplier, "[data-testid=settings-phone]", "").await;
    click(&supplier, "[data-testid=save-settings]").await;
    assert_eq!(flash(&supplier).await, "消息设置已保存。");
    assert_eq!(value_of(&supplier, "[data-testid=settings-email]").await, "supplier1@example.com");
    assert!(css(&supplier, "[data-testid=email-clarification_issued]").await.is_selected().await.expect("checked"));
    supplier.goto(&format!("{}/tenders", app.base)).await.expect("goto");
    fill(&supplier, "[data-testid=search-form] input[name=q]", "实验室").await;
    click(&supplier, "[data-testid=search-form] button[type=submit]").await;
    shot(&supplier, "search").await;
    click(&supplier, "[data-testid=tender-list] tbody a").await;
    assert_eq!(text_of(&supplier, "[data-testid=tender-title]").await, "浏览器测试：实验室设备采购");
    assert!(supplier.find(Locator::Css("[data-testid=download]")).await.is_err(), "no download before obtaining");
    click(&supplier, "[data-testid=obtain]").await;
    css(&supplier, "[data-testid=obtained]").await;
    let href = css(&supplier, "[data-testid=download]").await.attr("href").await.expect("href").expect("href");
    assert!(href.contains("/documents/"));
    fill(&supplier, "[data-testid=question-body]", "显微镜是否要求配备数码成像模块？").await;
    click(&supplier, "[data-testid=ask]").await;
    let q = text_of(&supplier, "[data-testid=question]").await;
    assert!(q.contains("数码成像模块") && q.contains("待答复"), "{q}");

    assert!(supplier.find(Locator::Css("[data-testid=unread]")).await.is_err(), "nothing unread yet");

    // The agency sees the question (without the asker) and answers it.
    agency.goto(&tender_url).await.expect("goto");
    let q = text_of(&agency, "[data-testid=question]").await;
    assert!(q.contains("数码成像模块") && !q.contains("供应商一有限公司"), "asker hidden: {q}");
    fill(&agency, "[data-testid=answer-body]", "需要，成像模块分辨率不低于500万像素。").await;
    click(&agency, "[data-testid=answer]").await;
    css(&agency, "[data-testid=clarification]").await;

    // The supplier's open page shows the notice's badge without a reload, and the e-mail of the
    // notice reaches the SMTP server.
    wait_text(&supplier, "[data-testid=unread]", "1").await;
    supplier.execute("window.scrollTo(0, 0)", vec![]).await.expect("scroll");
    shot(&supplier, "unread-badge-live").await;
    assert_eq!(tenderhall::deliver::send_due(&app.state.deliveries).await.expect("send"), 1);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0]["rcpt_tos"], serde_json::json!(["supplier1@example.com"]));
    assert!(mails[0]["text"].as_str().is_some_and(|t| t.contains("浏览器测试：实验室设备采购")), "{mails:?}");
    supplier.goto(&format!("{}/workspace", app.base)).await.expect("goto");
    let badge = text_of(&supplier, "[data-testid=unread]").await;
    assert_eq!(badge, "1");
    supplier.goto(&tender_url).await.expect("goto");
    let c = text_of(&supplier, "[data-testid=clarification]").await;
    assert!(c.contains("500万像素") && c.contains("数码成像模块"), "{c}");
    shot(&supplier, "tender-supplier-view").await;
    supplier.goto(&format!("{}/notifications", app.base)).await.expect("goto");
    assert!(page_text(&supplier).await.contains("发布了答疑"));

    agency.close().await.ok();
    supplier.close().await.ok();
}

#[tokio::test]
async fn procuring_unit_drafts_and_a_bad_pdf_gets_a_clear_error() {
    let app = spawn_app().await;
    let d = driver().await;
    let p = tempfile::tempdir().expect("dir");
    let buyer = browser(&d, &p).await;
    login(&buyer, &app, "buyer_a").await;
    click(&buyer, "[data-testid=new-tender]").await;
    assert!(
        buyer.find(Locator::Css("select[name=procuring_org]")).await.is_err(),
        "a procuring unit tenders for itself"
    );
    fill(&buyer, "input[name=title]", "办公用品采购").await;
    fill(&buyer, "input[name=lot_name_1]", "办公用品").await;
    fill(&buyer, "input[name=lot_budget_1]", "12.345").await;
    click(&buyer, "[data-testid=save-draft]").await;
    // The same form again, the input kept, the error beside the lot rows.
    let err = text_of(&buyer, "[data-testid=error-budget]").await;
    assert!(err.contains("金额格式不正确"), "field error shown: {err}");
    assert_eq!(value_of(&buyer, "input[name=title]").await, "办公用品采购");
    assert_eq!(value_of(&buyer, "input[name=lot_budget_1]").await, "12.345");
    // Corrected, but with a deadline that has already passed: the rule is said at the field.
    fill(&buyer, "input[name=lot_budget_1]", "80000").await;
    let yesterday = tenderhall::web::local_input(&(app.clock.now() - chrono::TimeDelta::days(1)));
    set_value(&buyer, "input[name=bid_deadline]", &yesterday).await;
    click(&buyer, "[data-testid=save-draft]").await;
    let err = text_of(&buyer, "[data-testid=error-bid_deadline]").await;
    let days = app.state.settings.tenders.min_bidding_days;
    assert!(err.contains("不能早于当前时间") && err.contains(&format!("至少 {days} 日")), "the rule: {err}");
    assert_eq!(value_of(&buyer, "input[name=bid_deadline]").await, yesterday);
    assert_eq!(value_of(&buyer, "input[name=lot_budget_1]").await, "80000");
    assert!(text_of(&buyer, "[data-testid=form-summary]").await.contains("请按标出的提示修改"));
    shot(&buyer, "form-refused-deadline").await;
    let later = tenderhall::web::local_input(&(app.clock.now() + chrono::TimeDelta::days(days + 5)));
    set_value(&buyer, "input[name=bid_deadline]", &later).await;
    click(&buyer, "[data-testid=save-draft]").await;
    css(&buyer, "[data-testid=tender-state]").await;
    assert!(flash(&buyer).await.contains("已保存"), "saved");
    let bad = app.dir.path().join("fake.pdf");
    std::fs::write(&bad, b"this is not a pdf").expect("write");
    css(&buyer, "[data-testid=upload-form] input[type=file]")
        .await
        .send_keys(&bad.display().to_string())
        .await
        .expect("file");
    click(&buyer, "[data-testid=upload]").await;
    let err = css(&buyer, ".error-message").await;
    assert_eq!(err.attr("data-code").await.expect("attr").as_deref(), Some("pdf_invalid"));
    assert!(err.text().await.expect("text").contains("不是有效的 PDF"));
    shot(&buyer, "error-bad-pdf").await;
    buyer.close().await.ok();
}

#[tokio::test]
async fn supplier_registers_and_the_administrator_approves() {
    let app = spawn_app().await;
    let d = driver().await;
    let (p1, p2) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let newcomer = browser(&d, &p1).await;
    newcomer.goto(&format!("{}/register", app.base)).await.expect("goto");
    fill(&newcomer, "input[name=org_name]", "浏览器注册科技有限公司").await;
    fill(&newcomer, "input[name=credit_code]", "91110000MA01BROWS1").await;
    fill(&newcomer, "input[name=username]", "browser_new").await;
    fill(&newcomer, "input[name=display_name]", "新用户").await;
    fill(&newcomer, "input[name=password]", "abc12345").await;
    click(&newcomer, "form[action='/register'] button[type=submit]").await;
    css(&newcomer, "[data-testid=registered]").await;
    newcomer.goto(&format!("{}/login", app.base)).await.expect("goto");
    fill(&newcomer, "input[name=username]", "browser_new").await;
    fill(&newcomer, "input[name=password]", "abc12345").await;
    click(&newcomer, "form[action='/login'] button[type=submit]").await;
    let e = text_of(&newcomer, "[data-testid=login-error]").await;
    assert!(e.contains("审核"), "{e}");

    let admin = browser(&d, &p2).await;
    login(&admin, &app, "admin").await;
    admin.goto(&format!("{}/admin/organisations", app.base)).await.expect("goto");
    shot(&admin, "admin-registrations").await;
    assert!(page_text(&admin).await.contains("浏览器注册科技有限公司"));
    let question = click_and_answer(&admin, "form[action$='/approve'] button", true).await;
    assert!(question.contains("确定通过"), "{question}");
    assert!(flash(&admin).await.contains("注册已审核通过"));
    assert_eq!(text_of(&admin, "[data-testid=pending-count]").await, "0");

    fill(&newcomer, "input[name=password]", "abc12345").await;
    click(&newcomer, "form[action='/login'] button[type=submit]").await;
    let who = text_of(&newcomer, ".usermenu .who").await;
    assert!(who.contains("新用户"), "{who}");
    newcomer.close().await.ok();

    // The administrator adds a staff account from the registrations page's link.
    click(&admin, "[data-testid=staff-link]").await;
    css(&admin, "[data-testid=staff-list]").await;
    fill(&admin, "[data-testid=staff-add] input[name=org]", "测试交易中心").await;
    admin
        .execute("document.querySelector('[data-testid=staff-add] select[name=kind]').value = 'centre'", vec![])
        .await
        .expect("kind");
    admin
        .execute("document.querySelector('[data-testid=staff-add] select[name=role]').value = 'supervisor'", vec![])
        .await
        .expect("role");
    fill(&admin, "[data-testid=staff-add] input[name=username]", "browser_staff").await;
    fill(&admin, "[data-testid=staff-add] input[name=display_name]", "新监督员").await;
    fill(&admin, "[data-testid=staff-add] input[name=password]", "staff2026x").await;
    click(&admin, "[data-testid=staff-add] button[type=submit]").await;
    assert!(flash(&admin).await.contains("员工账户已添加"));
    let row = text_of(&admin, "[data-testid=staff-row][data-username=browser_staff]").await;
    assert!(row.contains("新监督员") && row.contains("监督"), "{row}");
    shot(&admin, "admin-staff").await;
    admin.close().await.ok();
}

#[tokio::test]
async fn supervisor_verifies_the_audit_chain_in_english() {
    let app = spawn_app().await;
    let d = driver().await;
    let p = tempfile::tempdir().expect("dir");
    let c = browser(&d, &p).await;
    login(&c, &app, "supervisor").await;
    click(&c, ".usermenu a.lang").await;
    css(&c, "html[lang=en]").await;
    // A tender's deadline counts down in English: the script writes the words the page gives it.
    let agency = api_login(&app, "agency_x").await;
    let tender = support_published_tender(&app, &agency).await;
    c.goto(&format!("{}/tenders/{tender}", app.base)).await.expect("goto");
    let countdown = text_of(&c, "[data-testid=tender-countdown]").await;
    assert!(
        countdown == "(29 d 23 h 59 min left)" || countdown == "(30 d 0 h 0 min left)",
        "the English countdown: {countdown:?}"
    );
    c.goto(&format!("{}/audit", app.base)).await.expect("goto");
    assert!(page_text(&c).await.contains("Audit trail"));
    click(&c, "[data-testid=verify]").await;
    let ok = text_of(&c, "[data-testid=verify-ok]").await;
    assert!(ok.contains("intact"), "{ok}");
    shot(&c, "audit-verify").await;
    // Tamper with a record by hand: the page says so.
    use sea_orm::ConnectionTrait;
    app.state
        .db
        .execute_unprepared("UPDATE audit_records SET action = 'user.nothing' WHERE seq = 2")
        .await
        .expect("tamper");
    c.goto(&format!("{}/audit/verify", app.base)).await.expect("goto");
    let failed = text_of(&c, "[data-testid=verify-failed]").await;
    assert!(failed.contains("#2"), "{failed}");
    c.close().await.ok();
}

#[tokio::test]
async fn the_browser_seals_exactly_like_the_rust_code_and_rust_opens_what_it_seals() {
    use tenderhall::envelope::{self, BidIdentity, BidderKey, ContentKey, Header};
    let app = spawn_app().await;
    let d = driver().await;
    let p = tempfile::tempdir().expect("dir");
    let c = browser(&d, &p).await;
    c.goto(&format!("{}/", app.base)).await.expect("goto");

    // 1. The pinned test vectors, sealed by WebCrypto, give the same bytes.
    let vectors: serde_json::Value = serde_json::from_str(include_str!("vectors/envelope-v1.json")).expect("vectors");
    let script = r#"
        const [vectors, done] = arguments;
        import('/static/envelope.js').then(async (m) => {
          const out = [];
          for (const c of vectors.cases) {
            const r = await m.seal(m.fromHex(c.bidder_key), { tender: c.tender, lot: c.lot, bidder: c.bidder, bid: c.bid },
              m.fromHex(c.payload), { cek: m.fromHex(c.cek), wrapSalt: m.fromHex(c.wrap_salt),
              noncePrefix: m.fromHex(c.nonce_prefix), chunkSize: c.chunk_size });
            out.push([m.toHex(r.envelope), m.toHex(r.digest)]);
          }
          done(out);
        }).catch((e) => done('error: ' + e));
    "#;
    let got = c.execute_async(script, vec![vectors.clone()]).await.expect("script");
    let cases = vectors["cases"].as_array().expect("cases");
    assert_eq!(got.as_array().map(Vec::len), Some(cases.len()), "{got}");
    for (case, res) in cases.iter().zip(got.as_array().expect("list")) {
        assert_eq!(res[0], case["envelope"], "envelope of {}", case["name"]);
        assert_eq!(res[1], case["sha256"], "digest of {}", case["name"]);
    }

    // 2. A bid sealed and signed in the browser with fresh keys (several 1 MiB chunks) is opened,
    //    unwrapped and its signature verified by the Rust code.
    let script = r#"
        const [done] = arguments;
        import('/static/envelope.js').then(async (m) => {
          const bidKey = crypto.getRandomValues(new Uint8Array(32));
          const payload = new Uint8Array(3 * 1024 * 1024 + 5);
          for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) % 251;
          const id = { tender: crypto.randomUUID(), lot: crypto.randomUUID(), bidder: crypto.randomUUID(), bid: crypto.randomUUID() };
          const r = await m.seal(bidKey, id, payload);
          const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
          const sig = await m.signDigest(pair.privateKey, r.digest);
          const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
          const released = await m.contentKey(bidKey, r.envelope);
          let wrongKey = 'accepted';
          try { await m.contentKey(crypto.getRandomValues(new Uint8Array(32)), r.envelope); } catch (e) { wrongKey = e.message; }
          done({ id, envelope: m.toHex(r.envelope), digest: m.toHex(r.digest), cek: m.toHex(r.cek), released: m.toHex(released),
                 bidKey: m.toHex(bidKey), pub: m.toHex(pub), sig: m.toHex(sig), wrongKey });
        }).catch((e) => done({ error: String(e) }));
    "#;
    let r = c.execute_async(script, vec![]).await.expect("script");
    assert!(r.get("error").is_none(), "{r}");
    let h = |k: &str| hex::decode(r[k].as_str().unwrap_or_else(|| panic!("{k}"))).expect("hex");
    let env = h("envelope");
    assert_eq!(h("digest"), ring::digest::digest(&ring::digest::SHA256, &env).as_ref());
    assert_eq!(h("released"), h("cek"), "the key the browser would release is the committed one");
    assert_eq!(r["wrongKey"], "wrong_bidder_key");
    let uuid = |k: &str| r["id"][k].as_str().expect("id").parse().expect("uuid");
    let id = BidIdentity { tender: uuid("tender"), lot: uuid("lot"), bidder: uuid("bidder"), bid: uuid("bid") };
    let cek = ContentKey(h("cek").try_into().expect("32 bytes"));
    let mut plain = Vec::new();
    envelope::open(&cek, &id, env.as_slice(), &mut plain).expect("Rust opens the browser's envelope");
    let expected: Vec<u8> = (0..3 * 1024 * 1024 + 5).map(|i: usize| (i * 31 % 251) as u8).collect();
    assert_eq!(plain, expected);
    let bid_key = BidderKey(h("bidKey").try_into().expect("32 bytes"));
    assert_eq!(envelope::unwrap_content_key(&bid_key, &Header::parse(&env).expect("header")).expect("unwrap"), cek);
    let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, h("pub"));
    assert!(public.verify(&h("digest"), &h("sig")).is_ok(), "the browser's signature verifies with ring");

    // 3. Derived seal parameters (for resuming) are the same in the browser and in Rust, and
    //    sealing twice with them gives the same envelope.
    let script = r#"
        const [bidKey, id, done] = arguments;
        import('/static/envelope.js').then(async (m) => {
          const k = m.fromHex(bidKey);
          const p = await m.derivedParams(k, id);
          const payload = new Uint8Array(2 * 1024 * 1024 + 9).map((_, i) => i % 253);
          const a = await m.seal(k, id, payload, p);
          const b = await m.seal(k, id, payload, await m.derivedParams(k, id));
          done({ cek: m.toHex(p.cek), salt: m.toHex(p.wrapSalt), prefix: m.toHex(p.noncePrefix),
                 same: m.toHex(a.digest) === m.toHex(b.digest), envelope: m.toHex(a.envelope) });
        }).catch((e) => done({ error: String(e) }));
    "#;
    let ident = serde_json::json!({"tender": id.tender, "lot": id.lot, "bidder": id.bidder, "bid": id.bid});
    let r = c.execute_async(script, vec![r["bidKey"].clone(), ident]).await.expect("script");
    assert!(r.get("error").is_none(), "{r}");
    let derived = tenderhall::envelope::SealParams::derived(&bid_key, &id);
    assert_eq!(r["cek"], hex::encode(derived.cek.0));
    assert_eq!(r["salt"], hex::encode(derived.wrap_salt));
    assert_eq!(r["prefix"], hex::encode(derived.nonce_prefix));
    assert_eq!(r["same"], true, "sealing again gives the same bytes");
    let payload: Vec<u8> = (0..2 * 1024 * 1024 + 9).map(|i: usize| (i % 253) as u8).collect();
    let mut rust_env = Vec::new();
    envelope::seal_with(&bid_key, &id, derived.clone(), payload.as_slice(), &mut rust_env).expect("seal");
    assert_eq!(r["envelope"], hex::encode(&rust_env), "the browser's streamed envelope is the Rust one");
    c.close().await.ok();
}

/// The bid panel's checker (`bidform.js`) gives what the Rust checker gives for every shared case
/// of `tests/vectors/bid-form-cases.json`: the same form to seal, or the same problems in the
/// same order.
#[tokio::test]
async fn the_bid_panel_checks_a_form_by_the_rules_of_the_opening() {
    use tenderhall::tenders::{bid_form, model::BidFormField};
    let app = spawn_app().await;
    let d = driver().await;
    let p = tempfile::tempdir().expect("dir");
    let c = browser(&d, &p).await;
    c.goto(&format!("{}/", app.base)).await.expect("goto");
    let text = include_str!("vectors/bid-form-cases.json").replace("@LONGEST_TEXT@", &"好".repeat(bid_form::MAX_TEXT));
    let cases: serde_json::Value = serde_json::from_str(&text).expect("cases");
    let script = r#"
        const [cases, done] = arguments;
        import('/static/bidform.js').then((m) => {
          done(cases.cases.map((c) => {
            const r = m.checkForm(cases.items, c.form);
            return { form: r.form, problems: r.problems.map((p) => [p.item, p.code]) };
          }));
        }).catch((e) => done('error: ' + e));
    "#;
    let got = c.execute_async(script, vec![cases.clone()]).await.expect("script");
    let items: Vec<BidFormField> = serde_json::from_value(cases["items"].clone()).expect("items");
    let list = cases["cases"].as_array().expect("cases");
    assert_eq!(got.as_array().map(Vec::len), Some(list.len()), "{got}");
    for (case, js) in list.iter().zip(got.as_array().expect("list")) {
        let name = &case["name"];
        let form = serde_json::from_value(case["form"].clone()).expect("form");
        match bid_form::check(&items, &form) {
            Ok(read) => {
                assert_eq!(js["problems"], serde_json::json!([]), "{name}: the browser refuses what Rust reads");
                assert_eq!(js["form"], serde_json::json!(read), "{name}");
                assert_eq!(js["form"], case["read"], "{name}");
            }
            Err(problems) => {
                let rust: Vec<serde_json::Value> =
                    problems.iter().map(|p| serde_json::json!([p.item, p.problem.code()])).collect();
                assert_eq!(js["problems"], serde_json::json!(rust), "{name}");
                assert_eq!(js["problems"], case["problems"], "{name}");
            }
        }
    }
    c.close().await.ok();
}

/// Makes a bid key in the bid panel, protected by `passphrase`, and waits for its download link
/// and for the platform to have registered its signing key (the link appears first).
async fn make_bid_key(s: &Client, passphrase: &str) {
    fill(s, "[data-role=passphrase]", passphrase).await;
    click(s, "[data-testid=keygen]").await;
    s.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid=key-download]:not([hidden])"))
        .await
        .expect("key made");
    let mut status = String::new();
    for _ in 0..200 {
        status = text_of(s, "[data-testid=key-status]").await;
        // The "saved" part is added once the key is registered; a failure shows its message.
        if status.contains('—') {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the signing key was not registered: {status:?}");
}

/// An agency publishes a tender with a delivery-days item in the bid form; returns its page URL.
async fn publish_in_browser(d: &Driver, app: &TestApp, profile: &tempfile::TempDir) -> String {
    let agency = browser(d, profile).await;
    login(&agency, app, "agency_x").await;
    click(&agency, "[data-testid=new-tender]").await;
    fill(&agency, "input[name=title]", "浏览器投标测试：服务器采购").await;
    let unit = support::org_id(app, "甲采购单位").await;
    agency
        .execute(&format!("document.querySelector('select[name=procuring_org]').value = '{unit}'"), vec![])
        .await
        .expect("select");
    fill(&agency, "input[name=lot_name_1]", "服务器").await;
    fill(&agency, "input[name=lot_budget_1]", "500000").await;
    agency.execute("document.querySelector('input[value=delivery_days]').checked = true", vec![]).await.expect("check");
    fill_notice(&agency, "2026-11-02T10:00", "2026-11-20T17:00").await;
    click(&agency, "[data-testid=save-draft]").await;
    // The draft's own page (its upload form), not the new-tender form the click was made on.
    css(&agency, "[data-testid=upload-form]").await;
    let tender_url = agency.current_url().await.expect("url").to_string();
    assert!(!tender_url.ends_with("/tenders/new"), "the saved draft's page: {tender_url}");
    let pdf_path = app.dir.path().join("tender.pdf");
    std::fs::write(&pdf_path, support::pdf("Servers", 2)).expect("pdf");
    css(&agency, "[data-testid=upload-form] input[type=file]")
        .await
        .send_keys(&pdf_path.display().to_string())
        .await
        .expect("file");
    click(&agency, "[data-testid=upload]").await;
    css(&agency, "[data-testid=documents] li").await;
    click_and_answer(&agency, "[data-testid=publish]", true).await;
    // The draft page has a state badge too: wait for the published one, so that the publishing
    // request has finished before the window closes.
    published_badge(&agency).await;
    agency.close().await.ok();
    tender_url
}

#[tokio::test]
async fn a_supplier_seals_and_submits_a_bid_in_the_browser_and_gets_a_receipt() {
    use tenderhall::{bidder::KeyFile, bids::receipt::Receipt, envelope};
    let app = spawn_app().await;
    let d = driver().await;
    let (pa, ps) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));

    // An agency publishes a tender (through the browser, as in the first test, but briefly).
    let tender_url = publish_in_browser(&d, &app, &pa).await;

    // The supplier obtains the documents, makes a bid key, fills the bid form and submits.
    let s = browser(&d, &ps).await;
    login(&s, &app, "supplier_1").await;
    open_page(&s, &tender_url).await;
    assert!(s.find(Locator::Css("[data-testid=bid-panel]")).await.is_err(), "no bid panel before obtaining");
    click(&s, "[data-testid=obtain]").await;
    css(&s, "[data-testid=bid-panel]").await;
    make_bid_key(&s, "bid key pass 2026").await;
    // Nothing is sealed while the form breaks the tender's rules: each item says what is wrong.
    click(&s, "[data-testid=seal-submit]").await;
    wait_text(&s, "[data-testid=field-error-total_price]", "此项为必填项").await;
    wait_text(&s, "[data-testid=field-error-delivery_days]", "此项为必填项").await;
    assert!(text_of(&s, "[data-testid=bid-status]").await.contains("请更正标出的各项"));
    fill(&s, "[data-testid=field-total_price]", "468000.001").await;
    click(&s, "[data-testid=seal-submit]").await;
    wait_text(&s, "[data-testid=field-error-total_price]", "金额最多保留两位小数").await;
    wait_text(&s, "[data-testid=field-error-delivery_days]", "此项为必填项").await;
    fill(&s, "[data-testid=field-total_price]", "468000.00").await;
    fill(&s, "[data-testid=field-delivery_days]", "三十").await;
    click(&s, "[data-testid=seal-submit]").await;
    wait_text(&s, "[data-testid=field-error-delivery_days]", "请填写整数天数").await;
    css(&s, "[data-testid=field-error-total_price][hidden]").await;
    shot(&s, "bid-form-refused").await;
    assert!(s.find(Locator::Css("[data-testid=my-bid]")).await.is_err(), "no bid was reserved");
    fill(&s, "[data-testid=field-delivery_days]", "30").await;
    let bid_pdf = app.dir.path().join("投标文件.pdf");
    let bid_pdf_bytes = support::pdf("Our offer", 3);
    std::fs::write(&bid_pdf, &bid_pdf_bytes).expect("pdf");
    css(&s, "[data-testid=bid-files]").await.send_keys(&bid_pdf.display().to_string()).await.expect("file");
    click(&s, "[data-testid=seal-submit]").await;
    s.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("[data-testid=receipt-download]"))
        .await
        .expect("receipt shown");
    let status = text_of(&s, "[data-testid=bid-status]").await;
    assert!(status.contains("投标成功"), "{status}");
    css(&s, "[data-testid=field-error-delivery_days][hidden]").await;
    shot(&s, "bid-submitted").await;

    // The receipt verifies with the platform key; the key file (passphrase-protected) opens the
    // stored envelope in Rust, and the bid form and file are what the supplier entered.
    let fetch = r#"const [sel, done] = arguments; fetch(document.querySelector(sel).href).then(r => r.text()).then(done, e => done('error ' + e));"#;
    let receipt_text = s.execute_async(fetch, vec!["[data-testid=receipt-download]".into()]).await.expect("receipt");
    let receipt: Receipt = serde_json::from_str(receipt_text.as_str().expect("text")).expect("receipt json");
    assert!(receipt.verify(&app.state.key.public()));
    let key_text = s.execute_async(fetch, vec!["[data-testid=key-download]".into()]).await.expect("key file");
    let key_text = key_text.as_str().expect("text");
    assert!(key_text.contains("pbkdf2-sha256"), "protected by the passphrase");
    assert!(KeyFile::from_json(key_text, Some("wrong")).is_err());
    let key = KeyFile::from_json(key_text, Some("bid key pass 2026")).expect("key file opens in Rust");
    let stored = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored envelope");
    let cek = key.content_key(&stored).expect("release key");
    let id =
        envelope::BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&cek, &id, stored.as_ref(), &mut plain).expect("open");
    let contents = envelope::payload::unpack(&plain).expect("payload");
    assert_eq!(contents.manifest.form.get("total_price").and_then(|v| v.as_str()), Some("468000.00"));
    assert_eq!(contents.manifest.form.get("delivery_days").and_then(|v| v.as_str()), Some("30"));
    assert_eq!(contents.manifest.files[0].name, "投标文件.pdf");
    assert_eq!(contents.files[0], bid_pdf_bytes);
    assert!(!stored.windows(9).any(|w| w == b"468000.00"), "the price is not readable on the server");

    // 我的投标: the bid is listed on the tender page, and still after a reload, with its status,
    // time received, digest, receipt and the actions open.
    let row = "[data-testid=my-bid][data-status=submitted]";
    css(&s, row).await;
    s.refresh().await.expect("reload");
    css(&s, row).await;
    wait_text(&s, &format!("{row} [data-testid=my-bid-status]"), "已提交").await;
    wait_text(&s, &format!("{row} [data-testid=my-bid-digest]"), &receipt.envelope_sha256).await;
    let received = text_of(&s, &format!("{row} [data-testid=my-bid-received]")).await;
    let expected = receipt.received_at.with_timezone(&tenderhall::web::cst()).format("%Y-%m-%d %H:%M:%S").to_string();
    assert_eq!(received, expected, "received, to the second in China Standard Time");
    css(&s, &format!("{row} [data-testid=my-bid-replace]")).await;
    css(&s, &format!("{row} [data-testid=my-bid-withdraw]")).await;
    let listed =
        s.execute_async(fetch, vec![format!("{row} [data-testid=my-bid-receipt-json]").into()]).await.expect("receipt");
    let listed: Receipt = serde_json::from_str(listed.as_str().expect("text")).expect("receipt json");
    assert_eq!(listed, receipt, "the receipt downloads again from the list");
    let pdf_head = s
        .execute_async(
            "const [sel, done] = arguments; fetch(document.querySelector(sel).href).then(r => r.arrayBuffer()).then(b => done(new TextDecoder().decode(new Uint8Array(b).slice(0, 5))));",
            vec![format!("{row} [data-testid=my-bid-receipt-pdf]").into()],
        )
        .await
        .expect("pdf");
    assert_eq!(pdf_head, "%PDF-");
    shot(&s, "my-bids-tender").await;

    let status_of = |bid: uuid::Uuid| {
        let app = &app;
        async move {
            use sea_orm::EntityTrait;
            use sea_orm::{ColumnTrait, QueryFilter};
            tenderhall::entities::bid::Entity::find()
                .filter(tenderhall::entities::bid::Column::PublicId.eq(bid))
                .one(&app.state.db)
                .await
                .expect("db")
                .expect("bid")
                .status
                .as_str()
        }
    };
    // The workspace lists it too, with its tender; once withdrawn no action is left.
    open_page(&s, &format!("{}/workspace", app.base)).await;
    wait_text(&s, row, "浏览器投标测试：服务器采购").await;
    // Withdrawing asks first: answered with Cancel, nothing happens; with OK, the bid is withdrawn
    // and the list says so.
    let question = click_and_answer(&s, &format!("{row} [data-testid=my-bid-withdraw]"), false).await;
    assert!(question.contains("确定撤回"), "{question}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    css(&s, &format!("{row} [data-testid=my-bid-withdraw]")).await;
    assert_eq!(status_of(receipt.bid).await, "submitted", "dismissed: nothing happened");
    click_and_answer(&s, &format!("{row} [data-testid=my-bid-withdraw]"), true).await;
    let withdrawn = "[data-testid=my-bid][data-status=withdrawn]";
    wait_text(&s, withdrawn, "已撤回").await;
    assert!(text_of(&s, "[data-testid=my-bids-message]").await.contains("投标已撤回"));
    assert_eq!(status_of(receipt.bid).await, "withdrawn");
    assert!(s.find(Locator::Css(&format!("{withdrawn} [data-testid=my-bid-withdraw]"))).await.is_err());
    css(&s, &format!("{withdrawn} [data-testid=my-bid-receipt-pdf]")).await;
    shot(&s, "my-bids-workspace").await;
    s.close().await.ok();
}

#[tokio::test]
async fn the_top_bar_stays_on_one_line_on_a_laptop_screen() {
    let app = spawn_app().await;
    let d = driver().await;
    let p = tempfile::tempdir().expect("dir");
    let c = browser(&d, &p).await;
    // The administrator has the most menus; supervisors and agencies have fewer.
    login(&c, &app, "admin").await;
    for (width, height) in [(1366, 768), (1280, 800)] {
        c.set_window_size(width, height).await.expect("window size");
        for lang in ["zh", "en"] {
            c.goto(&format!("{}/lang/{lang}?back=/admin/organisations", app.base)).await.expect("goto");
            css(&c, &format!("html[lang^={lang}] [data-testid=org-filters]")).await;
            let bar = c
                .execute(
                    "const bar = document.querySelector('.topbar');\
                     const parts = [...document.querySelectorAll('.topbar-inner > *')].map(e => e.getBoundingClientRect());\
                     const links = [...document.querySelectorAll('.mainnav a, .usermenu > *')].map(e => e.getBoundingClientRect());\
                     return { height: bar.offsetHeight, width: window.innerWidth,\
                              tops: links.map(r => Math.round(r.top + r.height / 2)),\
                              overlap: parts.some((r, i) => i > 0 && r.left < parts[i - 1].right) };",
                    vec![],
                )
                .await
                .expect("measure");
            let tops: Vec<i64> = bar["tops"].as_array().expect("tops").iter().filter_map(|t| t.as_i64()).collect();
            assert!(tops.len() >= 9, "{bar}");
            let (lo, hi) = (tops.iter().min().copied().unwrap_or(0), tops.iter().max().copied().unwrap_or(0));
            assert!(hi - lo <= 4, "{width}px {lang}: every menu on one line: {bar}");
            assert!(bar["height"].as_i64().is_some_and(|h| h <= 64), "{width}px {lang}: one line high: {bar}");
            assert_eq!(bar["overlap"], false, "{width}px {lang}: nothing overlaps: {bar}");
            shot(&c, &format!("topbar-{width}-{lang}")).await;
        }
    }
    c.close().await.ok();
}

/// Sets (or with `None` lifts) Chromium's emulated upload speed, through chromedriver.
async fn throttle_uploads(d: &Driver, c: &Client, bytes_per_second: Option<u64>) {
    let session = c.session_id().await.expect("session").expect("session id");
    let url = format!("http://127.0.0.1:{}/session/{session}/chromium/network_conditions", d.port);
    let http = reqwest::Client::new();
    let r = match bytes_per_second {
        Some(bps) => {
            let body = serde_json::json!({"network_conditions": {"offline": false, "latency": 0,
                "download_throughput": 100_000_000, "upload_throughput": bps}});
            http.post(url).json(&body).send().await
        }
        None => http.delete(url).send().await,
    };
    assert!(r.expect("chromedriver").status().is_success(), "network conditions");
}

#[tokio::test]
async fn an_upload_cut_off_by_closing_the_page_resumes_where_it_stopped() {
    use tenderhall::{bidder::KeyFile, bids::receipt::Receipt, envelope};
    let app = spawn_app().await;
    let d = driver().await;
    let (pa, ps) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let tender_url = publish_in_browser(&d, &app, &pa).await;

    let s = browser(&d, &ps).await;
    login(&s, &app, "supplier_1").await;
    open_page(&s, &tender_url).await;
    click(&s, "[data-testid=obtain]").await;
    make_bid_key(&s, "resume pass 2026").await;
    let fetch = r#"const [sel, done] = arguments; fetch(document.querySelector(sel).href).then(r => r.text()).then(done, e => done('error ' + e));"#;
    let key_text = s.execute_async(fetch, vec!["[data-testid=key-download]".into()]).await.expect("key file");
    let key_path = app.dir.path().join("bid-key.json");
    std::fs::write(&key_path, key_text.as_str().expect("text")).expect("save key");

    // A 24 MiB offer over a slow uplink.
    let offer = app.dir.path().join("offer.pdf");
    let mut bytes = support::pdf("Large offer", 2);
    bytes.extend((0..(24usize << 20)).map(|i| (i * 13 % 251) as u8));
    std::fs::write(&offer, &bytes).expect("offer");
    let enter_bid = |s: Client| {
        let offer = offer.display().to_string();
        async move {
            fill(&s, "[data-testid=field-total_price]", "455000.00").await;
            fill(&s, "[data-testid=field-delivery_days]", "45").await;
            css(&s, "[data-testid=bid-files]").await.send_keys(&offer).await.expect("file");
            click(&s, "[data-testid=seal-submit]").await;
            s
        }
    };
    throttle_uploads(&d, &s, Some(4 << 20)).await;
    let s = enter_bid(s).await;

    // Once part of it is stored, the supplier closes the page.
    let partial_dir = app.state.settings.storage.blob_dir.join("partial");
    let stored = |dir: &std::path::Path| -> u64 {
        std::fs::read_dir(dir)
            .map(|it| it.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
            .unwrap_or(0)
    };
    let mut waited = 0;
    while stored(&partial_dir) < 4 << 20 {
        assert!(waited < 600, "no part of the upload arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    s.goto("about:blank").await.expect("leave");
    let kept = stored(&partial_dir);
    assert!(kept < bytes.len() as u64, "the upload was cut off part-way ({kept} bytes kept)");
    throttle_uploads(&d, &s, None).await;

    // Back on the page: it says an upload is unfinished; the supplier loads the key file,
    // enters the same bid and files, and the upload continues from what the platform holds.
    s.goto(&tender_url).await.expect("back");
    css(&s, "[data-testid=resume-note]:not([hidden])").await;
    fill(&s, "[data-role=passphrase]", "resume pass 2026").await;
    css(&s, "[data-testid=keyfile]").await.send_keys(&key_path.display().to_string()).await.expect("key file");
    for _ in 0..200 {
        if text_of(&s, "[data-testid=key-status]").await.contains("已就绪") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = enter_bid(s).await;
    s.wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css("[data-testid=receipt-download]"))
        .await
        .expect("receipt shown");
    assert!(css(&s, "[data-testid=resume-note]").await.attr("hidden").await.expect("attr").is_some());
    shot(&s, "bid-resumed").await;

    // One bid only, receipted; its envelope holds the whole offer and opens with the key file.
    let receipt_text = s.execute_async(fetch, vec!["[data-testid=receipt-download]".into()]).await.expect("receipt");
    let receipt: Receipt = serde_json::from_str(receipt_text.as_str().expect("text")).expect("receipt json");
    assert!(receipt.verify(&app.state.key.public()));
    let mine = s
        .execute_async(
            "const [u, done] = arguments; fetch(u).then(r => r.json()).then(done);",
            vec![format!("/api/v1/tenders/{}/my-bids", receipt.tender).into()],
        )
        .await
        .expect("my bids");
    let statuses: Vec<&str> = mine.as_array().expect("list").iter().filter_map(|b| b["status"].as_str()).collect();
    assert_eq!(statuses, ["submitted"], "the interrupted bid itself was completed, no second one");
    let key = KeyFile::from_json(key_text.as_str().expect("text"), Some("resume pass 2026")).expect("key");
    let env = app.state.blobs.get(&receipt.envelope_sha256).await.expect("stored");
    let id =
        envelope::BidIdentity { tender: receipt.tender, lot: receipt.lot, bidder: receipt.bidder, bid: receipt.bid };
    let mut plain = Vec::new();
    envelope::open(&key.content_key(&env).expect("cek"), &id, env.as_ref(), &mut plain).expect("open");
    let contents = envelope::payload::unpack(&plain).expect("payload");
    assert_eq!(contents.files[0], bytes);
    assert_eq!(contents.manifest.form["total_price"], "455000.00");

    // The printed receipt downloads as a PDF.
    let head = s
        .execute_async(
            "const [sel, done] = arguments; fetch(document.querySelector(sel).href).then(r => r.arrayBuffer()).then(b => done(new TextDecoder().decode(new Uint8Array(b).slice(0, 5))));",
            vec!["[data-testid=receipt-pdf]".into()],
        )
        .await
        .expect("pdf");
    assert_eq!(head, "%PDF-");
    s.close().await.ok();
}

/// Waits until `sel`'s text contains `want`.
async fn wait_text(c: &Client, sel: &str, want: &str) {
    for _ in 0..300 {
        if let Ok(e) = c.find(Locator::Css(sel)).await
            && e.text().await.unwrap_or_default().contains(want)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = match c.find(Locator::Css(sel)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    panic!("{sel} never showed {want:?}; it shows {got:?}");
}

#[tokio::test]
async fn three_suppliers_a_host_and_a_supervisor_hold_an_opening() {
    use tenderhall::bidder::KeyFile;
    // Two valid bids are enough for this tender, so the one that is not decrypted does not fail it.
    let app = support::spawn_app_with(support::Options {
        settings: Some(Box::new(|s| s.tenders.min_valid_bids = 2)),
        ..Default::default()
    })
    .await;
    let d = driver().await;

    // A tender with three bids, sealed by the bidders' tool code, and the deadline passed.
    let agency_api = api_login(&app, "agency_x").await;
    let tender = support_published_tender(&app, &agency_api).await;
    let mut keys = Vec::new();
    for (user, price) in [("supplier_1", "3650000.00"), ("supplier_2", "3712345.67"), ("supplier_3", "3599000.00")] {
        let c = api_login(&app, user).await;
        let key = KeyFile::generate().expect("key");
        api_bid(&app, &c, &tender, &key, price).await;
        let path = app.dir.path().join(format!("{user}.key"));
        std::fs::write(&path, key.to_json(Some("opening pass")).expect("json")).expect("key file");
        keys.push((user, path));
    }
    let deadline: chrono::DateTime<chrono::Utc> = agency_api
        .get(format!("{}/api/v1/tenders/{tender}", app.base))
        .send()
        .await
        .expect("get")
        .json::<serde_json::Value>()
        .await
        .expect("json")["bid_deadline"]
        .as_str()
        .expect("deadline")
        .parse()
        .expect("time");
    app.clock.set(deadline + chrono::TimeDelta::minutes(1));
    // The hall opens at the deadline by its job.
    app.tick().await;

    let profiles: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().expect("dir")).collect();
    let host = browser(&d, &profiles[0]).await;
    login(&host, &app, "agency_x").await;
    host.goto(&format!("{}/tenders/{tender}", app.base)).await.expect("goto");
    click(&host, "[data-testid=enter-hall]").await;
    wait_text(&host, "[data-testid=hall-phase]", "签到").await;
    let supervisor = browser(&d, &profiles[1]).await;
    login(&supervisor, &app, "supervisor").await;
    supervisor.goto(&format!("{}/tenders/{tender}/opening", app.base)).await.expect("goto");
    wait_text(&supervisor, "[data-testid=hall-phase]", "签到").await;
    // The sign-in window counts down by the server's clock.
    wait_text(&host, "[data-role=window-label]", "签到剩余时间").await;
    wait_text(&host, "[data-testid=hall-countdown]", "14:").await;
    let mut bidders = Vec::new();
    for (i, (user, _)) in keys.iter().enumerate() {
        let b = browser(&d, &profiles[2 + i]).await;
        login(&b, &app, user).await;
        b.goto(&format!("{}/tenders/{tender}/opening", app.base)).await.expect("goto");
        wait_text(&b, "[data-testid=hall-countdown]", ":").await;
        click(&b, "[data-testid=sign-in]").await;
        // Signed in: the button says so and cannot be pressed again.
        wait_text(&b, "[data-testid=sign-in]", "已签到").await;
        assert!(!css(&b, "[data-testid=sign-in]").await.is_enabled().await.expect("enabled"));
        bidders.push(b);
    }
    wait_text(&host, "[data-testid=hall-events]", "供应商三有限公司").await;
    // Everyone sees every bidder's sign-in in the bidders' table; a bidder sees its own row marked.
    for name in ["供应商一有限公司", "供应商二有限公司", "供应商三有限公司"] {
        wait_text(&host, &format!("[data-testid=hall-bidder][data-bidder='{name}'] [data-col=signed_in]"), "已签到")
            .await;
    }
    wait_text(&bidders[0], "[data-testid=hall-bidder].mine", "供应商一有限公司").await;
    // After a reload, a bidder's sign-in still shows as done.
    bidders[1].refresh().await.expect("reload");
    wait_text(&bidders[1], "[data-testid=sign-in]", "已签到").await;

    // The host starts the decryption; every screen shows the phase and a countdown.
    click(&host, "[data-testid=start-decryption]").await;
    for b in &bidders {
        wait_text(b, "[data-testid=hall-phase]", "解密").await;
        wait_text(b, "[data-testid=hall-countdown]", ":").await;
    }
    wait_text(&bidders[0], "[data-role=window-label]", "解密剩余时间").await;
    // Two bidders decrypt from their key files; the third does not.
    for (b, (_, path)) in bidders.iter().zip(&keys).take(2) {
        let label = text_of(b, "label:has([data-testid=hall-passphrase])").await;
        assert_eq!(label.trim(), "密钥文件口令", "the hall asks for the key file's passphrase");
        fill(b, "[data-testid=hall-passphrase]", "opening pass").await;
        css(b, "[data-testid=hall-keyfile]").await.send_keys(&path.display().to_string()).await.expect("key file");
        click(b, "[data-testid=release-key]").await;
    }
    wait_text(&host, "[data-testid=hall-events]", "供应商二有限公司").await;
    for name in ["供应商一有限公司", "供应商二有限公司"] {
        wait_text(
            &supervisor,
            &format!("[data-testid=hall-bidder][data-bidder='{name}'] [data-col=decryption]"),
            "已解密",
        )
        .await;
    }
    for b in &bidders[..2] {
        wait_text(b, "[data-testid=release-key]", "已解密").await;
    }
    // No price anywhere before the reading.
    for b in bidders.iter().chain([&host, &supervisor]) {
        let text = page_text(b).await;
        for price in ["3650000.00", "3712345.67", "3,650,000.00", "3,712,345.67"] {
            assert!(!text.contains(price), "no price before the reading");
        }
    }
    // The window closes; the host moves on and everyone sees the prices at once.
    app.clock.advance(chrono::TimeDelta::minutes(31));
    click(&host, "[data-testid=advance]").await;
    for c in bidders.iter().chain([&host, &supervisor]) {
        wait_text(c, "[data-testid=hall-reading]", "¥3,712,345.67").await;
        wait_text(c, "[data-testid=hall-reading]", "叁佰柒拾壹万贰仟叁佰肆拾伍元陆角柒分").await;
        wait_text(c, "[data-testid=hall-reading]", "投标总价（元）").await;
        wait_text(c, "[data-testid=hall-reading]", "未能开启").await;
    }
    let reading = text_of(&host, "[data-testid=hall-reading]").await;
    assert!(!reading.contains("total_price") && !reading.contains("3712345.67"), "{reading}");
    wait_text(&host, "[data-testid=hall-bidder][data-bidder='供应商三有限公司'] [data-col=decryption]", "解密失败")
        .await;
    wait_text(&host, "[data-role=window-label]", "异议剩余时间").await;
    shot(&host, "opening-reading").await;

    // The third bidder objects, the host answers, the supervisor notes.
    fill(&bidders[2], "[data-testid=objection-text]", "我方未能按时解密，请记录在案。").await;
    click(&bidders[2], "[data-testid=object]").await;
    wait_text(&host, "[data-testid=hall-events]", "我方未能按时解密").await;
    fill(&host, "[data-testid=answer-text]", "已记录。").await;
    click(&host, "[data-testid=answer]").await;
    fill(&supervisor, "[data-testid=note-text]", "监督人员全程在线监督。").await;
    click(&supervisor, "[data-testid=add-note]").await;
    wait_text(&bidders[0], "[data-testid=hall-events]", "监督人员全程在线监督").await;

    // Confirmation: the first bidder signs the record with its key file; the host closes.
    app.clock.advance(chrono::TimeDelta::minutes(11));
    click(&host, "[data-testid=advance]").await;
    wait_text(&bidders[0], "[data-testid=hall-phase]", "确认").await;
    // The confirmation window counts down too.
    wait_text(&bidders[0], "[data-role=window-label]", "确认剩余时间").await;
    wait_text(&bidders[0], "[data-testid=hall-countdown]", "29:").await;
    click(&bidders[0], "[data-testid=confirm]").await;
    wait_text(&host, "[data-testid=hall-events]", "投标人已确认").await;
    wait_text(&bidders[0], "[data-testid=confirm]", "已签名确认").await;
    assert!(!css(&bidders[0], "[data-testid=confirm]").await.is_enabled().await.expect("enabled"));
    wait_text(&host, "[data-testid=hall-bidder][data-bidder='供应商一有限公司'] [data-col=confirmed]", "已确认").await;
    let second = text_of(&host, "[data-testid=hall-bidder][data-bidder='供应商二有限公司'] [data-col=confirmed]").await;
    assert_eq!(second, "未确认");
    shot(&bidders[0], "opening-confirmed").await;
    click(&host, "[data-testid=advance]").await;
    for c in bidders.iter().chain([&host, &supervisor]) {
        wait_text(c, "[data-testid=hall-phase]", "开标结束").await;
    }
    shot(&supervisor, "opening-closed").await;

    // The record downloads as a PDF whose text a PDF extractor reads back.
    let script = r#"const [sel, done] = arguments; fetch(document.querySelector(sel).href).then(r => r.arrayBuffer())
        .then(b => { let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); });"#;
    let b64 = supervisor.execute_async(script, vec!["[data-testid=record-pdf]".into()]).await.expect("record");
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("text")).expect("base64");
    let text: String = pdf_extract::extract_text_from_mem(&pdf).expect("text").split_whitespace().collect();
    for want in [
        "开标记录表",
        "¥3,650,000.00",
        "¥3,712,345.67",
        "叁佰陆拾伍万元整",
        "投标人签到",
        "解密失败",
        "我方未能按时解密",
        "监督人员全程在线监督",
        "供应商一有限公司",
    ] {
        assert!(text.contains(want), "{want} in the record: {text}");
    }

    // A lost connection: the hall says it is reconnecting, and comes back by itself. (A frame
    // over 64 KiB makes the server drop the connection.)
    let watch = r#"const conn = document.querySelector('[data-testid=hall-conn]'); window.connStates = [];
        new MutationObserver(() => window.connStates.push(`${conn.dataset.state}:${conn.textContent}`))
            .observe(conn, {attributes: true, childList: true, characterData: true, subtree: true});
        document.querySelector('[data-testid=note-text]').value = 'x'.repeat(70000);
        document.querySelector('[data-testid=add-note]').click();"#;
    supervisor.execute(watch, vec![]).await.expect("script");
    let mut states = Vec::new();
    for _ in 0..100 {
        let v = supervisor.execute("return window.connStates", vec![]).await.expect("states");
        states =
            v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
        if states.iter().any(|s| s.starts_with("reconnecting:"))
            && states.last().is_some_and(|s| s.starts_with("open:"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(states.iter().any(|s| s == "reconnecting:已断开，正在重连……"), "{states:?}");
    assert!(states.last().is_some_and(|s| s.starts_with("open:")), "{states:?}");

    // The supervisor's session is ended from another client: the hall stops reconnecting and
    // says so, with a link to log in.
    let cookie = supervisor.get_named_cookie("th_session").await.expect("session cookie");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("th_session={}", cookie.value()), &app.base.parse().expect("url"));
    let elsewhere = reqwest::Client::builder().cookie_provider(jar).build().expect("client");
    let t: serde_json::Value =
        elsewhere.get(format!("{}/api/v1/csrf", app.base)).send().await.expect("csrf").json().await.expect("json");
    let r = elsewhere
        .delete(format!("{}/api/v1/session", app.base))
        .header("x-csrf-token", t["csrf_token"].as_str().expect("token"))
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), 204);
    wait_text(&supervisor, "[data-testid=hall-conn]", "登录已失效，已断开。").await;
    let link = css(&supervisor, "[data-testid=hall-login]").await;
    assert_eq!(link.text().await.expect("text"), "重新登录");
    assert_eq!(
        link.attr("href").await.expect("href").as_deref(),
        Some(format!("/login?next=%2Ftenders%2F{tender}%2Fopening").as_str())
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let conn = css(&supervisor, "[data-testid=hall-conn]").await;
    assert_eq!(conn.attr("data-state").await.expect("state").as_deref(), Some("ended"), "no more reconnecting");
    link.click().await.expect("click");
    css(&supervisor, "form[action^='/login']").await;

    for c in bidders.into_iter().chain([host, supervisor]) {
        c.close().await.ok();
    }
}

/// A reqwest session logged in as a fixture user, with its CSRF token as a default header.
async fn api_login(app: &TestApp, user: &str) -> reqwest::Client {
    api_login_with(app, user, PASSWORD).await
}

async fn api_login_with(app: &TestApp, user: &str, password: &str) -> reqwest::Client {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = reqwest::Client::builder().cookie_provider(jar.clone()).build().expect("client");
    let t: serde_json::Value =
        c.get(format!("{}/api/v1/csrf", app.base)).send().await.expect("csrf").json().await.expect("json");
    let r: serde_json::Value = c
        .post(format!("{}/api/v1/session", app.base))
        .header("x-csrf-token", t["csrf_token"].as_str().expect("token"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-csrf-token", r["csrf_token"].as_str().expect("csrf").parse().expect("header"));
    reqwest::Client::builder().cookie_provider(jar).default_headers(headers).build().expect("client")
}

async fn support_published_tender(app: &TestApp, agency: &reqwest::Client) -> String {
    let unit = support::org_id(app, "甲采购单位").await;
    use tenderhall::clock::Clock;
    let body = serde_json::json!({"title": "开标大厅测试", "procuring_org": unit, "procurement_method": "open_tender",
        "evaluation_method": "lowest_price", "bid_deadline": app.clock.now() + chrono::TimeDelta::days(30),
        "qualification": "具有独立承担民事责任的能力。", "contact_person": "王工", "contact_phone": "010-68001234",
        "documents_from": app.clock.now(), "documents_until": app.clock.now() + chrono::TimeDelta::days(30),
        "lots": [{"name": "服务器", "budget": 500_000_000}]});
    let t: serde_json::Value = agency
        .post(format!("{}/api/v1/tenders", app.base))
        .json(&body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = t["id"].as_str().expect("id").to_string();
    let part = reqwest::multipart::Part::bytes(support::pdf("Tender", 1)).file_name("t.pdf");
    let r = agency
        .post(format!("{}/api/v1/tenders/{id}/documents", app.base))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("doc");
    assert!(r.status().is_success());
    let r = agency.post(format!("{}/api/v1/tenders/{id}/publish", app.base)).send().await.expect("publish");
    assert!(r.status().is_success());
    id
}

async fn api_bid(app: &TestApp, c: &reqwest::Client, tender: &str, key: &tenderhall::bidder::KeyFile, price: &str) {
    use base64::Engine;
    let base = &app.base;
    assert!(
        c.post(format!("{base}/api/v1/tenders/{tender}/obtain")).send().await.expect("obtain").status().is_success()
    );
    let pubkey = base64::engine::general_purpose::STANDARD.encode(&key.public_key);
    let r =
        c.post(format!("{base}/api/v1/me/bidder-keys")).json(&serde_json::json!({"public_key": pubkey})).send().await;
    let key_id =
        r.expect("key").json::<serde_json::Value>().await.expect("json")["key_id"].as_str().expect("id").to_string();
    let t: serde_json::Value =
        c.get(format!("{base}/api/v1/tenders/{tender}")).send().await.expect("t").json().await.expect("json");
    let lot = t["lots"][0]["id"].as_str().expect("lot");
    let ticket: serde_json::Value = c
        .post(format!("{base}/api/v1/tenders/{tender}/lots/{lot}/bids"))
        .send()
        .await
        .expect("r")
        .json()
        .await
        .expect("j");
    let id = |k: &str| ticket[k].as_str().expect("id").parse().expect("uuid");
    let ident = tenderhall::envelope::BidIdentity {
        tender: id("tender"),
        lot: id("lot"),
        bidder: id("bidder"),
        bid: id("bid"),
    };
    let mut form = std::collections::BTreeMap::new();
    form.insert("total_price".to_string(), price.to_string());
    let payload = tenderhall::envelope::payload::pack(form, &[("offer.pdf", &support::pdf("Offer", 1))]);
    let mut env = Vec::new();
    let (_, sig) = key.seal(&ident, payload.as_slice(), &mut env).expect("seal");
    let r = c
        .put(format!("{base}/api/v1/bids/{}/envelope", ident.bid))
        .header("x-bidder-key", key_id)
        .header("x-bid-signature", sig)
        .body(env)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
}

/// A user of the fixture centre with the agency-staff role: the centre's e-mall staff, who set
/// up agreements. Returns an API session of that user.
async fn centre_staff(app: &TestApp) -> reqwest::Client {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tenderhall::{accounts::model::Role, accounts::service as accounts, entities::organisation};
    let actor = tenderhall::audit::AuditActor { user_id: None, org_id: None, label: "test fixture".into() };
    let mut txn = app.state.writer.begin().await.expect("txn");
    let centre = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("测试交易中心"))
        .one(&txn)
        .await
        .expect("query")
        .expect("fixture centre");
    let hash = accounts::hash_password(PASSWORD).expect("hash");
    accounts::create_user(&mut txn, &actor, &centre, "centre", "集采中心经办", Role::AgencyStaff, &hash)
        .await
        .expect("centre user");
    txn.commit().await.expect("commit");
    api_login(app, "centre").await
}

/// Sets up a printer agreement for `supplier` with one item; returns the agreement's id.
async fn mall_agreement(
    app: &TestApp,
    centre: &reqwest::Client,
    supplier: &str,
    (brand, name, model, price, market): (&str, &str, &str, i64, i64),
) -> String {
    use tenderhall::clock::Clock;
    let now = app.clock.now();
    let body = serde_json::json!({"title": format!("2026年度打印设备协议供货（{supplier}）"), "kind": "goods",
        "supplier": support::org_id(app, supplier).await, "categories": ["printers", "consumables"],
        "service_area": "全区", "valid_from": now - chrono::TimeDelta::days(30), "valid_to": now + chrono::TimeDelta::days(335)});
    let r = centre.post(format!("{}/api/v1/mall/agreements", app.base)).json(&body).send().await.expect("agreement");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let item = serde_json::json!({"category": "printers", "name": name, "brand": brand, "model": model,
        "spec": "A4 黑白激光，双面打印，网络接口", "unit": "台", "price": price, "market_price": market});
    let r =
        centre.post(format!("{}/api/v1/mall/agreements/{id}/items", app.base)).json(&item).send().await.expect("item");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    id
}

async fn logout(c: &Client) {
    click(c, "form[action='/logout'] button[type=submit]").await;
    css(c, ".usermenu a[href='/login']").await;
}

/// Clicks the button of the order-step form of `action` and waits for the new status.
async fn order_step(c: &Client, action: &str, status: &str) {
    click(c, &format!("[data-testid=step-{action}] button[type=submit]")).await;
    wait_text(c, "[data-testid=order-status]", status).await;
}

/// The text of `sel`, looked up again if the page replaced it meanwhile.
async fn text_of(c: &Client, sel: &str) -> String {
    for _ in 0..50 {
        match css(c, sel).await.text().await {
            Ok(t) => return t,
            Err(fantoccini::error::CmdError::Standard(e))
                if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                    || e.message.contains("does not belong to the document") =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("text of {sel}: {e}"),
        }
    }
    panic!("text of {sel}: the element kept going stale");
}

#[tokio::test]
async fn mall_direct_purchase_and_quotation() {
    use tenderhall::{mall::model::Savings, money::Money};
    let app = spawn_app().await;

    // The centre sets up printer agreements with three suppliers, each with an item; the first
    // also sells toner, which a search for printers does not find.
    let centre = centre_staff(&app).await;
    let hp =
        mall_agreement(&app, &centre, "供应商一有限公司", ("惠普", "激光打印机", "M404dn", 259_900, 289_900)).await;
    mall_agreement(&app, &centre, "供应商二有限公司", ("佳能", "激光打印机", "LBP252dw", 239_900, 259_900)).await;
    mall_agreement(&app, &centre, "供应商三有限公司", ("兄弟", "黑白激光打印机", "HL-5595DN", 299_900, 319_900)).await;
    let toner = serde_json::json!({"category": "consumables", "name": "原装硒鼓", "brand": "惠普", "model": "CF276A",
        "unit": "个", "price": 69_900, "market_price": 75_000});
    let r =
        centre.post(format!("{}/api/v1/mall/agreements/{hp}/items", app.base)).json(&toner).send().await.expect("item");
    assert_eq!(r.status(), 201);

    let d = driver().await;
    let (pb, ps) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let buyer = browser(&d, &pb).await;
    let supplier = browser(&d, &ps).await;

    // The unit searches the catalogue for printers and opens the HP printer.
    login(&buyer, &app, "buyer_a").await;
    click(&buyer, "[data-testid=nav-mall]").await;
    fill(&buyer, "[data-testid=catalogue-form] input[name=q]", "打印机").await;
    click(&buyer, "[data-testid=catalogue-form] button[type=submit]").await;
    wait_text(&buyer, "[data-testid=catalogue-total]", "3").await;
    let found = text_of(&buyer, "[data-testid=catalogue]").await;
    for want in ["M404dn", "LBP252dw", "HL-5595DN", "2,599.00", "2,899.00", "供应商一有限公司", "小型企业"]
    {
        assert!(found.contains(want), "{want} in the results: {found}");
    }
    assert!(!found.contains("硒鼓"), "a search for printers finds no toner: {found}");
    shot(&buyer, "mall-catalogue").await;
    let mut opened = false;
    for row in buyer.find_all(Locator::Css("[data-testid=item-row]")).await.expect("rows") {
        if row.text().await.expect("text").contains("M404dn") {
            row.find(Locator::Css("[data-testid=item-link]")).await.expect("link").click().await.expect("click");
            opened = true;
            break;
        }
    }
    assert!(opened, "the HP printer is listed");
    wait_text(&buyer, "[data-testid=item-title]", "惠普 激光打印机 M404dn").await;
    assert!(text_of(&buyer, "[data-testid=item-price]").await.contains("2,599.00"));
    css(&buyer, "[data-testid=price-chart] svg").await;

    // It buys two at 2,500.00 each within a budget of 5,600.00.
    fill(&buyer, "[data-testid=buy-form] input[name=quantity]", "2").await;
    fill(&buyer, "[data-testid=buy-form] input[name=unit_price]", "2,500.00").await;
    fill(&buyer, "[data-testid=buy-form] input[name=budget]", "5,600.00").await;
    fill(&buyer, "[data-testid=buy-form] textarea[name=note]", "送至行政楼302室").await;
    click(&buyer, "[data-testid=buy]").await;
    wait_text(&buyer, "[data-testid=order-status]", "已提交").await;
    let direct = Savings { budget: Money::from_fen(560_000), deal: Money::from_fen(500_000) };
    assert!(text_of(&buyer, "[data-testid=order-deal]").await.contains("5,000.00"));
    assert!(text_of(&buyer, "[data-testid=order-saved]").await.contains(&direct.saved().yuan_string()));
    assert_eq!(text_of(&buyer, "[data-testid=order-rate]").await, format!("{}%", direct.rate_percent(2)));
    let lines = text_of(&buyer, "[data-testid=order-lines]").await;
    assert!(lines.contains("2 台") && lines.contains("2,500.00") && lines.contains("2,599.00"), "{lines}");
    shot(&buyer, "mall-order-submitted").await;
    let direct_order = buyer.current_url().await.expect("url").to_string();

    // The supplier confirms and delivers.
    login(&supplier, &app, "supplier_1").await;
    supplier.goto(&format!("{}/mall/orders", app.base)).await.expect("goto");
    assert!(text_of(&supplier, "[data-testid=orders]").await.contains("待处理"), "the supplier's turn is shown");
    click(&supplier, "[data-testid=order-link]").await;
    order_step(&supplier, "confirm", "已确认").await;
    order_step(&supplier, "deliver", "已发货/履约").await;

    // The unit accepts with an inspector, then pays.
    buyer.goto(&direct_order).await.expect("goto");
    wait_text(&buyer, "[data-testid=order-status]", "已发货/履约").await;
    fill(&buyer, "[data-testid=step-accept] input[name=inspector]", "王验收").await;
    fill(&buyer, "[data-testid=step-accept] textarea[name=note]", "外观完好，打印测试正常").await;
    order_step(&buyer, "accept", "已验收").await;
    let acceptance = text_of(&buyer, "[data-testid=acceptance]").await;
    assert!(acceptance.contains("王验收") && acceptance.contains("打印测试正常"), "{acceptance}");
    fill(&buyer, "[data-testid=step-pay] textarea[name=note]", "国库集中支付 PZ-2026-001").await;
    order_step(&buyer, "pay", "已付款").await;
    let timeline = text_of(&buyer, "[data-testid=timeline]").await;
    for want in ["提交订单", "确认订单", "发货/履约完成", "验收", "确认付款", "PZ-2026-001"] {
        assert!(timeline.contains(want), "{want} in the timeline: {timeline}");
    }
    shot(&buyer, "mall-order-paid").await;

    // The unit starts a quotation for ten printers within 30,000.00, open for one hour.
    click(&buyer, "[data-testid=mall-nav] a[href='/mall/quotations']").await;
    buyer
        .execute(
            "document.querySelector('[data-testid=quotation-form] select[name=category]').value = 'printers'",
            vec![],
        )
        .await
        .expect("select");
    fill(&buyer, "[data-testid=quotation-form] input[name=title]", "采购激光打印机10台").await;
    fill(&buyer, "[data-testid=quotation-form] textarea[name=requirement]", "A4黑白激光，双面，网络接口，原厂质保三年")
        .await;
    fill(&buyer, "[data-testid=quotation-form] input[name=quantity]", "10").await;
    fill(&buyer, "[data-testid=quotation-form] input[name=unit]", "台").await;
    fill(&buyer, "[data-testid=quotation-form] input[name=budget]", "30,000.00").await;
    fill(&buyer, "[data-testid=quotation-form] input[name=hours]", "1").await;
    click(&buyer, "[data-testid=start-quotation]").await;
    wait_text(&buyer, "[data-testid=quotation-status]", "竞价中").await;
    // Rendered as one hour left; the page's countdown then ticks by the server's clock offset.
    let countdown = text_of(&buyer, "[data-testid=quotation-countdown]").await;
    assert!(countdown.contains("剩余 0 天 1 小时") || countdown.contains("剩余 0 天 0 小时 59"), "{countdown}");
    shot(&buyer, "mall-quotation-open").await;
    // In English the countdown's words are English, from the server and then from the script.
    click(&buyer, ".usermenu a.lang").await;
    css(&buyer, "html[lang=en]").await;
    let countdown = text_of(&buyer, "[data-testid=quotation-countdown]").await;
    assert!(countdown == "(0 d 1 h 0 min left)" || countdown == "(0 d 0 h 59 min left)", "{countdown}");
    click(&buyer, ".usermenu a.lang").await;
    css(&buyer, "html[lang=zh-CN]").await;
    let quotation = buyer.current_url().await.expect("url").to_string();
    let quotation_id = quotation.rsplit('/').next().expect("id").to_string();

    // Two suppliers quote in the browser, the third through the API.
    supplier.goto(&format!("{}/mall/quotations", app.base)).await.expect("goto");
    click(&supplier, "[data-testid=quotation-link]").await;
    fill(&supplier, "[data-testid=quote-form] input[name=unit_price]", "2,650.00").await;
    fill(&supplier, "[data-testid=quote-form] input[name=brand]", "惠普").await;
    fill(&supplier, "[data-testid=quote-form] input[name=model]", "M405dn").await;
    click(&supplier, "[data-testid=submit-quote]").await;
    wait_text(&supplier, "[data-testid=my-quote]", "26,500.00").await;
    logout(&supplier).await;
    login(&supplier, &app, "supplier_2").await;
    supplier.goto(&quotation).await.expect("goto");
    fill(&supplier, "[data-testid=quote-form] input[name=unit_price]", "2,580.00").await;
    fill(&supplier, "[data-testid=quote-form] input[name=brand]", "佳能").await;
    fill(&supplier, "[data-testid=quote-form] input[name=model]", "LBP252dw").await;
    fill(&supplier, "[data-testid=quote-form] textarea[name=note]", "三个工作日内送货").await;
    click(&supplier, "[data-testid=submit-quote]").await;
    wait_text(&supplier, "[data-testid=my-quote]", "25,800.00").await;
    let third = api_login(&app, "supplier_3").await;
    let r = third
        .put(format!("{}/api/v1/mall/quotations/{quotation_id}/quote", app.base))
        .json(&serde_json::json!({"unit_price": 272_000, "brand": "兄弟", "model": "HL-5595DN"}))
        .send()
        .await
        .expect("quote");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    buyer.goto(&quotation).await.expect("goto");
    assert_eq!(text_of(&buyer, "[data-testid=quote-count]").await, "3");
    assert!(buyer.find(Locator::Css("[data-testid=quotes]")).await.is_err(), "quotes stay sealed while open");

    // The window ends: the lowest quote wins and becomes an order.
    app.clock.advance(chrono::TimeDelta::minutes(61));
    // The quotation closes at the end of its window by its job.
    app.tick().await;
    buyer.goto(&quotation).await.expect("goto");
    wait_text(&buyer, "[data-testid=quotation-status]", "已成交").await;
    let winner = text_of(&buyer, "[data-testid=winner]").await;
    assert!(winner.contains("供应商二有限公司") && winner.contains("25,800.00"), "{winner}");
    let quotes = text_of(&buyer, "[data-testid=quotes]").await;
    assert!(quotes.contains("26,500.00") && quotes.contains("27,200.00"), "{quotes}");
    shot(&buyer, "mall-quotation-awarded").await;
    click(&buyer, "[data-testid=quotation-order]").await;
    wait_text(&buyer, "[data-testid=order-status]", "已提交").await;
    assert!(text_of(&buyer, "[data-testid=order-deal]").await.contains("25,800.00"));
    let quotation_order = buyer.current_url().await.expect("url").to_string();

    // The winner confirms and delivers; the unit accepts.
    supplier.goto(&quotation_order).await.expect("goto");
    order_step(&supplier, "confirm", "已确认").await;
    order_step(&supplier, "deliver", "已发货/履约").await;
    buyer.goto(&quotation_order).await.expect("goto");
    fill(&buyer, "[data-testid=step-accept] input[name=inspector]", "李验收").await;
    order_step(&buyer, "accept", "已验收").await;

    // The savings report of the period shows both deals.
    buyer.goto(&format!("{}/mall/reports?from=2026-11-01&to=2026-11-30&group=category", app.base)).await.expect("goto");
    let total = Savings { budget: Money::from_fen(560_000 + 3_000_000), deal: Money::from_fen(500_000 + 2_580_000) };
    assert_eq!(text_of(&buyer, "[data-testid=mall-deals]").await, "2");
    assert_eq!(text_of(&buyer, "[data-testid=mall-budget]").await, "¥35,600.00");
    assert_eq!(text_of(&buyer, "[data-testid=mall-deal]").await, format!("¥{}", total.deal.yuan_string()));
    assert_eq!(text_of(&buyer, "[data-testid=mall-deal]").await, "¥30,800.00");
    assert_eq!(text_of(&buyer, "[data-testid=mall-saved]").await, format!("¥{}", total.saved().yuan_string()));
    assert_eq!(text_of(&buyer, "[data-testid=mall-rate]").await, format!("{}%", total.rate_percent(2)));
    assert_eq!(text_of(&buyer, "[data-testid=mall-budget-wan]").await, format!("{} 万元", total.budget.wan_string()));
    assert_eq!(text_of(&buyer, "[data-testid=mall-saved-wan]").await, format!("{} 万元", total.saved().wan_string()));
    let rows = text_of(&buyer, "[data-testid=mall-rows]").await;
    assert!(rows.contains("打印及复印设备") && rows.contains("35,600.00"), "{rows}");
    css(&buyer, "[data-testid=monthly-chart] svg").await;
    let csv = css(&buyer, "[data-testid=report-csv]").await.attr("href").await.expect("attr").expect("href");
    assert_eq!(csv, "/api/v1/mall/reports/savings.csv?from=2026-11-01&to=2026-11-30&group=category");
    shot(&buyer, "mall-report").await;

    buyer.close().await.ok();
    supplier.close().await.ok();
}

/// The demo's opening show run with the test clock until its tender is in evaluation; returns
/// the tender.
async fn api_json(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut r = c.request(method, &url);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("send");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn five_experts_at_two_sites_evaluate_to_the_signed_report_while_both_supervisors_watch() {
    use reqwest::Method;
    use serde_json::{Value, json};
    use std::collections::HashMap;
    use tenderhall::demo;
    let app = TestApp::with_demo_data().await;
    let tender = app.play_opening_show().await;
    let base = app.base.clone();
    let api = |user: &'static str| api_login_with(&app, user, demo::PASSWORD);
    let (admin, centre, supervisor) = (api("admin").await, api("centre").await, api("supervisor").await);

    // The committee: 3 experts at the host site, 2 at the guest site, all with logins (the centre
    // declines by phone for a drawn expert without one, and the draw calls the next).
    let sites = api_json(&admin, Method::GET, format!("{base}/api/v1/admin/sites"), None).await;
    let site = |name: &str| {
        sites.as_array().and_then(|a| a.iter().find(|s| s["name"] == name)).map(|s| s["id"].clone()).expect("site")
    };
    let (host, guest) = (site(demo::experts::HOST_SITE), site(demo::experts::GUEST_SITE));
    let mut experts: HashMap<String, (String, reqwest::Client)> = HashMap::new();
    for n in 1..=7 {
        let user = format!("expert{n}");
        let c = api_login_with(&app, &user, demo::PASSWORD).await;
        let me = api_json(&c, Method::GET, format!("{base}/api/v1/expert/me"), None).await;
        experts.insert(me["id"].as_str().expect("id").to_string(), (user, c));
    }
    let draw = api_json(&centre, Method::POST, format!("{base}/api/v1/tenders/{tender}/draw"), None).await["id"]
        .as_str()
        .expect("draw")
        .to_string();
    let spec = demo::experts::SHOW_SPECIALTY;
    let request = json!({"groups": [{"specialty": spec, "site": host, "count": 3}, {"specialty": spec, "site": guest, "count": 2}],
        "reserve": 1, "session_at": app.clock.now() + chrono::TimeDelta::days(1), "duration_minutes": 240});
    api_json(&centre, Method::PUT, format!("{base}/api/v1/draws/{draw}/request"), Some(request)).await;
    api_json(
        &supervisor,
        Method::POST,
        format!("{base}/api/v1/draws/{draw}/contribution"),
        Some(json!({"contribution": "3c".repeat(32)})),
    )
    .await;
    for _ in 0..20 {
        let v = api_json(&centre, Method::GET, format!("{base}/api/v1/draws/{draw}"), None).await;
        let invited: Vec<Value> =
            v["picks"].as_array().expect("picks").iter().filter(|p| p["status"] == "invited").cloned().collect();
        if invited.is_empty() {
            break;
        }
        for p in invited {
            let url = format!("{base}/api/v1/invitations/{}/answer", p["id"].as_str().expect("id"));
            match experts.get(p["expert"].as_str().unwrap_or("")) {
                Some((_, c)) => api_json(c, Method::POST, url, Some(json!({"accept": true}))).await,
                None => {
                    api_json(&centre, Method::POST, url, Some(json!({"accept": false, "note": "电话联系不上"}))).await
                }
            };
        }
    }
    api_json(&centre, Method::POST, format!("{base}/api/v1/draws/{draw}/publish"), None).await;
    api_json(&centre, Method::POST, format!("{base}/api/v1/tenders/{tender}/evaluation"), Some(json!({}))).await;
    let cmd = |c: &reqwest::Client, body: Value| {
        let url = format!("{base}/api/v1/tenders/{tender}/evaluation/commands");
        let c = c.clone();
        async move { api_json(&c, Method::POST, url, Some(body)).await }
    };
    let view = |c: &reqwest::Client| {
        let url = format!("{base}/api/v1/tenders/{tender}/evaluation");
        let c = c.clone();
        async move { api_json(&c, Method::GET, url, None).await }
    };

    // The members, each in its own browser; a supervisor of each site watches the room.
    let seated: Vec<(String, reqwest::Client)> = {
        let mut out = Vec::new();
        for (user, c) in experts.values() {
            if api_json(c, Method::GET, format!("{base}/api/v1/me/invitations"), None)
                .await
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i["status"] == "confirmed"))
            {
                out.push((user.clone(), c.clone()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    };
    assert_eq!(seated.len(), 5, "five experts hold seats");
    let d = driver().await;
    let room = format!("{base}/tenders/{tender}/evaluation");
    let mut profiles = Vec::new();
    let mut members = Vec::new();
    for (user, _) in &seated {
        let profile = tempfile::tempdir().expect("profile");
        let b = browser(&d, &profile).await;
        login_with(&b, &app, user, demo::PASSWORD).await;
        // The way in: the confirmed invitation leads to the open room.
        open_page(&b, &format!("{base}/expert/invitations")).await;
        click(&b, "[data-testid=enter-room]").await;
        css(&b, "[data-testid=session]").await;
        assert_eq!(b.current_url().await.expect("url").as_str(), room);
        profiles.push(profile);
        members.push(b);
    }
    let mut watchers = Vec::new();
    for user in ["supervisor", "supervisor2"] {
        let profile = tempfile::tempdir().expect("profile");
        let b = browser(&d, &profile).await;
        login_with(&b, &app, user, demo::PASSWORD).await;
        // The way in: the tender's row of the draws' list.
        open_page(&b, &format!("{base}/draws")).await;
        click(&b, &format!("[data-testid=draw-row][data-tender='{tender}'] [data-testid=evaluation-room]")).await;
        css(&b, "[data-testid=session]").await;
        profiles.push(profile);
        watchers.push(b);
    }

    // Sign-in and the declaration, at each expert's own site.
    for b in &members {
        open_page(b, &room).await;
        click(b, "[data-testid=sign-in]").await;
        click(b, "[data-testid=declare]").await;
        css(b, "[data-testid=me]").await;
    }
    // The guest site's supervisor sees all five signed in without reloading.
    wait_count(&watchers[1], "[data-testid=members] tbody tr.seated", 5).await;
    cmd(&centre, json!({"op": "advance", "from": "sign_in"})).await;

    // The chair: everyone votes for the first expert.
    let chair = view(&seated[0].1).await["me"].as_str().expect("me").to_string();
    for b in &members {
        open_page(b, &room).await;
        click(b, &format!("input[name=member][value='{chair}']")).await;
        click(b, "[data-testid=vote-chair]").await;
        saved(b).await;
    }
    cmd(&centre, json!({"op": "advance", "from": "chair"})).await;

    // Both reviews in each page: all pass.
    for stage in ["qualification", "compliance"] {
        for b in &members {
            open_page(b, &room).await;
            css(b, &format!("[data-testid=review-{stage}]")).await;
            b.execute("document.querySelectorAll('section.card select').forEach(s => { s.value = 'pass'; });", vec![])
                .await
                .expect("choose");
            click(b, "[data-testid=save-votes]").await;
            saved(b).await;
        }
        cmd(&centre, json!({"op": "advance", "from": stage})).await;
    }

    // Scores: an off-step score is refused in the page with the rule; then every expert scores
    // in its page (subjective scores one step apart between experts, objective ones equal).
    let s = view(&centre).await;
    let scoring = s["criteria"]["scoring"].as_array().expect("scoring").clone();
    assert!(!scoring.is_empty(), "the demo tender is scored");
    let points = |i: &Value, m: usize| {
        let (max, step) = (i["max"].as_i64().unwrap_or(0), i["step"].as_i64().unwrap_or(1).max(1));
        let shift = if i["objective"] == true { 0 } else { m as i64 % 3 - 1 };
        let v = (max / 2 / step + shift) * step;
        format!("{}.{:02}", v / 100, v % 100)
    };
    open_page(&members[0], &room).await;
    css(&members[0], "[data-testid=scoring]").await;
    let first = members[0].find_all(Locator::Css("[data-testid=scoring] input[name^='score.']")).await.expect("inputs");
    first[0].send_keys("7.33").await.expect("type");
    click(&members[0], "[data-testid=save-scores]").await;
    let summary = css(&members[0], "[data-testid=form-summary]").await;
    assert!(
        summary
            .attr("data-code")
            .await
            .expect("code")
            .is_some_and(|c| c.starts_with("score_") || c == "validation_failed")
    );
    shot(&members[0], "evaluation-refused-score").await;
    for (m, b) in members.iter().enumerate() {
        open_page(b, &room).await;
        let inputs = b.find_all(Locator::Css("[data-testid=scoring] input[name^='score.']")).await.expect("inputs");
        assert_eq!(inputs.len(), 3 * scoring.len(), "three bids, each item");
        for input in inputs {
            let name = input.attr("name").await.expect("name").unwrap_or_default();
            let item = name.rsplit('.').next().unwrap_or("").to_string();
            let it = scoring.iter().find(|i| i["key"] == item.as_str()).expect("item");
            input.clear().await.expect("clear");
            input.send_keys(&points(it, m)).await.expect("type");
        }
        click(b, "[data-testid=save-scores]").await;
        saved(b).await;
    }
    // The host site's supervisor adds a note in its page.
    open_page(&watchers[0], &room).await;
    fill(&watchers[0], "[data-testid=supervisor-note] textarea[name=text]", "评分过程已全程监督，未见异常。").await;
    click(&watchers[0], "[data-testid=add-note]").await;
    saved(&watchers[0]).await;
    cmd(&centre, json!({"op": "advance", "from": "scoring"})).await;

    // Signing with the password; the last signature ends the session.
    for (m, b) in members.iter().enumerate() {
        open_page(b, &room).await;
        fill(b, "[data-testid=sign-password]", demo::PASSWORD).await;
        click(b, "[data-testid=sign]").await;
        saved(b).await;
        if m + 1 < members.len() {
            // Signed, waiting for the others; the last signature ends the session.
            shown(b, "[data-testid=signing] .alert.ok").await;
        }
    }
    // Both supervisors' pages follow to the signed report by themselves.
    for w in &watchers {
        wait_attr(w, "[data-testid=session-phase]", "data-phase", "signed").await;
        css(w, "[data-testid=report-sha]").await;
        css(w, "[data-testid=results]").await;
    }
    shot(&watchers[1], "evaluation-signed-guest-supervisor").await;
    open_page(&members[0], &room).await;
    let phase = css(&members[0], "[data-testid=session-phase]").await.attr("data-phase").await.expect("phase");
    assert_eq!(phase.as_deref(), Some("signed"));
    shot(&members[0], "evaluation-signed").await;
    let v = view(&supervisor).await;
    assert_eq!(v["phase"], "signed");
    let signed = v["members"].as_array().expect("members");
    assert!(signed.iter().all(|m| m["signed_at"].is_string()));
    let at = |site: &str| signed.iter().filter(|m| m["site"] == site).count();
    assert_eq!((at(demo::experts::HOST_SITE), at(demo::experts::GUEST_SITE)), (3, 2));
    assert!(v["remarks"].to_string().contains("未见异常"), "{v}");
    let ranked = v["results"].as_array().expect("results").iter().filter(|r| r["rank"].is_number()).count();
    assert_eq!(ranked, 3, "three valid bids ranked: {v}");
    let pdf =
        seated[1].1.get(format!("{base}/api/v1/tenders/{tender}/evaluation/report.pdf")).send().await.expect("pdf");
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.expect("bytes").starts_with(b"%PDF-"));
    for b in members.into_iter().chain(watchers) {
        let _ = b.close().await;
    }
}

/// The award in the browser: the agency publishes the candidates of the demo's evaluated tender,
/// the second candidate challenges with a PDF and the agency answers, the procuring unit awards
/// the first candidate after the publicity, the winner downloads its award notice, and the
/// procuring unit records the contract.
#[tokio::test]
async fn candidates_a_challenge_and_its_answer_the_award_its_notice_and_the_contract() {
    use tenderhall::demo;
    // The clock moves a week on: sessions outlive it. The centre's payment service answers
    // the experts' fees.
    let payments = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/pay", payments.local_addr().expect("addr"));
    let app = TestApp::with_demo_data_and(move |s| {
        s.security.session_hours = 24 * 60;
        s.fees.endpoint = endpoint;
    })
    .await;
    let ledger = std::sync::Arc::new(support::Ledger::default());
    let _service = tokio::spawn(support::payment_service(payments, ledger.clone(), app.state.key.public(), 0));
    let tender = app.play_opening_show().await;
    app.play_evaluation_show(tender).await;
    app.tick().await;
    assert_eq!(tenderhall::fees::pay_due(&app.state.fees).await.expect("pay"), 5, "the five experts' fees");
    let page = format!("{}/tenders/{tender}/award", app.base);
    let d = driver().await;
    let profiles: Vec<tempfile::TempDir> = (0..5).map(|_| tempfile::tempdir().expect("dir")).collect();

    // The agency publishes the candidates from the tender's award page.
    let agency = browser(&d, &profiles[0]).await;
    login_with(&agency, &app, "agency", demo::PASSWORD).await;
    open_page(&agency, &format!("{}/tenders/{tender}", app.base)).await;
    click(&agency, "[data-testid=award-link]").await;
    let q = click_and_answer(&agency, "[data-testid=publish-candidates]", true).await;
    assert!(q.contains("公示"), "asked first: {q}");
    saved(&agency).await;
    wait_attr(&agency, "[data-testid=lot-state]", "data-state", "publicity").await;
    let rows = agency.find_all(Locator::Css("[data-testid=candidates] tbody tr")).await.expect("rows");
    assert_eq!(rows.len(), 3, "three candidates");
    let names: Vec<String> = {
        let mut v = Vec::new();
        for r in rows {
            let t = r.text().await.expect("text");
            v.push(t.split_whitespace().nth(1).unwrap_or("").to_string());
        }
        v
    };
    shot(&agency, "award-publicity").await;

    // The second candidate challenges with evidence.
    let mut challenger_login = None;
    for n in 2..=4 {
        let c = api_login_with(&app, &format!("supplier{n}"), demo::PASSWORD).await;
        let me: serde_json::Value =
            c.get(format!("{}/api/v1/me", app.base)).send().await.expect("me").json().await.expect("json");
        if me["org_name"] == names[1].as_str() {
            challenger_login = Some(format!("supplier{n}"));
        }
    }
    let challenger_login = challenger_login.expect("the second candidate is a simulated bidder");
    let challenger = browser(&d, &profiles[1]).await;
    login_with(&challenger, &app, &challenger_login, demo::PASSWORD).await;
    open_page(&challenger, &page).await;
    fill(
        &challenger,
        "[data-testid=challenge-form] textarea[name=body]",
        "第一中标候选人的业绩证明不符合招标文件第三章的要求。",
    )
    .await;
    let evidence = app.dir.path().join("evidence.pdf");
    std::fs::write(&evidence, support::pdf("证明材料", 1)).expect("write");
    css(&challenger, "[data-testid=challenge-file]")
        .await
        .send_keys(&evidence.display().to_string())
        .await
        .expect("file");
    click(&challenger, "[data-testid=challenge-submit]").await;
    saved(&challenger).await;
    wait_attr(&challenger, "[data-testid=challenge]", "data-state", "open").await;
    shot(&challenger, "award-challenge-filed").await;

    // The agency answers it in its page.
    open_page(&agency, &page).await;
    fill(&agency, "[data-testid=answer-form] textarea[name=answer]", "经复核，业绩证明符合招标文件要求，质疑不成立。")
        .await;
    click(&agency, "[data-testid=answer-submit]").await;
    saved(&agency).await;
    wait_attr(&agency, "[data-testid=challenge]", "data-state", "answered").await;
    open_page(&challenger, &page).await;
    assert!(text_of(&challenger, "[data-testid=challenge-answer]").await.contains("质疑不成立"));

    // After the publicity the procuring unit awards the first candidate.
    let buyer = browser(&d, &profiles[2]).await;
    login_with(&buyer, &app, "buyer", demo::PASSWORD).await;
    open_page(&buyer, &page).await;
    assert!(buyer.find(Locator::Css("[data-testid=award-form]")).await.is_err(), "not during the publicity");
    app.clock.advance(chrono::TimeDelta::days(7));
    open_page(&buyer, &page).await;
    click_and_answer(&buyer, "[data-testid=award-submit]", true).await;
    saved(&buyer).await;
    wait_attr(&buyer, "[data-testid=lot-state]", "data-state", "awarded").await;
    assert_eq!(text_of(&buyer, "[data-testid=winner]").await.split_whitespace().next(), Some(names[0].as_str()));
    assert!(text_of(&buyer, "[data-testid=savings]").await.contains('%'));
    shot(&buyer, "award-awarded").await;

    // The winner downloads its award notice from the page.
    let mut winner_login = None;
    for n in 1..=4 {
        let c = api_login_with(&app, &format!("supplier{n}"), demo::PASSWORD).await;
        let me: serde_json::Value =
            c.get(format!("{}/api/v1/me", app.base)).send().await.expect("me").json().await.expect("json");
        if me["org_name"] == names[0].as_str() {
            winner_login = Some(format!("supplier{n}"));
        }
    }
    let winner = browser(&d, &profiles[3]).await;
    login_with(&winner, &app, &winner_login.expect("winner"), demo::PASSWORD).await;
    open_page(&winner, &page).await;
    let href = css(&winner, "[data-testid=notice-link]").await.attr("href").await.expect("href").expect("a link");
    let got = winner
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done([r.status, r.headers.get('content-type'), new TextDecoder().decode(new Uint8Array(b).slice(0, 5))])))\
             .catch(e => done(['error', String(e)]));",
            vec![href.into()],
        )
        .await
        .expect("fetch");
    assert_eq!(got, serde_json::json!([200, "application/pdf", "%PDF-"]), "the award notice");
    shot(&winner, "award-winner").await;

    // The procuring unit records the contract.
    open_page(&buyer, &page).await;
    fill(&buyer, "[data-testid=contract-form] input[name=amount]", "1245600.00").await;
    let today = app.clock.now().with_timezone(&tenderhall::web::cst()).format("%Y-%m-%d").to_string();
    set_value(&buyer, "[data-testid=contract-form] input[name=signed_on]", &today).await;
    let contract = app.dir.path().join("contract.pdf");
    std::fs::write(&contract, support::pdf("合同", 3)).expect("write");
    css(&buyer, "[data-testid=contract-file]").await.send_keys(&contract.display().to_string()).await.expect("file");
    click(&buyer, "[data-testid=contract-submit]").await;
    saved(&buyer).await;
    wait_attr(&buyer, "[data-testid=lot-state]", "data-state", "contracted").await;
    assert!(text_of(&buyer, "[data-testid=contract-amount]").await.contains("1,245,600.00"));
    shot(&buyer, "award-contracted").await;
    // The public lists show it.
    open_page(&buyer, &format!("{}/results?tab=awards", app.base)).await;
    assert!(text_of(&buyer, "[data-testid=results]").await.contains(&names[0]));
    // An expert of the committee sees its fee as paid.
    let expert = browser(&d, &profiles[4]).await;
    login_with(&expert, &app, "expert1", demo::PASSWORD).await;
    open_page(&expert, &format!("{}/expert", app.base)).await;
    wait_attr(&expert, "[data-testid=fee]", "data-status", "paid").await;
    assert!(text_of(&expert, "[data-testid=fees]").await.contains("已支付"));
    shot(&expert, "expert-fee-paid").await;
    assert_eq!(ledger.payments.lock().expect("lock").len(), 5);
    for b in [agency, expert, challenger, buyer, winner] {
        let _ = b.close().await;
    }
}

/// The centre's staff set a site's expert fee rates in 元 from the site's page: a typo is shown
/// in its field, the saved table in fen behind the page.
#[tokio::test]
async fn the_centre_sets_a_sites_fee_rates_on_its_page() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use tenderhall::{demo, entities::site};
    let app = TestApp::with_demo_data().await;
    let host = site::Entity::find()
        .filter(site::Column::Name.eq(demo::experts::HOST_SITE))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the host site");
    let d = driver().await;
    let profile = tempfile::tempdir().expect("dir");
    let centre = browser(&d, &profile).await;
    login_with(&centre, &app, "centre", demo::PASSWORD).await;
    open_page(&centre, &format!("{}/admin/sites/{}", app.base, host.public_id)).await;
    click(&centre, "[data-testid=fee-rates-link]").await;
    shown(&centre, "[data-testid=fee-rates-form]").await;
    fill(&centre, "[data-testid=fee-rates-form] input[name=base]", "六百五十").await;
    click(&centre, "[data-testid=save-fee-rates]").await;
    shown(&centre, "[data-testid=fee-rates-form] .invalid").await;
    assert!(page_text(&centre).await.contains("金额格式不正确"), "the field says why");
    fill(&centre, "[data-testid=fee-rates-form] input[name=base]", "650.5").await;
    click(&centre, "[data-testid=save-fee-rates]").await;
    saved(&centre).await;
    assert!(text_of(&centre, "[data-testid=rate-base]").await.contains("650.50"));
    shot(&centre, "fee-rates").await;
    let rate = tenderhall::entities::fee_rate::Entity::find()
        .filter(tenderhall::entities::fee_rate::Column::SiteId.eq(host.id))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("the site's table");
    assert_eq!(rate.base_fen.fen(), 65_050);
}

/// Logs in at a deployment's base URL, and lets the redirect after logging in finish, so that it
/// cannot replace the next page opened.
async fn login_at(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.expect("goto");
    fill(c, "input[name=username]", user).await;
    fill(c, "input[name=password]", password).await;
    click(c, "form[action='/login'] button[type=submit]").await;
    css(c, ".usermenu .who").await;
    for _ in 0..50 {
        let ready = c.execute("return document.readyState", vec![]).await.ok();
        let url = c.current_url().await.map(|u| u.path().to_string()).unwrap_or_default();
        if ready.as_ref().and_then(|v| v.as_str()) == Some("complete") && url != "/login" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_supervisor_at_the_guest_deployment_watches_a_guest_expert_score_in_the_hosts_session() {
    use support::federation::{DEMO_PASSWORD, convene_with_guest, in_phase, scores, session_pair, to_scoring};
    let (host, guest, tender) = session_pair().await;
    let convened = convene_with_guest(&host, &guest, tender).await;
    let guest_base = format!("http://127.0.0.1:{}", guest.port);

    // The guest's supervisor follows the session from its own deployment.
    let d = driver().await;
    let profile = tempfile::tempdir().expect("profile");
    let c = browser(&d, &profile).await;
    login_at(&c, &guest_base, "supervisor2", DEMO_PASSWORD).await;
    open_page(&c, &format!("{guest_base}/admin/federation")).await;
    click(&c, "[data-testid^=follow-]").await;
    shown(&c, "[data-testid=session-members]").await;
    // The guest's two members are seated; the host's sign in as the session goes on.
    wait_count(&c, "[data-testid=session-members] tbody tr", 2).await;
    wait_text(&c, "[data-testid=session-events]", "评标开启").await;

    to_scoring(&convened.centre, &convened.hands, tender).await;
    wait_count(&c, "[data-testid=session-members] tbody tr", 7).await;
    wait_text(&c, "[data-testid=session-phase]", "详细评审").await;
    let guest_member = &convened.hands[5];
    let v = in_phase(guest_member, tender, "scoring").await;
    let me = v["me"].as_str().expect("the guest member's id").to_string();
    let all = scores(&v);
    // The guest expert scores on its own deployment's page of the host's session; the
    // supervisor's page shows it as the host's room counts it. A score the host refuses comes
    // back to the expert's form as on one site.
    let expert_profile = tempfile::tempdir().expect("profile");
    let e = browser(&d, &expert_profile).await;
    login_at(&e, &guest_base, "expert6", DEMO_PASSWORD).await;
    open_page(&e, &format!("{guest_base}/federation/sessions/{}", convened.session)).await;
    shown(&e, "[data-testid=scoring]").await;
    let field = |s: &serde_json::Value| {
        format!("input[name='score.{}.{}']", s["bid"].as_str().expect("bid"), s["item"].as_str().expect("item"))
    };
    fill(&e, &field(&all[0]), all[0]["points"].as_str().expect("points")).await;
    fill(&e, &field(&all[1]), "999").await;
    click(&e, "[data-testid=save-scores]").await;
    let refused = css(&e, "[data-testid=form-summary]").await;
    let code = refused.attr("data-code").await.expect("code").unwrap_or_default();
    assert!(!code.is_empty() && code != "federation_off", "the host's code: {code}");
    shot(&e, "guest-expert-refused").await;
    wait_text(&c, &format!("[data-testid=progress-{me}]"), &format!("1/{}", all.len())).await;
    fill(&e, &field(&all[1]), all[1]["points"].as_str().expect("points")).await;
    click(&e, "[data-testid=save-scores]").await;
    wait_count(&e, "[data-testid=form-summary]", 0).await;
    wait_text(&c, &format!("[data-testid=progress-{me}]"), &format!("2/{}", all.len())).await;
    // The expert's page, kept current by the guest room, shows its scores as the host holds them.
    for s in &all[..2] {
        // The page shows points without trailing zeros (18.00 as 18, 17.50 as 17.5).
        let points = s["points"].as_str().expect("points");
        let points = if points.contains('.') { points.trim_end_matches('0').trim_end_matches('.') } else { points };
        wait_attr(&e, &field(s), "value", points).await;
    }
    let events = text_of(&c, "[data-testid=session-events]").await;
    assert!(events.contains("评审进度"), "{events}");
    shot(&c, "guest-supervisor-watches").await;
    e.close().await.expect("close");
    c.close().await.expect("close");
}
