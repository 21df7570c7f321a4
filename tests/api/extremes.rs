//! Extreme values in every parameter and JSON field of the API: integers at their limits,
//! negative numbers, dates at the ends of the calendar, very long and empty strings, wrong
//! types. Whatever comes in, the answer is a coded 4xx or a success, never a 5xx or a dropped
//! connection, for an anonymous client and for logged-in ones of every role.
//!
//! The operations, their parameters and their request bodies are read from the served OpenAPI
//! document (`/api/v1/openapi.json`), so a new route is covered without touching this file.
//! Each case sets one input (a path, query or header parameter, or one field of the body at
//! any depth) to an extreme value and fills every other input with an ordinary one (real ids
//! of the fixture's objects, valid enum values, sensible amounts and times), so the extreme
//! value gets past deserialization and the other checks and reaches the code that uses it.
//! Successful JSON answers are also checked for their times: each value that the document calls
//! a `date-time` must be RFC 3339.

use crate::client::Client;
use crate::support::{Options, PASSWORD, TestApp, org_id, spawn_app_with};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::{cell::RefCell, collections::HashMap};
use tenderhall::clock::Clock;

/// What one input is, as the document describes it.
#[derive(Clone, Debug)]
enum Shape {
    Object(Vec<Field>),
    Array(Box<Shape>),
    OneOf(Vec<Shape>),
    Leaf(Leaf),
}

#[derive(Clone, Debug)]
struct Field {
    name: String,
    required: bool,
    nullable: bool,
    shape: Shape,
}

#[derive(Clone, Debug)]
struct Leaf {
    kind: Kind,
    /// The field or parameter name: it picks ordinary values (an item id for `item`, a
    /// category code for `category`...).
    name: String,
    /// Sent as text (a path, query or header parameter) rather than as JSON.
    text: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Integer,
    Number,
    Boolean,
    Time,
    Day,
    Uuid,
    Enum(Vec<String>),
    Text,
    Any,
    /// A raw request body of this content type.
    Bytes(String),
}

/// One operation of the document.
#[derive(Clone, Debug)]
struct Op {
    method: Method,
    path: String,
    /// The request as one object: `path:NAME`, `query:NAME`, `header:NAME` and `body`.
    input: Shape,
    /// The JSON schemas of its successful answers.
    answers: Vec<Value>,
}

impl Op {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The shape of a schema, and whether it admits `null`.
fn shape_of(doc: &Value, schema: &Value, name: &str, text: bool, depth: usize) -> (Shape, bool) {
    let s = resolve(doc, schema);
    let leaf = |kind| Shape::Leaf(Leaf { kind, name: name.to_string(), text });
    if depth > 8 {
        return (leaf(Kind::Any), true);
    }
    if let Some(variants) = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(Value::as_array) {
        let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
        let nullable = variants.iter().any(is_null);
        let rest: Vec<&Value> = variants.iter().filter(|v| !is_null(v)).collect();
        if rest.len() == 1 {
            return (shape_of(doc, rest[0], name, text, depth + 1).0, nullable);
        }
        let shapes = rest.iter().map(|v| shape_of(doc, v, name, text, depth + 1).0).collect();
        return (Shape::OneOf(shapes), nullable);
    }
    if let Some([one]) = s.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return shape_of(doc, one, name, text, depth + 1);
    }
    let (ty, nullable) = match &s["type"] {
        Value::String(t) => (t.as_str(), false),
        Value::Array(ts) => {
            (ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or(""), ts.iter().any(|t| t == "null"))
        }
        _ => ("", false),
    };
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let values = values.iter().filter_map(Value::as_str).map(str::to_string).collect();
        return (leaf(Kind::Enum(values)), nullable);
    }
    let shape = match ty {
        "object" => match s.get("properties").and_then(Value::as_object) {
            Some(props) => {
                let required: Vec<&str> =
                    s["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                let fields = props
                    .iter()
                    .map(|(k, v)| {
                        let (shape, nullable) = shape_of(doc, v, k, text, depth + 1);
                        Field { name: k.clone(), required: required.contains(&k.as_str()), nullable, shape }
                    })
                    .collect();
                Shape::Object(fields)
            }
            None => leaf(Kind::Any),
        },
        "array" => Shape::Array(Box::new(shape_of(doc, &s["items"], name, text, depth + 1).0)),
        "integer" => leaf(Kind::Integer),
        "number" => leaf(Kind::Number),
        "boolean" => leaf(Kind::Boolean),
        "string" => leaf(match s.get("format").and_then(Value::as_str) {
            Some("date-time") => Kind::Time,
            Some("date") => Kind::Day,
            Some("uuid") => Kind::Uuid,
            _ if DAY_NAMES.contains(&name) => Kind::Day,
            _ => Kind::Text,
        }),
        _ => leaf(Kind::Any),
    };
    (shape, nullable)
}

/// Text parameters that are days (`YYYY-MM-DD`).
const DAY_NAMES: &[&str] = &["from", "to", "deadline_from", "deadline_to"];

