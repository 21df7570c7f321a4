//! Static files (CSS, JavaScript, icons), embedded in the binary so the server is one file.

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../frontend/static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/app.js")),
    ("bid.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/bid.js")),
    ("bidform.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/bidform.js")),
    ("envelope.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/envelope.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../frontend/static/favicon.svg")),
    ("hall.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/hall.js")),
    ("mybids.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/mybids.js")),
    ("draw.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/draw.js")),
    ("evaluation.js", "text/javascript; charset=utf-8", include_bytes!("../../frontend/static/evaluation.js")),
    // @noble/hashes (MIT, frontend/static/noble-hashes/README.md): SHA-256 that can be fed in
    // pieces, which WebCrypto cannot, for sealing large bids chunk by chunk.
    (
        "noble-hashes/sha2.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/sha2.js"),
    ),
    (
        "noble-hashes/_md.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/_md.js"),
    ),
    (
        "noble-hashes/_u64.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/_u64.js"),
    ),
    (
        "noble-hashes/utils.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../frontend/static/noble-hashes/utils.js"),
    ),
];

/// `GET /static/{file}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod served {
    use super::FILES;
    use std::path::{Path, PathBuf};

    /// Every file below `dir`.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("a directory").flatten() {
                let p = e.path();
                if p.is_dir() { stack.push(p) } else { out.push(p) }
            }
        }
        out
    }

    fn served(name: &str) -> bool {
        FILES.iter().any(|(n, _, _)| *n == name)
    }

    /// Every script, stylesheet and icon of `frontend/static` is served, and every `/static/…`
    /// a template names exists: a page whose script is missing would silently stop being live.
    #[test]
    fn every_static_file_is_served_and_every_reference_resolves() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/static");
        for p in files_under(&root) {
            if p.extension().is_some_and(|x| x == "js" || x == "css" || x == "svg") {
                let f = p.strip_prefix(&root).expect("under").to_string_lossy().replace('\\', "/");
                assert!(served(&f), "frontend/static/{f} is not served");
            }
        }
        let mut seen = 0;
        for p in files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/templates")) {
            let t = std::fs::read_to_string(&p).expect("template");
            for part in t.split("/static/").skip(1) {
                let name: String = part.chars().take_while(|c| !matches!(c, '"' | '\'' | '?' | ' ' | ')')).collect();
                assert!(served(&name), "{} names /static/{name}, which is not served", p.display());
                seen += 1;
            }
        }
        assert!(seen > 5, "the templates name their static files");
    }
}

#[cfg(test)]
mod tests {
    //! What the stylesheet makes of the top bar's links, by the cascade: the winning rule for each
    //! property, by specificity and then order, with `var()` resolved from `:root`.

    use std::collections::HashMap;

    const CSS: &str = include_str!("../../frontend/static/app.css");
    const BASE: &str = include_str!("../../frontend/templates/base.html");

