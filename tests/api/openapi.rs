//! The served OpenAPI document describes every route so that clients can be generated from it:
//! every `{param}` of a path is declared as a path parameter (and nothing else is), query
//! parameters are declared in the query, and every operation documents a success and the client
//! errors it answers.

use crate::client::Client;
use crate::support::spawn_app;
use serde_json::Value;

/// Operations that answer every request with a success: no client error to document.
const NO_CLIENT_ERROR: &[&str] = &["GET /api/v1/csrf"];

#[tokio::test]
async fn every_path_parameter_is_declared_and_every_operation_documents_success_and_refusal() {
    let app = spawn_app().await;
    let anon = Client::anonymous(&app).await;
    let doc = anon.get_json("/api/v1/openapi.json").await;
    let mut problems = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_path: Vec<&str> =
            path.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(name, _)| name).collect();
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
            for p in in_path.iter() {
                let declared = params.iter().any(|d| d["name"] == *p && d["in"] == "path" && d["required"] == true);
                if !declared {
                    problems.push(format!("{name}: path parameter {{{p}}} is not declared"));
                }
            }
            for d in &params {
                let n = d["name"].as_str().unwrap_or_default();
                if d["in"] == "path" && !in_path.contains(&n) {
                    problems.push(format!("{name}: {n} is declared in the path but the path has no {{{n}}}"));
                }
                if d.get("schema").is_none() {
                    problems.push(format!("{name}: parameter {n} has no schema"));
                }
            }
            let codes: Vec<&str> =
                op["responses"].as_object().map(|r| r.keys().map(String::as_str).collect()).unwrap_or_default();
            // A websocket's success is its upgrade.
            if !codes.iter().any(|c| c.starts_with('2') || *c == "101") {
                problems.push(format!("{name}: no success documented ({codes:?})"));
            }
            let refuses = codes.iter().any(|c| c.starts_with('4'));
            if !refuses && !NO_CLIENT_ERROR.contains(&name.as_str()) {
                problems.push(format!("{name}: no client error documented ({codes:?})"));
            }
            // What the document says of a state-changing request, a JSON body, a query string:
            if ["post", "put", "patch", "delete"].contains(&method.as_str()) && !codes.contains(&"403") {
                problems.push(format!("{name}: csrf_failed (403) not documented"));
            }
            if op["requestBody"]["content"].get("application/json").is_some() {
                for c in ["400", "413", "422"] {
                    if !codes.contains(&c) {
                        problems.push(format!("{name}: a JSON body's {c} not documented"));
                    }
                }
            }
            if params.iter().any(|d| d["in"] == "query") && !codes.contains(&"400") {
                problems.push(format!("{name}: query_invalid (400) not documented"));
            }
            // Every client error is answered with the error body.
            for (code, r) in op["responses"].as_object().into_iter().flatten() {
                if code.starts_with('4') {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    if schema != "#/components/schemas/ErrorBody" {
                        problems.push(format!("{name}: {code} has no error body"));
                    }
                }
            }
        }
    }
    assert!(operations > 50, "the document lists the API: {operations} operations");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));

    // The operations without a client error really have none: any request gets a success.
    for name in NO_CLIENT_ERROR {
        let (_, path) = name.split_once(' ').expect("method and path");
        let r = anon.get(&format!("{path}?unexpected=%ff&page=-1")).await;
        assert!(r.status().is_success(), "{name}: {}", r.status());
    }
}

#[tokio::test]
async fn the_hall_websocket_is_documented_with_its_upgrade_and_refusals() {
    let app = spawn_app().await;
    let doc = Client::anonymous(&app).await.get_json("/api/v1/openapi.json").await;
    let op = &doc["paths"]["/api/v1/tenders/{id}/opening/ws"]["get"];
    assert!(op.is_object(), "the websocket route is in the document");
    let params = op["parameters"].as_array().expect("parameters");
    let param = |name: &str| params.iter().find(|p| p["name"] == name).cloned().unwrap_or(Value::Null);
    assert_eq!((param("id")["in"].as_str(), param("id")["schema"]["format"].as_str()), (Some("path"), Some("uuid")));
    let after = param("after");
    assert_eq!(after["in"], "query");
    assert_ne!(after["required"], true, "after may be left out");
    assert_eq!(after["schema"]["type"], "integer");
    let mut codes: Vec<&str> = op["responses"].as_object().expect("responses").keys().map(String::as_str).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["101", "400", "401", "403", "404", "422", "426"]);
    assert!(op["responses"]["101"]["content"].is_null(), "an upgrade has no body");
    assert_eq!(
        op["responses"]["426"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}

#[tokio::test]
async fn the_documented_e_mall_ids_are_path_parameters_a_client_can_fill() {
    let app = spawn_app().await;
    let doc = Client::anonymous(&app).await.get_json("/api/v1/openapi.json").await;
    let op = &doc["paths"]["/api/v1/mall/orders/{id}/steps"]["post"];
    let id = op["parameters"].as_array().and_then(|ps| ps.iter().find(|p| p["name"] == "id")).cloned();
    let id = id.expect("the order id is declared");
    assert_eq!(id["in"], "path");
    assert_eq!(id["schema"]["format"], "uuid");
    // Filters are query parameters, not path parameters.
    let search = &doc["paths"]["/api/v1/tenders"]["get"]["parameters"];
    for p in search.as_array().expect("parameters") {
        assert_eq!(p["in"], "query", "{p}");
        assert_ne!(p["required"], true, "{p}");
    }
}