/// Every operation of the served document.
fn operations(doc: &Value) -> Vec<Op> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let mut fields = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("parameter name");
                // Where a parameter goes is read from the path itself: a parameter is a path
                // parameter exactly when the path names it.
                let place = if path.contains(&format!("{{{name}}}")) {
                    "path"
                } else if p["in"] == "header" {
                    "header"
                } else {
                    "query"
                };
                let (shape, nullable) = shape_of(doc, &p["schema"], name, true, 0);
                fields.push(Field {
                    name: format!("{place}:{name}"),
                    required: place == "path" || (p["required"] == true && !nullable),
                    nullable: false,
                    shape,
                });
            }
            for name in path_names(path) {
                if !fields.iter().any(|f| f.name == format!("path:{name}")) {
                    let leaf = Leaf { kind: Kind::Text, name: name.clone(), text: true };
                    fields.push(Field {
                        name: format!("path:{name}"),
                        required: true,
                        nullable: false,
                        shape: Shape::Leaf(leaf),
                    });
                }
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                let required = op["requestBody"]["required"] == true;
                let shape = match content.get("application/json") {
                    Some(json) => shape_of(doc, &json["schema"], "body", false, 0).0,
                    None => {
                        let ct = content.keys().next().cloned().unwrap_or_default();
                        Shape::Leaf(Leaf { kind: Kind::Bytes(ct), name: "body".into(), text: false })
                    }
                };
                fields.push(Field { name: "body".into(), required, nullable: false, shape });
            }
            let answers = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(code, _)| code.starts_with('2'))
                .filter_map(|(_, r)| r["content"]["application/json"].get("schema").cloned())
                .collect();
            ops.push(Op { method, path: path.clone(), input: Shape::Object(fields), answers });
        }
    }
    // Ordinary values cancel, withdraw, suspend, decide and delete what the others work on:
    // those go last, so the rest meet the fixture as it was set up.
    let ending = |o: &Op| {
        o.method == Method::DELETE
            || ["/cancel", "/withdraw", "/suspend", "{decision}"].iter().any(|e| o.path.ends_with(e))
    };
    ops.sort_by_key(ending);
    ops
}

fn path_names(path: &str) -> Vec<String> {
    path.split('{').skip(1).filter_map(|s| s.split_once('}')).map(|(n, _)| n.to_string()).collect()
}

/// The fixture's objects, whose ids make ordinary values.
#[derive(Default)]
struct Pools {
    now: DateTime<Utc>,
    /// By the path segment that precedes an id (`tenders`, `items`...) or a field name.
    ids: HashMap<&'static str, Vec<String>>,
}

impl Pools {
    fn ids(&self, key: &str) -> Vec<String> {
        self.ids.get(key).cloned().unwrap_or_default()
    }

    fn all(&self) -> Vec<String> {
        self.ids.values().flatten().cloned().collect()
    }
}

fn pick<T: Clone + std::fmt::Debug + 'static>(values: Vec<T>) -> BoxedStrategy<T> {
    prop::sample::select(values).boxed()
}

