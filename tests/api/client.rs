//! An HTTP client that keeps cookies and sends the CSRF header, like a browser session.
#![allow(dead_code)]

use crate::support::{PASSWORD, TestApp};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// A client session against a test app.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
}

impl Client {
    /// An anonymous session (it already has its CSRF cookie).
    pub async fn anonymous(app: &TestApp) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self::with_http(http, &app.base).await
    }

    /// A session over a given reqwest client.
    pub async fn with_http(http: reqwest::Client, base: &str) -> Client {
        let v: Value =
            http.get(format!("{base}/api/v1/csrf")).send().await.expect("csrf").json().await.expect("csrf json");
        Client { http, base: base.to_string(), csrf: v["csrf_token"].as_str().expect("token").to_string() }
    }

    /// A session logged in as a fixture user.
    pub async fn login(app: &TestApp, username: &str) -> Client {
        Self::with_password(app, username, PASSWORD).await
    }

    pub async fn with_password(app: &TestApp, username: &str, password: &str) -> Client {
        let mut c = Self::anonymous(app).await;
        let r = c.post("/api/v1/session", &serde_json::json!({"username": username, "password": password})).await;
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        let v: Value = r.json().await.expect("json");
        c.csrf = v["csrf_token"].as_str().expect("csrf").to_string();
        c
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).header("x-csrf-token", &self.csrf)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.expect("send")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("json")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.req(Method::POST, path).json(body).send().await.expect("send")
    }

    pub async fn post_empty(&self, path: &str) -> Response {
        self.req(Method::POST, path).send().await.expect("send")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.req(Method::PUT, path).json(body).send().await.expect("send")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(Method::DELETE, path).send().await.expect("send")
    }

    pub async fn upload(&self, path: &str, name: &str, data: Vec<u8>) -> Response {
        let part = reqwest::multipart::Part::bytes(data)
            .file_name(name.to_string())
            .mime_str("application/pdf")
            .expect("mime");
        self.req(Method::POST, path)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("send")
    }
}

/// Asserts an error response's status and code; returns its body.
pub async fn expect_error(r: Response, status: u16, code: &str) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "status; body {body}");
    assert_eq!(body["error"]["code"], code, "code; body {body}");
    body
}

/// Asserts a page's error: status, and the HTML error page naming the code.
pub async fn expect_page_error(r: Response, status: u16, code: &str) {
    let got = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "status; body {body}");
    assert!(body.contains(&format!("data-code=\"{code}\"")), "code {code} in {body}");
}
