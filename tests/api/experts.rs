//! Sites and the expert pool: who may see and change them, the identity number never shown
//! whole, the CSV import (all rows or none), and the experts' own logins.

use crate::client::{Client, expect_error};
use crate::support::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A valid identity number (GB 11643 check character) for `seq` (0–999).
pub fn id_number(seq: u32) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let base = format!("11010519800101{seq:03}");
    let sum: u32 = base.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{base}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// A site created by the administrator; its public id.
pub async fn site(app: &TestApp, name: &str, city: &str) -> String {
    let admin = Client::login(app, "admin").await;
    let r = admin.post("/api/v1/admin/sites", &json!({"name": name, "city": city, "seats": 12})).await;
    assert_eq!(r.status(), 201, "create site");
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

fn expert_body(site: &str, seq: u32) -> Value {
    json!({
        "name": format!("专家{seq}"),
        "id_number": id_number(seq),
        "phone": "13800138000",
        "title": "高级工程师",
        "site": site,
        "specialties": ["B0102", "C01"],
        "employments": [
            {"employer": "某大学", "credit_code": "12110000MB0000099Q", "from": "2015-09-01"},
            {"employer": "某设计院", "from": "2010-07-01", "until": "2015-08-31"}
        ],
        "unavailable": ["2026-12-01"],
        "conflicts": [{"credit_code": "91110000MA0000006D", "org_name": "星辰科技有限公司"}]
    })
}

/// An expert created by the centre's staff; its public id.
pub async fn expert(app: &TestApp, site: &str, seq: u32) -> String {
    let staff = Client::login(app, "centre_staff").await;
    let r = staff.post("/api/v1/experts", &expert_body(site, seq)).await;
    assert_eq!(r.status(), 201, "create expert: {}", r.text().await.unwrap_or_default());
    r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string()
}

async fn audit_actions(app: &TestApp, object: &str) -> Vec<String> {
    let admin = Client::login(app, "admin").await;
    let v = admin.get_json(&format!("/api/v1/audit/records?object={object}")).await;
    v.as_array().expect("records").iter().map(|r| r["action"].as_str().unwrap_or("").to_string()).collect()
}

fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|e| (e["field"].as_str().unwrap_or("").to_string(), e["code"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_administrator_manages_sites_and_others_only_read_them_or_see_nothing() {
    let app = spawn_app().await;
    let admin = Client::login(&app, "admin").await;
    let id = site(&app, "市公共资源交易中心", "北京").await;
    let r = admin
        .put(&format!("/api/v1/admin/sites/{id}"), &json!({"name": "市交易中心主场", "city": "北京", "seats": 30}))
        .await;
    assert_eq!(r.status(), 204);
    let v = admin.get_json(&format!("/api/v1/admin/sites/{id}")).await;
    assert_eq!((v["name"].as_str(), v["seats"].as_i64()), (Some("市交易中心主场"), Some(30)));
    assert_eq!(audit_actions(&app, &id).await, vec!["site.update", "site.create"]);

    // Bad input, coded.
    let r = admin.post("/api/v1/admin/sites", &json!({"name": " ", "city": "x".repeat(51), "seats": 0})).await;
    let body = expect_error(r, 422, "validation_failed").await;
    let codes = field_codes(&body);
    for want in [("name", "required"), ("city", "too_long"), ("seats", "out_of_range")] {
        assert!(codes.contains(&(want.0.into(), want.1.into())), "{want:?} in {codes:?}");
    }
    let r = admin.post("/api/v1/admin/sites", &json!({"name": "市交易中心主场", "city": "北京", "seats": 3})).await;
    expect_error(r, 409, "site_name_taken").await;
    let r = admin.post("/api/v1/admin/sites", &json!({"name": "x", "city": "y", "seats": "many"})).await;
    assert_eq!(r.status(), 422);

    // Members: centre staff and supervisors only.
    let r = admin.post(&format!("/api/v1/admin/sites/{id}/members"), &json!({"username": "centre_staff"})).await;
    assert_eq!(r.status(), 204);
    let r = admin.post(&format!("/api/v1/admin/sites/{id}/members"), &json!({"username": "supervisor"})).await;
    assert_eq!(r.status(), 204);
    let r = admin.post(&format!("/api/v1/admin/sites/{id}/members"), &json!({"username": "centre_staff"})).await;
    expect_error(r, 409, "already_member").await;
    let r = admin.post(&format!("/api/v1/admin/sites/{id}/members"), &json!({"username": "agency_x"})).await;
    let body = expect_error(r, 422, "validation_failed").await;
    assert_eq!(field_codes(&body), vec![("username".to_string(), "not_centre_staff".to_string())]);
    let r = admin.post(&format!("/api/v1/admin/sites/{id}/members"), &json!({"username": "nobody"})).await;
    expect_error(r, 422, "validation_failed").await;
    let v = admin.get_json(&format!("/api/v1/admin/sites/{id}")).await;
    let names: Vec<&str> =
        v["member_list"].as_array().expect("members").iter().filter_map(|m| m["username"].as_str()).collect();
    assert_eq!(names, vec!["centre_staff", "supervisor"]);
    // A member moves when bound to another site.
    let other = site(&app, "外市交易中心", "天津").await;
    let r = admin.post(&format!("/api/v1/admin/sites/{other}/members"), &json!({"username": "supervisor"})).await;
    assert_eq!(r.status(), 204);
    let v = admin.get_json(&format!("/api/v1/admin/sites/{id}")).await;
    assert_eq!(v["members"], 1);
    let user = admin.get_json(&format!("/api/v1/admin/sites/{other}")).await["member_list"][0]["user_id"].clone();
    let r = admin.delete(&format!("/api/v1/admin/sites/{other}/members/{}", user.as_str().expect("user"))).await;
    assert_eq!(r.status(), 204);
    let r = admin.delete(&format!("/api/v1/admin/sites/{other}/members/{}", user.as_str().expect("user"))).await;
    expect_error(r, 404, "not_found").await;

    // The centre's staff and supervisors read, but may not change.
    for who in ["centre_staff", "supervisor"] {
        let c = Client::login(&app, who).await;
        assert_eq!(c.get_json("/api/v1/admin/sites").await.as_array().map(Vec::len), Some(2), "{who}");
        assert_eq!(c.get(&format!("/admin/sites/{id}")).await.status(), 200, "{who}");
        let r = c.post("/api/v1/admin/sites", &json!({"name": "n", "city": "c", "seats": 1})).await;
        expect_error(r, 403, "forbidden").await;
        let r = c.put(&format!("/api/v1/admin/sites/{id}"), &json!({"name": "n", "city": "c", "seats": 1})).await;
        expect_error(r, 403, "forbidden").await;
        let html = c.get(&format!("/admin/sites/{id}")).await.text().await.expect("html");
        assert!(!html.contains("data-testid=\"site-form\""), "{who} gets no form");
    }
    // Everyone else sees nothing.
    for who in ["buyer_a", "agency_x", "supplier_1", "expert"] {
        let c = Client::login(&app, who).await;
        expect_error(c.get("/api/v1/admin/sites").await, 404, "not_found").await;
        expect_error(c.get(&format!("/api/v1/admin/sites/{id}")).await, 404, "not_found").await;
        let r = c.post("/api/v1/admin/sites", &json!({"name": "n", "city": "c", "seats": 1})).await;
        expect_error(r, 404, "not_found").await;
        assert_eq!(c.get("/admin/sites").await.status(), 404, "{who}");
    }
    let anon = Client::anonymous(&app).await;
    expect_error(anon.get("/api/v1/admin/sites").await, 401, "login_required").await;
}

#[tokio::test]
async fn the_site_pages_create_edit_and_keep_what_was_typed() {
    let app = spawn_app().await;
    let admin = Client::login(&app, "admin").await;
    let form = |pairs: &[(&str, &str)]| {
        let mut v: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.push(("_csrf".into(), admin.csrf.clone()));
        v
    };
    let r = admin
        .http
        .post(format!("{}/admin/sites", app.base))
        .form(&form(&[("name", "南城交易中心"), ("city", "北京"), ("seats", "很多")]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("value=\"南城交易中心\"") && html.contains("value=\"很多\""), "typed values kept");
    assert!(html.contains("data-testid=\"error-seats\""), "the error beside its field");
    let r = admin
        .http
        .post(format!("{}/admin/sites", app.base))
        .form(&form(&[("name", "南城交易中心"), ("city", "北京"), ("seats", "8")]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let page = admin.get(&location).await.text().await.expect("html");
    assert!(page.contains("南城交易中心") && page.contains("data-testid=\"member-form\""));
    let r = admin
        .http
        .post(format!("{}{location}", app.base))
        .form(&form(&[("name", "南城交易中心"), ("city", ""), ("seats", "8")]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("html").contains("data-testid=\"error-city\""));
    let r = admin
        .http
        .post(format!("{}{location}/members", app.base))
        .form(&form(&[("username", "buyer_a")]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 422);
    let r = admin
        .http
        .post(format!("{}{location}/members", app.base))
        .form(&form(&[("username", "centre_staff")]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    let page = admin.get(&location).await.text().await.expect("html");
    assert!(page.contains("data-username=\"centre_staff\""));
    assert_eq!(admin.get("/admin/sites").await.status(), 200);
}

#[tokio::test]
async fn the_centre_adds_changes_and_suspends_experts_with_audit_records() {
    let app = spawn_app().await;
    let s = site(&app, "市交易中心", "北京").await;
    let s2 = site(&app, "外市交易中心", "天津").await;
    let id = expert(&app, &s, 1).await;
    let staff = Client::login(&app, "centre_staff").await;
    let v = staff.get_json(&format!("/api/v1/experts/{id}")).await;
    assert_eq!(v["id_number_masked"], format!("110***********{}", &id_number(1)[14..]));
    assert_eq!(v["specialties"], json!(["B0102", "C01"]));
    assert_eq!(v["employments"][0]["employer"], "某大学");
    assert_eq!(v["employments"][0]["until"], Value::Null);
    assert_eq!(v["employments"][1]["until"], "2015-08-31");
    assert_eq!(v["unavailable"], json!(["2026-12-01"]));
    assert_eq!(v["conflicts"][0]["credit_code"], "91110000MA0000006D");
    assert_eq!(v["status"], "active");

    let r = staff
        .put(
            &format!("/api/v1/experts/{id}"),
            &json!({"name": "专家一", "phone": "010-68001234", "title": "教授", "site": s2, "specialties": ["B02"]}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let v = staff.get_json(&format!("/api/v1/experts/{id}")).await;
    assert_eq!((v["name"].as_str(), v["site"]["name"].as_str()), (Some("专家一"), Some("外市交易中心")));
    assert_eq!(v["id_number_masked"].as_str().map(|m| m.ends_with(&id_number(1)[14..])), Some(true), "number kept");

    let r = staff.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": ""})).await;
    expect_error(r, 422, "validation_failed").await;
    let r = staff.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": "连续两次无故缺席评标"})).await;
    assert_eq!(r.status(), 204);
    let r = staff.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": "again"})).await;
    expect_error(r, 409, "already_suspended").await;
    let v = staff.get_json(&format!("/api/v1/experts/{id}")).await;
    assert_eq!((v["status"].as_str(), v["status_reason"].as_str()), (Some("suspended"), Some("连续两次无故缺席评标")));
    let r = staff.post_empty(&format!("/api/v1/experts/{id}/reactivate")).await;
    assert_eq!(r.status(), 204);
    expect_error(staff.post_empty(&format!("/api/v1/experts/{id}/reactivate")).await, 409, "not_suspended").await;

    // Employments, conflicts and days.
    let r = staff
        .post(
            &format!("/api/v1/experts/{id}/employments"),
            &json!({"employer": "某研究所", "from": "2009-01-01", "until": "2010-06-30"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let emp = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let r = staff
        .post(
            &format!("/api/v1/experts/{id}/employments"),
            &json!({"employer": "x", "from": "2010-13-01", "until": "2009-01-01"}),
        )
        .await;
    let body = expect_error(r, 422, "validation_failed").await;
    assert!(field_codes(&body).contains(&("from".into(), "date_invalid".into())), "{body}");
    let r = staff
        .post(
            &format!("/api/v1/experts/{id}/employments"),
            &json!({"employer": "x", "from": "2010-01-01", "until": "2009-01-01"}),
        )
        .await;
    let body = expect_error(r, 422, "validation_failed").await;
    assert_eq!(field_codes(&body), vec![("until".to_string(), "before_start".to_string())]);
    assert_eq!(staff.delete(&format!("/api/v1/experts/{id}/employments/{emp}")).await.status(), 204);
    let r = staff
        .post(
            &format!("/api/v1/experts/{id}/conflicts"),
            &json!({"credit_code": "91110000MA0000006D", "org_name": "星辰"}),
        )
        .await;
    expect_error(r, 409, "conflict_declared").await;
    let r = staff
        .post(&format!("/api/v1/experts/{id}/conflicts"), &json!({"credit_code": "9111", "org_name": "某公司"}))
        .await;
    let body = expect_error(r, 422, "validation_failed").await;
    assert_eq!(field_codes(&body), vec![("credit_code".to_string(), "credit_code_invalid".to_string())]);
    let r = staff
        .post(
            &format!("/api/v1/experts/{id}/conflicts"),
            &json!({"credit_code": "91110000MA0000009G", "org_name": "蓝海信息"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let conflict = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    assert_eq!(staff.delete(&format!("/api/v1/experts/{id}/conflicts/{conflict}")).await.status(), 204);
    let r =
        staff.post(&format!("/api/v1/experts/{id}/unavailable"), &json!({"days": ["2026-12-01", "2026-12-02"]})).await;
    assert_eq!(r.json::<Value>().await.expect("json")["added"], 1, "a noted day is kept once");
    let r = staff.post(&format!("/api/v1/experts/{id}/unavailable"), &json!({"days": ["2026-02-30"]})).await;
    expect_error(r, 422, "validation_failed").await;
    assert_eq!(staff.delete(&format!("/api/v1/experts/{id}/unavailable/2026-12-01")).await.status(), 204);
    expect_error(staff.delete(&format!("/api/v1/experts/{id}/unavailable/2026-12-01")).await, 404, "not_found").await;
    let v = staff.get_json(&format!("/api/v1/experts/{id}")).await;
    assert_eq!(v["unavailable"], json!(["2026-12-02"]));

    assert_eq!(
        audit_actions(&app, &id).await,
        vec![
            "expert.unavailable_remove",
            "expert.unavailable_add",
            "expert.conflict_remove",
            "expert.conflict_add",
            "expert.employment_remove",
            "expert.employment_add",
            "expert.reactivate",
            "expert.suspend",
            "expert.update",
            "expert.create",
        ]
    );

    // The search: by name, specialty (a code covers those under it), site and status.
    expert(&app, &s, 2).await;
    let page = |q: &str| {
        let staff = &staff;
        let q = q.to_string();
        async move { staff.get_json(&format!("/api/v1/experts?{q}")).await }
    };
    assert_eq!(page("").await["total"], 2);
    assert_eq!(page("specialty=B").await["total"], 2, "B covers B0102 and B02");
    assert_eq!(page("specialty=B02").await["total"], 1);
    assert_eq!(page("specialty=B0201").await["total"], 0, "a broader specialty does not meet a narrower request");
    assert_eq!(page(&format!("site={s2}")).await["total"], 1);
    assert_eq!(page("q=%E4%B8%80").await["total"], 1, "by name");
    assert_eq!(page("status=suspended").await["total"], 0);
    let r = staff.get("/api/v1/experts?specialty=Z99&status=gone&site=x").await;
    let body = expect_error(r, 422, "validation_failed").await;
    let codes = field_codes(&body);
    for want in [("specialty", "specialty_unknown"), ("status", "invalid"), ("site", "site_unknown")] {
        assert!(codes.contains(&(want.0.into(), want.1.into())), "{want:?} in {codes:?}");
    }
    let specialties = staff.get_json("/api/v1/experts/specialties").await;
    assert!(specialties.as_array().is_some_and(|a| a.iter().any(|s| s["code"] == "B0102" && s["parent"] == "B01")));
}

#[tokio::test]
async fn bad_expert_input_is_refused_with_codes() {
    let app = spawn_app().await;
    let s = site(&app, "市交易中心", "北京").await;
    let staff = Client::login(&app, "centre_staff").await;
    let mut bad = expert_body(&s, 3);
    let wrong_check = {
        let mut n = id_number(3);
        let last = if n.ends_with('1') { '2' } else { '1' };
        n.pop();
        n.push(last);
        n
    };
    bad["id_number"] = json!(wrong_check);
    bad["phone"] = json!("12345");
    bad["specialties"] = json!(["B0102", "Q77"]);
    bad["site"] = json!(uuid::Uuid::nil());
    bad["employments"][0]["from"] = json!("2015/09/01");
    bad["unavailable"] = json!(["tomorrow"]);
    bad["conflicts"][0]["credit_code"] = json!("123");
    let r = staff.post("/api/v1/experts", &bad).await;
    let body = expect_error(r, 422, "validation_failed").await;
    let codes = field_codes(&body);
    for want in [
        ("id_number", "id_number_invalid"),
        ("phone", "phone_invalid"),
        ("specialties", "specialty_unknown"),
        ("site", "site_unknown"),
        ("employments[0].from", "date_invalid"),
        ("unavailable", "date_invalid"),
        ("conflicts[0].credit_code", "credit_code_invalid"),
    ] {
        assert!(codes.contains(&(want.0.into(), want.1.into())), "{want:?} in {codes:?}");
    }
    let r = staff.post("/api/v1/experts", &json!({"name": "x"})).await;
    assert_eq!(r.status(), 422, "missing fields");
    let mut none = expert_body(&s, 4);
    none["specialties"] = json!([]);
    let body = expect_error(staff.post("/api/v1/experts", &none).await, 422, "validation_failed").await;
    assert_eq!(field_codes(&body), vec![("specialties".to_string(), "required".to_string())]);
    expert(&app, &s, 5).await;
    let r = staff.post("/api/v1/experts", &expert_body(&s, 5)).await;
    expect_error(r, 409, "duplicate_id_number").await;
    let mut lower = expert_body(&s, 6);
    lower["id_number"] = json!(id_number(6).to_lowercase());
    assert_eq!(staff.post("/api/v1/experts", &lower).await.status(), 201, "a final x is taken as X");
    assert_eq!(staff.get_json("/api/v1/experts").await["total"], 2, "nothing else stored");
}

#[tokio::test]
async fn nobody_but_the_centre_and_the_administrator_sees_the_pool_and_the_number_is_never_shown_whole() {
    let app = spawn_app().await;
    let s = site(&app, "市交易中心", "北京").await;
    let id = expert(&app, &s, 7).await;
    let whole = id_number(7);
    for who in ["buyer_a", "agency_x", "supplier_1", "expert"] {
        let c = Client::login(&app, who).await;
        for path in
            ["/api/v1/experts".to_string(), format!("/api/v1/experts/{id}"), "/api/v1/experts/specialties".to_string()]
        {
            expect_error(c.get(&path).await, 404, "not_found").await;
        }
        for path in ["/experts".to_string(), format!("/experts/{id}"), "/experts/new".into(), "/experts/import".into()]
        {
            assert_eq!(c.get(&path).await.status(), 404, "{who} {path}");
        }
        let r = c.post("/api/v1/experts", &expert_body(&s, 8)).await;
        expect_error(r, 404, "not_found").await;
        let r = c.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": "x"})).await;
        expect_error(r, 404, "not_found").await;
    }
    // The supervisor reads and changes nothing.
    let supervisor = Client::login(&app, "supervisor").await;
    assert_eq!(supervisor.get_json("/api/v1/experts").await["total"], 1);
    assert_eq!(supervisor.get(&format!("/experts/{id}")).await.status(), 200);
    let r = supervisor.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": "x"})).await;
    expect_error(r, 403, "forbidden").await;
    expect_error(supervisor.post("/api/v1/experts", &expert_body(&s, 8)).await, 403, "forbidden").await;
    // Suspended, so that the reason shows too; then every answer that shows the expert.
    let admin = Client::login(&app, "admin").await;
    let r = admin.post(&format!("/api/v1/experts/{id}/suspend"), &json!({"reason": "核查中"})).await;
    assert_eq!(r.status(), 204);
    for who in ["admin", "centre_staff", "supervisor"] {
        let c = Client::login(&app, who).await;
        for path in [
            "/api/v1/experts".to_string(),
            format!("/api/v1/experts/{id}"),
            "/experts".to_string(),
            format!("/experts/{id}"),
            format!("/api/v1/audit/records?object={id}"),
            "/api/v1/audit/records".to_string(),
            "/audit".to_string(),
        ] {
            let r = c.get(&path).await;
            let status = r.status();
            let body = r.text().await.expect("body");
            assert!(!body.contains(&whole), "{who} {path} shows the whole identity number");
            if status == StatusCode::OK && path.contains(&id) && !path.contains("audit") {
                assert!(body.contains(&whole[14..]) && body.contains("110***********"), "{who} {path}: masked");
            }
        }
    }
}

#[tokio::test]
async fn an_expert_logs_in_to_its_own_record_and_never_sees_the_pool() {
    let app = spawn_app().await;
    let s = site(&app, "市交易中心", "北京").await;
    let id = expert(&app, &s, 30).await;
    let staff = Client::login(&app, "centre_staff").await;
    let account = |username: &str, password: &str| json!({"username": username, "password": password});
    let r = staff.post(&format!("/api/v1/experts/{id}/account"), &account("zhou", "short")).await;
    expect_error(r, 422, "validation_failed").await;
    let r = staff.post(&format!("/api/v1/experts/{id}/account"), &account("buyer_a", "Expert2026")).await;
    expect_error(r, 409, "username_taken").await;
    let supervisor = Client::login(&app, "supervisor").await;
    let r = supervisor.post(&format!("/api/v1/experts/{id}/account"), &account("zhou", "Expert2026")).await;
    expect_error(r, 403, "forbidden").await;
    let r = staff.post(&format!("/api/v1/experts/{id}/account"), &account("zhou", "Expert2026")).await;
    assert_eq!(r.status(), 201);
    let r = staff.post(&format!("/api/v1/experts/{id}/account"), &account("zhou2", "Expert2026")).await;
    expect_error(r, 409, "account_exists").await;
    assert!(audit_actions(&app, &id).await.contains(&"expert.account_create".to_string()));
    assert_eq!(staff.get_json(&format!("/api/v1/experts/{id}")).await["username"], "zhou");

    let me = Client::with_password(&app, "zhou", "Expert2026").await;
    assert_eq!(me.get_json("/api/v1/me").await["role"], "expert");
    let v = me.get_json("/api/v1/expert/me").await;
    assert_eq!(v["id"], id.as_str());
    let html = me.get("/expert").await.text().await.expect("html");
    assert!(html.contains("data-testid=\"own-record\"") && html.contains("110***********"), "its own record");
    assert!(!html.contains(&id_number(30)), "masked on its own page too");
    assert!(!me.get_json("/api/v1/expert/me").await.to_string().contains(&id_number(30)));
    for path in ["/api/v1/experts".to_string(), format!("/api/v1/experts/{id}")] {
        expect_error(me.get(&path).await, 404, "not_found").await;
    }
    for path in ["/experts".to_string(), format!("/experts/{id}"), "/admin/sites".into()] {
        assert_eq!(me.get(&path).await.status(), 404, "{path}");
    }
    // A login bound to no record, and users who are not experts.
    let unbound = Client::login(&app, "expert").await;
    expect_error(unbound.get("/api/v1/expert/me").await, 404, "not_found").await;
    assert!(unbound.get("/expert").await.text().await.expect("html").contains("data-testid=\"no-record\""));
    expect_error(staff.get("/api/v1/expert/me").await, 404, "not_found").await;
    assert_eq!(staff.get("/expert").await.status(), 404);
}

#[tokio::test]
async fn the_expert_pages_keep_what_was_typed() {
    let app = spawn_app().await;
    let s = site(&app, "市交易中心", "北京").await;
    let staff = Client::login(&app, "centre_staff").await;
    let post = |path: &str, pairs: Vec<(&str, String)>| {
        let mut v: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        v.push(("_csrf".into(), staff.csrf.clone()));
        staff.http.post(format!("{}{path}", app.base)).form(&v).send()
    };
    assert_eq!(staff.get("/experts/new").await.status(), 200);
    let r = post(
        "/experts",
        vec![
            ("name", "王工".into()),
            ("id_number", "110105198001010011".into()),
            ("phone", "13800138000".into()),
            ("title", "工程师".into()),
            ("site", s.clone()),
            ("specialties", "B0102".into()),
            ("specialties", "C0101".into()),
            ("employer", "某设计院".into()),
            ("employer_since", "2020-02-30".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("value=\"王工\"") && html.contains("value=\"某设计院\""), "typed values kept");
    assert!(html.contains("data-testid=\"error-id_number\"") && html.contains("data-testid=\"error-employer_since\""));
    assert!(html.contains("value=\"C0101\" selected"), "chosen specialties kept");
    let r = post(
        "/experts",
        vec![
            ("name", "王工".into()),
            ("id_number", id_number(40)),
            ("phone", "13800138000".into()),
            ("title", "工程师".into()),
            ("site", s.clone()),
            ("specialties", "B0102".into()),
            ("employer", "某设计院".into()),
            ("employer_since", "2020-02-01".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let html = staff.get(&location).await.text().await.expect("html");
    assert!(html.contains("某设计院") && !html.contains(&id_number(40)), "stored, and the number masked");
    // The record's forms.
    let r = post(
        &location,
        vec![
            ("name", "王工程师".into()),
            ("phone", "12".into()),
            ("title", "".into()),
            ("site", s.clone()),
            ("specialties", "B0102".into()),
        ],
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("value=\"王工程师\"") && html.contains("data-testid=\"error-phone\""));
    let r =
        post(&format!("{location}/unavailable"), vec![("from", "2026-12-10".into()), ("until", "2026-12-01".into())])
            .await
            .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("value=\"2026-12-10\"") && html.contains("data-testid=\"error-until\""));
    let r =
        post(&format!("{location}/unavailable"), vec![("from", "2026-12-01".into()), ("until", "2026-12-03".into())])
            .await
            .expect("post");
    assert_eq!(r.status(), 303);
    let r = post(&format!("{location}/suspend"), vec![("reason", "".into())]).await.expect("post");
    assert_eq!(r.status(), 422);
    let r = post(
        &format!("{location}/account"),
        vec![("username", "wang.expert".into()), ("password", "weakpassword".into())],
    )
    .await
    .expect("post");
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("value=\"wang.expert\"") && !html.contains("weakpassword"), "no password shown back");
    let html = staff.get(&location).await.text().await.expect("html");
    assert!(html.contains("2026-12-02"), "the range noted day by day");
    let html = staff.get("/experts?specialty=B01").await.text().await.expect("html");
    assert!(html.contains("王工") && html.contains("data-testid=\"expert-row\""));
}

fn csv_good(site_a: &str, site_b: &str, first: u32) -> String {
    format!(
        "name,id_number,phone,title,site,specialties,employments,unavailable,conflicts\n\
         张三,{},13800000001,高级工程师,{site_a},B0102;C01,\"某大学|12110000MB0000099Q|2015-09-01|;某院||2010-01-01|2015-08-31\",2026-12-01;2026-12-02,91110000MA0000006D|星辰科技有限公司\n\
         李四,{},010-68001234,教授,{site_b},A02,,,\n",
        id_number(first),
        id_number(first + 1)
    )
}

async fn problems(r: reqwest::Response) -> Vec<(String, String)> {
    let body = expect_error(r, 422, "import_invalid").await;
    field_codes(&body)
}

#[tokio::test]
async fn a_csv_file_is_imported_whole_or_refused_whole_with_every_bad_line() {
    let app = spawn_app().await;
    site(&app, "市交易中心", "北京").await;
    site(&app, "外市交易中心", "天津").await;
    let staff = Client::login(&app, "centre_staff").await;
    // With a byte order mark, as spreadsheet programs write it.
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend(csv_good("市交易中心", "外市交易中心", 100).as_bytes());
    let r = staff.upload("/api/v1/experts/import", "experts.csv", file).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.expect("json")["added"], 2);
    let list = staff.get_json("/api/v1/experts?q=%E5%BC%A0%E4%B8%89").await;
    let zhang = list["items"][0]["id"].as_str().expect("imported").to_string();
    let v = staff.get_json(&format!("/api/v1/experts/{zhang}")).await;
    assert_eq!(v["employments"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["unavailable"], json!(["2026-12-01", "2026-12-02"]));
    assert_eq!(v["conflicts"][0]["org_name"], "星辰科技有限公司");
    let admin = Client::login(&app, "admin").await;
    let imports = admin.get_json("/api/v1/audit/records?action=expert.import").await;
    assert_eq!(imports.as_array().map(Vec::len), Some(1), "one record for the import");
    assert!(imports[0]["details"].as_str().is_some_and(|d| d.contains("\"count\":2") && !d.contains(&id_number(100))));

    // Several bad lines: all named, nothing stored.
    let bad = format!(
        "name,id_number,phone,title,site,specialties,employments,unavailable,conflicts\n\
         王五,{},13800000003,工程师,市交易中心,B0102,,,\n\
         赵六,110105198001010011,13800000004,工程师,市交易中心,B0102,,,\n\
         钱七,{},13800000005,工程师,别的中心,Z01,,,\n\
         孙八,{},13800000006,工程师,市交易中心,B0102,,2026-13-01,\n\
         周九,{},13800000007,工程师,市交易中心,B0102,,,\n\
         吴十,{},13800000008\n\
         郑一,{},13800000009,工程师,市交易中心,B0102,某单位|x|2020-01-01|,,\n",
        id_number(110),
        id_number(111),
        id_number(112),
        id_number(110),
        id_number(113),
        id_number(100),
    );
    let r = staff.upload("/api/v1/experts/import", "bad.csv", bad.clone().into_bytes()).await;
    let got = problems(r).await;
    for want in [
        ("line.3.id_number", "id_number_invalid"),
        ("line.4.specialties", "specialty_unknown"),
        ("line.4.site", "site_unknown"),
        ("line.5.unavailable", "date_invalid"),
        ("line.6.id_number", "duplicate_id_number"),
        ("line.7", "column_count"),
        ("line.8.employments", "credit_code_invalid"),
        ("line.8.id_number", "duplicate_id_number"),
    ] {
        assert!(got.contains(&(want.0.into(), want.1.into())), "{want:?} in {got:?}");
    }
    assert!(!got.iter().any(|(f, _)| f.starts_with("line.2.")), "the good line is not named: {got:?}");
    assert_eq!(staff.get_json("/api/v1/experts").await["total"], 2, "nothing of the refused file stored");

    // The page shows the same as a table.
    let r = staff.upload(&format!("/experts/import?_csrf={}", staff.csrf), "bad.csv", bad.into_bytes()).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.expect("html");
    assert!(html.contains("data-testid=\"import-problems\""));
    assert!(html.contains("data-line=\"3\" data-code=\"id_number_invalid\""), "line and reason in the table");
    assert!(html.contains("data-line=\"7\" data-code=\"column_count\""));

    // Missing columns, a file that is not UTF-8, an empty one.
    let r = staff.upload("/api/v1/experts/import", "x.csv", b"name,id_number,site\n".to_vec()).await;
    let got = problems(r).await;
    for c in ["phone", "title", "specialties"] {
        assert!(got.contains(&(format!("line.1.{c}"), "columns_missing".into())), "{c} in {got:?}");
    }
    let mut gbk = b"name,id_number,phone,title,site,specialties\n".to_vec();
    gbk.extend([0xD5, 0xC5, 0xC8, 0xFD]); // 张三 in GBK
    gbk.extend(format!(",{},13800000001,x,市交易中心,B01\n", id_number(120)).as_bytes());
    let r = staff.upload("/api/v1/experts/import", "gbk.csv", gbk).await;
    expect_error(r, 422, "encoding_invalid").await;
    let r = staff
        .upload("/api/v1/experts/import", "e.csv", b"name,id_number,phone,title,site,specialties\n".to_vec())
        .await;
    expect_error(r, 422, "import_empty").await;
    let r = staff
        .upload(
            &format!("/experts/import?_csrf={}", staff.csrf),
            "g.csv",
            csv_good("市交易中心", "外市交易中心", 130).into_bytes(),
        )
        .await;
    assert_eq!(r.status(), 303, "a good file through the page");
    assert_eq!(staff.get_json("/api/v1/experts").await["total"], 4);
    // Only the pool's managers import.
    for who in ["supervisor", "supplier_1"] {
        let c = Client::login(&app, who).await;
        let r =
            c.upload("/api/v1/experts/import", "g.csv", csv_good("市交易中心", "外市交易中心", 140).into_bytes()).await;
        assert!(matches!(r.status().as_u16(), 403 | 404), "{who}: {}", r.status());
    }
}

#[tokio::test]
async fn the_import_is_bounded_by_its_settings() {
    let app = crate::support::spawn_app_with(crate::support::Options {
        settings: Some(Box::new(|s| {
            s.experts.import_max_bytes = 600;
            s.experts.import_max_rows = 2;
        })),
        ..Default::default()
    })
    .await;
    site(&app, "市交易中心", "北京").await;
    let staff = Client::login(&app, "centre_staff").await;
    let mut big = csv_good("市交易中心", "市交易中心", 200).into_bytes();
    big.extend(vec![b'\n'; 700]);
    let r = staff.upload("/api/v1/experts/import", "big.csv", big.clone()).await;
    expect_error(r, 413, "import_too_large").await;
    let r = staff.upload(&format!("/experts/import?_csrf={}", staff.csrf), "big.csv", big).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.expect("html").contains("data-code=\"import_too_large\""));
    let mut three = csv_good("市交易中心", "市交易中心", 210);
    three.push_str(&format!("王五,{},13800000003,工程师,市交易中心,B0102,,,\n", id_number(212)));
    let r = staff.upload("/api/v1/experts/import", "three.csv", three.into_bytes()).await;
    expect_error(r, 413, "too_many_rows").await;
    assert_eq!(staff.get_json("/api/v1/experts").await["total"], 0);
}