fn texts(values: &[&str]) -> BoxedStrategy<Value> {
    pick(values.iter().map(|s| Value::String(s.to_string())).collect())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An ordinary value for a leaf.
fn ordinary(leaf: &Leaf, pools: &Pools) -> BoxedStrategy<Value> {
    let name = leaf.name.as_str();
    let now = pools.now;
    let num = |lo: i64, hi: i64| -> BoxedStrategy<Value> {
        if leaf.text {
            (lo..=hi).prop_map(|n| Value::String(n.to_string())).boxed()
        } else {
            (lo..=hi).prop_map(Value::from).boxed()
        }
    };
    match &leaf.kind {
        Kind::Integer | Kind::Number => match name {
            "quantity" => num(1, 3),
            "hours" => num(1, 72),
            "min_valid_bids" => num(1, 3),
            "page" => num(1, 3),
            "after" | "before" | "Upload-Offset" => num(0, 50),
            "budget" => num(1_000_000, 4_000_000),
            "ceiling" => num(100_000, 900_000),
            "award" => num(500_000, 900_000),
            "price" | "market_price" | "unit_price" => num(10_000, 200_000),
            _ => num(1, 100),
        },
        Kind::Boolean => {
            if leaf.text {
                texts(&["true", "false"])
            } else {
                any::<bool>().prop_map(Value::Bool).boxed()
            }
        }
        Kind::Time => {
            let (lo, hi): (i64, i64) = match name {
                "valid_from" | "awarded_at" => (-40, -1),
                "valid_to" => (30, 90),
                "question_cutoff" => (5, 15),
                _ => (21, 60),
            };
            (lo..=hi).prop_map(move |d| Value::String(rfc3339(now + TimeDelta::days(d)))).boxed()
        }
        Kind::Day => texts(&["2026-01-01", "2026-11-02", "2026-12-31"]),
        Kind::Uuid => {
            let pool = match pools.ids(name) {
                p if !p.is_empty() => p,
                _ => pools.all(),
            };
            pick(pool.into_iter().map(Value::String).collect())
        }
        Kind::Enum(values) => pick(values.iter().cloned().map(Value::String).collect()),
        Kind::Text => match name {
            "category" | "categories" => texts(&["printers", "furniture", "paper"]),
            "username" => texts(&["agency_x", "buyer_a", "supplier_1", "newcomer_1", "newcomer_2"]),
            "password" => texts(&[PASSWORD, "Passw0rd-other"]),
            "current_password" => texts(&["Wrong-passw0rd"]),
            "new_password" => texts(&["Newpassw0rd-1"]),
            "credit_code" => texts(&["91110000MA01ABCD2X", "91310000MA1FL0000A"]),
            "min_price" | "max_price" => texts(&["10", "2599.00"]),
            "size" => texts(&["sme", "small", "large"]),
            "sort" => texts(&["relevance", "price_asc", "price_desc"]),
            "status" => texts(&["pending", "active", "failed", "done", "placed", "confirmed"]),
            "state" => texts(&["published", "cancelled"]),
            "method" => texts(&["open_tender", "公开招标"]),
            "lang" => texts(&["zh", "en"]),
            "key" => texts(&["delivery_days", &"0".repeat(64)]),
            "signature" => texts(&[&"A".repeat(86)]),
            "public_key" => texts(&[&format!("BA{}", "A".repeat(85))]),
            "object" => texts(&["tender"]),
            "q" => texts(&["打印机", "教学", "M404"]),
            "decision" => texts(&["approve", "reject"]),
            "contact_phone" => texts(&["010-12345678"]),
            _ => texts(&["测试", "测试文本 test"]),
        },
        Kind::Any => texts(&["测试"]),
        Kind::Bytes(_) => prop::collection::vec(any::<u8>(), 0..64).prop_map(Value::from).boxed(),
    }
}

/// Dates at and beyond the ends of the calendar, in RFC 3339 form and not.
const EXTREME_TIMES: &[&str] = &[
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "-262143-01-01T00:00:00Z",
    "+262142-12-31T23:59:59Z",
    "-262144-01-01T00:00:00Z",
    "+200000-01-01T00:00:00Z",
    "-200000-01-01T00:00:00Z",
    "+10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-13-45T25:61:61Z",
    "2026-11-02T02:00:00.999999999999Z",
];

const EXTREME_DAYS: &[&str] =
    &["+275760-09-13", "-262143-01-01", "262142-12-31", "-262144-01-01", "9999-12-31", "0000-01-01", "2026-02-30"];

const EXTREME_NUMBERS: &[&str] = &[
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "2147483647",
    "-2147483648",
    "4294967295",
    "1000000000000000",
    "1000000000000001",
    "9007199254740993",
    "-1",
    "0",
    "1",
];

/// Extreme texts: empty, very long, dates and numbers out of range, odd characters.
fn extreme_texts(text: bool) -> BoxedStrategy<String> {
    let long = if text { 8_000 } else { 100_000 };
    let mut fixed: Vec<String> = vec![
        String::new(),
        " ".into(),
        "a".repeat(long),
        "测".repeat(long / 4),
        "-1".into(),
        "1e309".into(),
        "99999999999999999999.99".into(),
        "0.001".into(),
        "-0".into(),
        "\u{0}\u{1}\u{7f}".into(),
        "\u{202e}\u{feff}😀".into(),
        "../../../etc/passwd".into(),
        "%00%ff".into(),
        "'; DROP TABLE tenders; --".into(),
    ];
    fixed.extend(EXTREME_TIMES.iter().map(|s| s.to_string()));
    fixed.extend(EXTREME_DAYS.iter().map(|s| s.to_string()));
    fixed.extend(EXTREME_NUMBERS.iter().map(|s| s.to_string()));
    prop_oneof![
        4 => pick(fixed),
        1 => any::<String>(),
        1 => (-262_200i64..=262_200).prop_map(|y| if (0..=9999).contains(&y) { format!("{y:04}-06-15T12:00:00Z") } else { format!("{y:+07}-06-15T12:00:00Z") }),
    ]
    .boxed()
}

/// An extreme value for one input.
fn extreme(shape: &Shape, pools: &Pools) -> BoxedStrategy<Value> {
    let wrong =
        || texts(&["x"]).prop_union(pick(vec![Value::Null, json!({}), json!([]), json!(true), json!(0)]).boxed());
    match shape {
        Shape::Object(_) | Shape::OneOf(_) => wrong().boxed(),
        Shape::Array(elem) => prop_oneof![
            1 => wrong(),
            1 => Just(json!([])),
            1 => prop::collection::vec(normal(elem, pools), 60).prop_map(Value::from),
        ]
        .boxed(),
        Shape::Leaf(leaf) => {
            let text = leaf.text;
            let s = |v: BoxedStrategy<String>| v.prop_map(Value::String).boxed();
            let numbers = || -> BoxedStrategy<Value> {
                if text {
                    s(prop_oneof![
                        pick(EXTREME_NUMBERS.iter().map(|n| n.to_string()).collect()),
                        any::<i64>().prop_map(|n| n.to_string())
                    ]
                    .boxed())
                } else {
                    prop_oneof![
                        4 => pick(EXTREME_NUMBERS.iter().filter_map(|n| serde_json::from_str::<Value>(n).ok()).collect()),
                        2 => any::<i64>().prop_map(Value::from),
                        1 => pick(vec![json!(1e300), json!(-1e300), json!(0.5), json!("1"), Value::Null]),
                    ]
                    .boxed()
                }
            };
            match &leaf.kind {
                Kind::Integer | Kind::Number => numbers(),
                Kind::Boolean => {
                    if text {
                        texts(&["", "2", "TRUE", "yes", "-1"])
                    } else {
                        pick(vec![json!("true"), json!(1), Value::Null])
                    }
                }
                Kind::Time => {
                    prop_oneof![3 => texts(EXTREME_TIMES), 1 => s(extreme_texts(text))].boxed()
                }
                Kind::Day => prop_oneof![3 => texts(EXTREME_DAYS), 1 => s(extreme_texts(text))].boxed(),
                Kind::Uuid => prop_oneof![
                    2 => texts(&["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "not-a-uuid"]),
                    1 => any::<u128>().prop_map(|n| Value::String(uuid::Uuid::from_u128(n).to_string())),
                    1 => s(extreme_texts(text)),
                ]
                .boxed(),
                Kind::Enum(values) => {
                    let upper: Vec<String> = values.iter().map(|v| v.to_uppercase()).collect();
                    prop_oneof![1 => pick(upper).prop_map(Value::String), 2 => s(extreme_texts(text))].boxed()
                }
                Kind::Text | Kind::Any => {
                    if text {
                        s(extreme_texts(true))
                    } else {
                        prop_oneof![4 => s(extreme_texts(false)), 1 => numbers()].boxed()
                    }
                }
                Kind::Bytes(_) => prop_oneof![
                    Just(Value::from(Vec::<u8>::new())),
                    Just(Value::from(vec![0u8; 300_000])),
                    prop::collection::vec(any::<u8>(), 0..2048).prop_map(Value::from),
                ]
                .boxed(),
            }
        }
    }
}

/// The extreme values that every input of a kind is tried with, each in a case of its own.
#[derive(Clone, Debug)]
enum Sample {
    Value(Value),
    /// An array of this many ordinary elements.
    Many(usize),
}

fn samples(shape: &Shape) -> Vec<Sample> {
    let v = |x: Value| Sample::Value(x);
    let strs = |xs: &[&str]| xs.iter().map(|x| Sample::Value(Value::String(x.to_string()))).collect::<Vec<_>>();
    const NUMBERS: &[&str] = &[
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "2147483647",
        "-2147483648",
        "1000000000000001",
        "-1",
        "0",
    ];
    const TIMES: &[&str] = &[
        "+275760-09-13T00:00:00Z",
        "-262143-01-01T00:00:00Z",
        "+262142-12-31T23:59:59Z",
        "+200000-01-01T00:00:00Z",
        "-200000-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
    ];
    const DAYS: &[&str] =
        &["+275760-09-13", "-262143-01-01", "262142-12-31", "-262144-01-01", "9999-12-31", "0000-01-01"];
    let texts = |text: bool| {
        let long = if text { 8_000 } else { 100_000 };
        let mut out =
            strs(&["", "+275760-09-13T00:00:00Z", "-262143-01-01T00:00:00Z", "18446744073709551615", "\u{0}"]);
        out.push(v(Value::String("a".repeat(long))));
        out.push(v(Value::String("测".repeat(long / 4))));
        out
    };
    match shape {
        Shape::Object(_) | Shape::OneOf(_) => vec![v(Value::Null), v(json!({})), v(json!([])), v(json!("x"))],
        Shape::Array(_) => vec![v(Value::Null), v(json!([])), v(json!({})), Sample::Many(60)],
        Shape::Leaf(leaf) => match &leaf.kind {
            Kind::Integer | Kind::Number if leaf.text => {
                let mut out = strs(NUMBERS);
                out.extend(strs(&["18446744073709551616", ""]));
                out
            }
            Kind::Integer | Kind::Number => {
                let mut out: Vec<Sample> = NUMBERS.iter().filter_map(|n| serde_json::from_str(n).ok()).map(v).collect();
                out.push(v(json!(1e300)));
                out
            }
            Kind::Boolean if leaf.text => strs(&["", "2", "yes"]),
            Kind::Boolean => vec![v(json!("true")), v(json!(1)), v(Value::Null)],
            Kind::Time => strs(TIMES),
            Kind::Day => strs(DAYS),
            Kind::Uuid => {
                strs(&["00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "not-a-uuid"])
            }
            Kind::Enum(values) => {
                let mut out = strs(&["", "\u{0}"]);
                out.extend(values.first().map(|x| v(Value::String(x.to_uppercase()))));
                out
            }
            Kind::Text | Kind::Any => texts(leaf.text),
            Kind::Bytes(_) => vec![v(json!([])), v(Value::from(vec![0u8; 300_000]))],
        },
    }
}

fn sample(sample: &Sample, shape: &Shape, pools: &Pools) -> BoxedStrategy<Value> {
    match (sample, shape) {
        (Sample::Many(n), Shape::Array(elem)) => {
            prop::collection::vec(normal(elem, pools), *n).prop_map(Value::from).boxed()
        }
        (Sample::Many(_), _) => Just(json!([])).boxed(),
        (Sample::Value(x), _) => Just(x.clone()).boxed(),
    }
}

/// An ordinary value for a whole shape.
fn normal(shape: &Shape, pools: &Pools) -> BoxedStrategy<Value> {
    build(shape, None, &|_| Just(Value::Null).boxed(), pools)
}

/// What the input at the target becomes.
type At<'a> = &'a dyn Fn(&Shape) -> BoxedStrategy<Value>;

/// A value with the input at `target` (a path of child indices) made by `at` and everything else
/// ordinary; with no target, everything ordinary.
fn build(shape: &Shape, target: Option<&[usize]>, at: At<'_>, pools: &Pools) -> BoxedStrategy<Value> {
    if target == Some(&[]) {
        return at(shape);
    }
    let (head, rest) = match target {
        Some([h, rest @ ..]) => (Some(*h), Some(rest)),
        _ => (None, None),
    };
    match shape {
        Shape::Leaf(leaf) => ordinary(leaf, pools),
        Shape::Array(elem) => {
            if head == Some(0) {
                build(elem, rest, at, pools).prop_map(|v| Value::Array(vec![v])).boxed()
            } else {
                prop::collection::vec(normal(elem, pools), 1..=2).prop_map(Value::from).boxed()
            }
        }
        Shape::OneOf(variants) => match head {
            Some(i) => build(&variants[i], rest, at, pools),
            None => Union::new(variants.iter().map(|v| normal(v, pools))).boxed(),
        },
        Shape::Object(fields) => {
            let parts: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let name = f.name.clone();
                    if head == Some(i) {
                        return build(&f.shape, rest, at, pools).prop_map(move |v| Some((name.clone(), v))).boxed();
                    }
                    let value = normal(&f.shape, pools);
                    let value =
                        if f.nullable { prop_oneof![4 => value, 1 => Just(Value::Null)].boxed() } else { value };
                    if f.required {
                        value.prop_map(move |v| Some((name.clone(), v))).boxed()
                    } else {
                        prop::option::weighted(0.75, value).prop_map(move |v| v.map(|v| (name.clone(), v))).boxed()
                    }
                })
                .collect();
            parts.prop_map(|ps| Value::Object(ps.into_iter().flatten().collect::<Map<_, _>>())).boxed()
        }
    }
}

/// Every node of a shape that can be made extreme, as paths of child indices.
fn targets(shape: &Shape, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    match shape {
        Shape::Leaf(_) => {}
        Shape::Array(elem) => {
            prefix.push(0);
            out.push(prefix.clone());
            targets(elem, prefix, out);
            prefix.pop();
        }
        Shape::OneOf(variants) => {
            for (i, v) in variants.iter().enumerate() {
                prefix.push(i);
                // A variant as a whole is not a target: its fields are.
                targets(v, prefix, out);
                prefix.pop();
            }
        }
        Shape::Object(fields) => {
            for (i, f) in fields.iter().enumerate() {
                prefix.push(i);
                out.push(prefix.clone());
                targets(&f.shape, prefix, out);
                prefix.pop();
            }
        }
    }
}

/// The fixture: objects of every kind, and a client for each role.
struct World {
    app: TestApp,
    /// The served OpenAPI document.
    doc: Value,
    pools: Pools,
    /// `(user, client)`; the first is anonymous.
    clients: RefCell<Vec<(Option<&'static str>, Client)>>,
}

const USERS: &[&str] = &["agency_x", "buyer_a", "centre_staff", "supplier_1", "admin", "supervisor"];

async fn json_of(r: reqwest::Response) -> Value {
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert!(status.is_success(), "{status}: {v}");
    v
}

impl World {
    async fn new() -> World {
        let app = spawn_app_with(Options {
            settings: Some(Box::new(|s| {
                // Wrong passwords are part of the cases: throttling must not lock the fixture's
                // users out.
                s.security.max_failed_logins = u64::MAX;
                s.security.max_failed_logins_per_addr = u64::MAX;
            })),
            ..Default::default()
        })
        .await;
        let mut ids: HashMap<&'static str, Vec<String>> = HashMap::new();

        // A tender whose bid deadline has passed, with a sealed bid: its opening hall is open.
        let agency = Client::login(&app, "agency_x").await;
        let past = crate::tenders::published_tender(&app, &agency).await;
        let bidder = crate::bids::bidder(&app, "supplier_1", &past).await;
        let lot = crate::bids::first_lot(&bidder.client, &past).await;
        let sealed = crate::opening::submit(&bidder, &past, &lot, "3650000.00").await;
        let deadline = crate::bids::deadline_of(&agency, &past).await;
        app.clock.set(deadline + TimeDelta::seconds(1));
        app.tick().await;

        // Sessions ended with the weeks that passed: everything else is made afresh.
        let agency = Client::login(&app, "agency_x").await;
        let draft = crate::tenders::create_draft(&app, &agency, 30).await;
        let open = crate::tenders::published_tender(&app, &agency).await;
        let bidder = crate::bids::bidder(&app, "supplier_1", &open).await;
        let mut lots = vec![lot];
        let mut docs = Vec::new();
        for t in [&draft, &open, &past] {
            let v = agency.get_json(&format!("/api/v1/tenders/{t}")).await;
            lots.extend(v["lots"].as_array().into_iter().flatten().filter_map(|l| l["id"].as_str()).map(String::from));
            docs.extend(
                v["documents"].as_array().into_iter().flatten().filter_map(|d| d["id"].as_str()).map(String::from),
            );
        }
        let open_lot = crate::bids::first_lot(&bidder.client, &open).await;
        let reserved = json_of(bidder.client.post_empty(&format!("/api/v1/tenders/{open}/lots/{open_lot}/bids")).await)
            .await["bid"]
            .as_str()
            .expect("bid")
            .to_string();
        ids.insert("tenders", vec![draft.clone(), open.clone(), past.clone()]);
        ids.insert("source_tender", vec![open]);
        ids.insert("lots", lots);
        ids.insert("documents", docs);
        ids.insert("bids", vec![reserved, sealed.bid.clone()]);
        ids.insert("bid", vec![sealed.bid]);

        let centre = Client::login(&app, "centre_staff").await;
        let buyer = Client::login(&app, "buyer_a").await;
        let agreement = crate::mall::agreement(&app, &centre, "供应商一有限公司", &["printers", "furniture"]).await;
        let item = crate::mall::item(&centre, &agreement, "黑白激光打印机", "M404dn", 259_900, 289_900).await;
        let order = json_of(crate::mall::buy(&buyer, &item, 1, None, 300_000).await).await["id"]
            .as_str()
            .expect("order")
            .to_string();
        let quotation = json_of(
            buyer
                .post(
                    "/api/v1/mall/quotations",
                    &json!({"category": "printers", "title": "采购打印机10台", "requirement": "A4 黑白",
                        "quantity": 10, "unit": "台", "budget": 3_000_000, "hours": 24}),
                )
                .await,
        )
        .await["id"]
            .as_str()
            .expect("quotation")
            .to_string();
        // A price above the market reference raises a flag.
        json_of(
            centre
                .put(&format!("/api/v1/mall/items/{item}/price"), &json!({"price": 299_900, "market_price": 289_900}))
                .await,
        )
        .await;
        let flags = centre.get_json("/api/v1/mall/price-flags").await;
        let flags: Vec<String> =
            flags.as_array().into_iter().flatten().filter_map(|f| f["id"].as_str()).map(String::from).collect();
        assert!(!flags.is_empty(), "a flag to resolve");
        let anon = Client::anonymous(&app).await;
        let pending = json_of(
            anon.post(
                "/api/v1/registrations",
                &json!({"org_name": "新申请供应商有限公司", "credit_code": "91110000MA01ABCD2X", "size_class": "small",
                    "username": "newcomer", "display_name": "新用户", "password": "Newcomer-2026"}),
            )
            .await,
        )
        .await["id"]
            .as_str()
            .expect("organisation")
            .to_string();
        ids.insert("agreements", vec![agreement]);
        ids.insert("items", vec![item.clone()]);
        ids.insert("item", vec![item]);
        ids.insert("orders", vec![order]);
        ids.insert("quotations", vec![quotation]);
        ids.insert("price-flags", flags);
        ids.insert("organisations", vec![pending]);
        ids.insert("procuring_org", vec![org_id(&app, "甲采购单位").await.to_string()]);
        ids.insert("supplier", vec![org_id(&app, "供应商一有限公司").await.to_string()]);

        let mut clients = vec![(None, anon)];
        for u in USERS {
            clients.push((Some(*u), Client::login(&app, u).await));
        }
        let now = app.clock.now();
        let doc = clients[0].1.get_json("/api/v1/openapi.json").await;
        World { app, doc, pools: Pools { now, ids }, clients: RefCell::new(clients) }
    }

    /// The pools with path parameters named by the segment before them.
    fn input_shape(&self, op: &Op) -> Shape {
        // A path parameter's ordinary values are the ids of the segment before it
        // (`/mall/orders/{id}`: orders).
        let segments: Vec<&str> = op.path.split('/').collect();
        let Shape::Object(fields) = &op.input else { return op.input.clone() };
        let fields = fields
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if let (Some(name), Shape::Leaf(leaf)) = (f.name.strip_prefix("path:"), &mut f.shape) {
                    let at = segments.iter().position(|s| *s == format!("{{{name}}}"));
                    let before = at.and_then(|i| i.checked_sub(1)).map(|i| segments[i]).unwrap_or_default();
                    if self.pools.ids.contains_key(before) {
                        leaf.kind = Kind::Uuid;
                        leaf.name = before.to_string();
                    } else if leaf.kind == Kind::Uuid {
                        leaf.name = String::new();
                    }
                }
                f
            })
            .collect();
        Shape::Object(fields)
    }

    /// Sends one case and judges the answer; returns its status.
    #[allow(clippy::await_holding_refcell_ref)] // one case at a time: nothing else borrows the clients meanwhile
    async fn send(&self, op: &Op, client: usize, input: &Value) -> Result<u16, String> {
        let mut path = op.path.clone();
        let mut query = Vec::new();
        let mut headers = Vec::new();
        let mut body = None;
        for (k, v) in input.as_object().into_iter().flatten() {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if let Some(name) = k.strip_prefix("path:") {
                // A value is one segment: its slashes are encoded too.
                let segment = tenderhall::web::page::percent_encode(&text).replace('/', "%2F");
                path = path.replace(&format!("{{{name}}}"), &segment);
            } else if let Some(name) = k.strip_prefix("query:") {
                query.push((name.to_string(), text));
            } else if let Some(name) = k.strip_prefix("header:") {
                headers.push((name.to_string(), text));
            } else if k == "body" {
                body = Some(v.clone());
            }
        }
        let clients = self.clients.borrow();
        let c = &clients[client].1;
        let mut req = c.req(op.method.clone(), &path).query(&query);
        for (k, v) in headers {
            if let Ok(v) = reqwest::header::HeaderValue::from_str(&v) {
                req = req.header(k, v);
            }
        }
        let body_kind = match &op.input {
            Shape::Object(fields) => fields.iter().find(|f| f.name == "body").map(|f| &f.shape),
            _ => None,
        };
        match (body, body_kind) {
            (Some(b), Some(Shape::Leaf(Leaf { kind: Kind::Bytes(ct), .. }))) => {
                let bytes: Vec<u8> = serde_json::from_value(b).unwrap_or_default();
                if ct.starts_with("multipart/") {
                    let part = reqwest::multipart::Part::bytes(bytes).file_name("文件.pdf");
                    req = req.multipart(reqwest::multipart::Form::new().part("file", part));
                } else {
                    req = req.header("content-type", ct.as_str()).body(bytes);
                }
            }
            (Some(b), _) => req = req.json(&b),
            (None, _) => {}
        }
        let r = match req.send().await {
            Ok(r) => r,
            // Not sendable at all (a URL longer than the client takes): nothing to judge.
            Err(e) if e.is_builder() => return Ok(0),
            Err(e) => return Err(format!("no answer (connection dropped?): {e:?}")),
        };
        let status = r.status();
        let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let bytes = r.bytes().await.map_err(|e| format!("{status}: the answer broke off: {e:?}"))?;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]).to_string();
        if status.is_server_error() {
            return Err(format!("{status}: {text}"));
        }
        if status.is_client_error() && status != reqwest::StatusCode::METHOD_NOT_ALLOWED {
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if !v["error"]["code"].is_string() {
                return Err(format!("{status} without an error code: {text}"));
            }
        }
        if status.is_success() && content_type.starts_with("application/json") {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{status}: not JSON ({e}): {text}"))?;
            for schema in &op.answers {
                check_times(&self.doc, schema, &v, 0)
                    .map_err(|t| format!("{status}: a time that is not RFC 3339: {t}"))?;
            }
        }
        drop(clients);
        // Logging in, out, or changing the password changes whose session the client holds:
        // start it again as what it was.
        let session_changed = (op.path == "/api/v1/session" || op.path == "/api/v1/me/password") && status.is_success();
        if session_changed {
            let user = self.clients.borrow()[client].0;
            let fresh = match user {
                Some(u) => Client::login(&self.app, u).await,
                None => Client::anonymous(&self.app).await,
            };
            self.clients.borrow_mut()[client].1 = fresh;
        }
        Ok(status.as_u16())
    }
}