    /// An element: its tag and classes.
    struct El(&'static str, &'static [&'static str]);

    struct Rule {
        selector: String,
        decls: Vec<(String, String)>,
    }

    /// The rules outside `@media` blocks, in order.
    fn rules() -> Vec<Rule> {
        let mut css = CSS.to_string();
        while let Some(a) = css.find("/*") {
            let b = css[a..].find("*/").map_or(css.len(), |b| a + b + 2);
            css.replace_range(a..b, "");
        }
        let mut out = Vec::new();
        let mut rest = css.as_str();
        while let Some(open) = rest.find('{') {
            let selector = rest[..open].trim().to_string();
            if selector.starts_with('@') {
                // Skip the block and everything nested in it.
                let mut depth = 0;
                let mut end = rest.len();
                for (i, c) in rest.char_indices().skip(open) {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &rest[end..];
                continue;
            }
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let decls = rest[open + 1..close]
                .split(';')
                .filter_map(|d| d.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_lowercase()))
                .collect();
            out.push(Rule { selector, decls });
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out
    }

    /// Tag and classes of a compound selector such as `a.btn`; `None` for ones this test does not
    /// read (pseudo-classes, attributes, ids), which never match.
    fn compound(s: &str) -> Option<(Option<&str>, Vec<&str>)> {
        if s.contains([':', '[', '#']) {
            return None;
        }
        let mut parts = s.split('.');
        let tag = parts.next().filter(|t| !t.is_empty() && *t != "*");
        Some((tag, parts.collect()))
    }

    fn matches(c: &(Option<&str>, Vec<&str>), el: &El) -> bool {
        c.0.is_none_or(|t| t == el.0) && c.1.iter().all(|k| el.1.contains(k))
    }

    /// The specificity of `selector` if it matches the last element of `chain` (descendant
    /// combinators only, which is all the stylesheet uses for these elements).
    fn specificity(selector: &str, chain: &[El]) -> Option<(usize, usize)> {
        let compounds: Vec<_> = selector.split_whitespace().map(compound).collect::<Option<_>>()?;
        let (last, ancestors) = compounds.split_last()?;
        let (el, up) = chain.split_last()?;
        if !matches(last, el) {
            return None;
        }
        let mut i = up.len();
        for c in ancestors.iter().rev() {
            i = up[..i].iter().rposition(|a| matches(c, a))?;
        }
        Some(compounds.iter().fold((0, 0), |(k, t), c| (k + c.1.len(), t + usize::from(c.0.is_some()))))
    }

    /// The value the cascade gives `property` on the last element of `chain`, if a rule sets it.
    fn winner(rules: &[Rule], chain: &[El], property: &str) -> Option<String> {
        let mut best: Option<((usize, usize), usize, String)> = None;
        for (order, r) in rules.iter().enumerate() {
            for sel in r.selector.split(',') {
                let Some(spec) = specificity(sel.trim(), chain) else { continue };
                for (k, v) in &r.decls {
                    let k = if k == "background-color" { "background" } else { k.as_str() };
                    if k == property && best.as_ref().is_none_or(|b| (spec, order) >= (b.0, b.1)) {
                        best = Some((spec, order, v.clone()));
                    }
                }
            }
        }
        best.map(|b| b.2)
    }

    fn colour(v: &str, vars: &HashMap<String, String>) -> String {
        let v = v.split_whitespace().next().unwrap_or("");
        let v = match v.strip_prefix("var(").and_then(|x| x.strip_suffix(')')) {
            Some(name) => vars.get(name).cloned().unwrap_or_default(),
            None => v.to_string(),
        };
        match v.strip_prefix('#') {
            Some(h) if h.len() == 3 => format!("#{}", h.chars().flat_map(|c| [c, c]).collect::<String>()),
            _ => v,
        }
    }

    /// The text colour and the colour behind the text of the last element of `chain`: colour is
    /// inherited, and a background that is not set shows the parent's.
    fn looks(chain: &[El]) -> (String, String) {
        let rules = rules();
        let root = rules.iter().find(|r| r.selector == ":root").expect(":root");
        let vars: HashMap<String, String> = root.decls.iter().cloned().collect();
        let up = |property: &str| {
            (1..=chain.len()).rev().find_map(|n| winner(&rules, &chain[..n], property)).unwrap_or_default()
        };
        let background =
            (1..=chain.len()).rev().find_map(|n| winner(&rules, &chain[..n], "background")).unwrap_or("#fff".into());
        (colour(&up("color"), &vars), colour(&background, &vars))
    }

    #[test]
    fn the_top_bar_links_and_login_button_can_be_read() {
        // The elements as base.html writes them.
        assert!(BASE.contains(r#"<header class="topbar">"#) && BASE.contains(r#"<div class="usermenu">"#));
        assert!(BASE.contains(r#"<a class="btn small" href="/login">"#));
        let bar =
            || vec![El("html", &[]), El("body", &[]), El("header", &["topbar"]), El("div", &["wrap", "topbar-inner"])];
        let in_menu = |el: El| {
            let mut chain = bar();
            chain.push(El("div", &["usermenu"]));
            chain.push(el);
            chain
        };
        for (what, chain) in [
            ("login button", in_menu(El("a", &["btn", "small"]))),
            ("register link", in_menu(El("a", &[]))),
            ("language link", in_menu(El("a", &["lang"]))),
            ("navigation link", {
                let mut chain = bar();
                chain.push(El("nav", &["mainnav"]));
                chain.push(El("a", &[]));
                chain
            }),
        ] {
            let (fg, bg) = looks(&chain);
            assert!(fg.starts_with('#') && bg.starts_with('#'), "{what}: {fg} on {bg}");
            assert_ne!(fg, bg, "{what}: text {fg} on {bg}");
        }
        // The login button stands out from the bar: its own background, not the bar's red.
        let (_, bg) = looks(&in_menu(El("a", &["btn", "small"])));
        let (_, bar_bg) = looks(&bar());
        assert_ne!(bg, bar_bg);
    }
}