/// Every value that the answer's schema calls a `date-time` is RFC 3339: a four-digit year, no
/// sign, and it parses.
fn check_times(doc: &Value, schema: &Value, v: &Value, depth: usize) -> Result<(), String> {
    let s = resolve(doc, schema);
    if depth > 12 {
        return Ok(());
    }
    if let Some(variants) = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(Value::as_array) {
        // The value need only fit one of them.
        let checks: Vec<Result<(), String>> = variants.iter().map(|x| check_times(doc, x, v, depth + 1)).collect();
        return if checks.iter().any(Result::is_ok) {
            Ok(())
        } else {
            checks.into_iter().find(Result::is_err).unwrap_or(Ok(()))
        };
    }
    for x in s.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        check_times(doc, x, v, depth + 1)?;
    }
    match v {
        Value::String(t) if s.get("format").and_then(Value::as_str) == Some("date-time") => {
            let four_digits =
                t.len() > 4 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit) && t.as_bytes()[4] == b'-';
            if four_digits && DateTime::parse_from_rfc3339(t).is_ok() { Ok(()) } else { Err(t.clone()) }
        }
        Value::Array(items) => items.iter().try_for_each(|i| check_times(doc, &s["items"], i, depth + 1)),
        Value::Object(o) => o.iter().try_for_each(|(k, x)| match s["properties"].get(k) {
            Some(p) => check_times(doc, p, x, depth + 1),
            None => Ok(()),
        }),
        _ => Ok(()),
    }
}

/// Runs `cases` cases of `strategy` against `op` and reports the smallest failing one.
fn run_cases(
    rt: &tokio::runtime::Runtime,
    world: &World,
    op: &Op,
    cases: u32,
    strategy: impl Strategy<Value = (usize, Value)>,
    statuses: &mut Vec<(usize, u16)>,
) -> Option<String> {
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, max_shrink_iters: 64, ..Config::default() });
    let seen = RefCell::new(Vec::new());
    let result = runner.run(&strategy, |(client, input)| {
        let status = rt.block_on(world.send(op, client, &input)).map_err(TestCaseError::fail)?;
        seen.borrow_mut().push((client, status));
        Ok(())
    });
    statuses.extend(seen.into_inner());
    match result {
        Ok(()) => None,
        Err(TestError::Fail(why, (client, input))) => {
            let who = world.clients.borrow()[client].0.unwrap_or("anonymous");
            let mut shown = input.to_string();
            if let Some((cut, _)) = shown.char_indices().nth(600) {
                shown = format!("{}…", &shown[..cut]);
            }
            Some(format!("{} as {who}: {why}\n    input {shown}", op.name()))
        }
        Err(e) => Some(format!("{}: {e}", op.name())),
    }
}

#[test]
fn extreme_values_anywhere_in_the_api_get_a_coded_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let world = rt.block_on(World::new());
    let ops = operations(&world.doc);
    assert!(ops.len() > 50, "the document lists the API's operations: {}", ops.len());
    // Random cases per input on top of the fixed samples (`PROPTEST_CASES` to try more).
    let random_per_input: u32 = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2);
    let n_clients = world.clients.borrow().len();
    let pools = &world.pools;
    let mut failures = Vec::new();
    let mut sent = 0;
    for op in &ops {
        let shape = world.input_shape(op);
        let mut all = Vec::new();
        targets(&shape, &mut Vec::new(), &mut all);
        let mut statuses = Vec::new();

        // Everything ordinary, as every client: who gets past the door (not 401 or 403)?
        for c in 0..n_clients {
            let strategy = build(&shape, None, &|_| Just(Value::Null).boxed(), pools).prop_map(move |v| (c, v));
            failures.extend(run_cases(&rt, &world, op, 1, strategy, &mut statuses));
        }
        let admitted: Vec<usize> = statuses.iter().filter(|(_, s)| ![401, 403].contains(s)).map(|(c, _)| *c).collect();
        // The extreme samples go to the anonymous client if it is let in and to the first
        // logged-in client that is (or any logged-in one), so that they reach the code behind
        // the door.
        let mut chosen: Vec<usize> = admitted.iter().copied().filter(|c| *c == 0).collect();
        chosen.push(admitted.iter().copied().find(|c| *c != 0).unwrap_or(1));
        sent += n_clients as u32;

        // Every input with every extreme sample of its kind, the rest ordinary.
        for target in &all {
            let node = node_at(&shape, target);
            for s in samples(node) {
                for &c in &chosen {
                    let at = |n: &Shape| sample(&s, n, pools);
                    let strategy = build(&shape, Some(target), &at, pools).prop_map(move |v| (c, v));
                    sent += 1;
                    if let Some(f) = run_cases(&rt, &world, op, 1, strategy, &mut statuses) {
                        failures.push(f);
                    }
                }
            }
        }

        // And random cases: any input, any extreme, any client.
        let cases = (random_per_input * (all.len() as u32 + 1)).clamp(8, 60);
        sent += cases;
        let strategy = (0..=all.len(), 0..n_clients).prop_flat_map(|(t, c)| {
            let input = build(&shape, all.get(t).map(Vec::as_slice), &|n| extreme(n, pools), pools);
            (Just(c), input)
        });
        failures.extend(run_cases(&rt, &world, op, cases, strategy, &mut statuses));
    }
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures in {} operations ({sent} cases):\n{}",
        failures.len(),
        ops.len(),
        failures.join("\n")
    );
}

/// The node at a target path.
fn node_at<'a>(shape: &'a Shape, path: &[usize]) -> &'a Shape {
    match (shape, path) {
        (_, []) => shape,
        (Shape::Object(fields), [i, rest @ ..]) => node_at(&fields[*i].shape, rest),
        (Shape::Array(elem), [_, rest @ ..]) => node_at(elem, rest),
        (Shape::OneOf(variants), [i, rest @ ..]) => node_at(&variants[*i], rest),
        (Shape::Leaf(_), _) => shape,
    }
}
