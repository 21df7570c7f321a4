//! The e-mail of a notice, and the SMTP transport that sends it.
//!
//! A mail is plain text and HTML (multipart/alternative) in the reader's language, UTF-8, with
//! its subject and names encoded by RFC 2047 where they are not ASCII (lettre does this), a
//! `Message-ID` made from the delivery's idempotency key, and the one-click unsubscribe headers
//! of RFC 2369 and RFC 8058.

use crate::{
    config::{EmailSettings, SmtpSecurity},
    error::{AppError, AppResult},
    web::i18n::{I18n, Lang},
};
use chrono::{DateTime, Utc};
use lettre::{
    AsyncSmtpTransport, Message, Tokio1Executor,
    message::{
        MultiPart,
        header::{Header, HeaderName, HeaderValue},
    },
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};

/// The longest subject, in characters; a longer notice is cut with an ellipsis.
pub const MAX_SUBJECT_CHARS: usize = 60;

/// What one mail says and where it goes.
#[derive(Debug, Clone)]
pub struct Mail<'a> {
    /// The reader's language.
    pub lang: Lang,
    /// The sender (`交易平台 <noreply@example.gov.cn>`).
    pub from: &'a str,
    /// The reader's address.
    pub to: &'a str,
    /// The notice, rendered.
    pub text: &'a str,
    /// Where to look, as a whole address.
    pub link: Option<String>,
    /// The one-click unsubscribe address.
    pub unsubscribe: String,
    /// `<key@domain>`.
    pub message_id: String,
    /// The `Date` header.
    pub sent_at: DateTime<Utc>,
}

/// `List-Unsubscribe` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().trim_start_matches('<').trim_end_matches('>').to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct OneClick;

impl Header for OneClick {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// The subject: the platform's name and the notice's first line, cut to [`MAX_SUBJECT_CHARS`].
pub fn subject(i18n: &I18n, lang: Lang, text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let cut: String = first.chars().take(MAX_SUBJECT_CHARS).collect();
    let cut = if first.chars().count() > MAX_SUBJECT_CHARS { format!("{cut}…") } else { cut };
    format!("{} {cut}", i18n.text(lang, "mail.prefix"))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Mail<'_> {
    /// The plain text and the HTML of the mail.
    pub fn bodies(&self, i18n: &I18n) -> (String, String) {
        let t = |k: &str| i18n.text(self.lang, k).to_string();
        let mut plain = format!("{}\n\n{}\n", t("mail.greeting"), self.text);
        let mut html = format!(
            "<!doctype html><html lang=\"{}\"><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p>",
            self.lang.code(),
            escape(&t("mail.greeting")),
            escape(self.text).replace('\n', "<br>")
        );
        if let Some(l) = &self.link {
            plain.push_str(&format!("\n{} {l}\n", t("mail.open")));
            html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape(l), escape(&t("mail.open"))));
        }
        plain.push_str(&format!("\n--\n{}\n{} {}\n", t("mail.footer"), t("mail.unsubscribe"), self.unsubscribe));
        html.push_str(&format!(
            "<hr><p style=\"color:#666;font-size:small\">{}<br><a href=\"{}\">{}</a></p></body></html>",
            escape(&t("mail.footer")),
            escape(&self.unsubscribe),
            escape(&t("mail.unsubscribe"))
        ));
        (plain, html)
    }

    /// The message. An address that does not read is an error (the delivery fails for good).
    pub fn build(&self, i18n: &I18n) -> AppResult<Message> {
        let bad = |what: &str, e: &dyn std::fmt::Display| AppError::rule("invalid_email", format!("{what}: {e}"));
        let from: lettre::message::Mailbox = self.from.parse().map_err(|e| bad("the sender", &e))?;
        let to: lettre::message::Mailbox = self.to.parse().map_err(|e| bad("the address", &e))?;
        let (plain, html) = self.bodies(i18n);
        Message::builder()
            .from(from)
            .to(to)
            .subject(subject(i18n, self.lang, self.text))
            .message_id(Some(self.message_id.clone()))
            .date(self.sent_at.into())
            .header(ListUnsubscribe(self.unsubscribe.clone()))
            .header(OneClick)
            .multipart(MultiPart::alternative_plain_html(plain, html))
            .map_err(|e| bad("the message", &e))
    }
}

/// The domain of the sender's address, for the `Message-ID` (`localhost` if it has none).
pub fn domain_of(from: &str) -> String {
    from.parse::<lettre::message::Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The SMTP transport of the settings: TLS from the start, STARTTLS required, or (for a server
/// on the same machine) none; the CA of `ca` trusted besides the public roots.
pub fn transport(s: &EmailSettings) -> AppResult<AsyncSmtpTransport<Tokio1Executor>> {
    let host = s.host.trim().to_string();
    let tls = || -> AppResult<TlsParameters> {
        let mut b = TlsParameters::builder(host.clone());
        if let Some(ca) = &s.ca {
            let pem = std::fs::read(ca).map_err(|e| AppError::internal(format!("email.ca {}: {e}", ca.display())))?;
            b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(AppError::internal)?);
        }
        b.build_rustls().map_err(AppError::internal)
    };
    let security = match s.security {
        SmtpSecurity::Implicit => Tls::Wrapper(tls()?),
        SmtpSecurity::Starttls => Tls::Required(tls()?),
        SmtpSecurity::None => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(s.port)
        .tls(security)
        .timeout(Some(std::time::Duration::from_secs(s.timeout_seconds.max(1))));
    if !s.username.is_empty() {
        b = b.credentials(Credentials::new(s.username.clone(), s.password.clone()));
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> I18n {
        I18n::load().expect("catalogues")
    }

    fn mail<'a>(lang: Lang, text: &'a str) -> Mail<'a> {
        Mail {
            lang,
            from: "交易平台 <noreply@example.gov.cn>",
            to: "张三 <zhang@example.com>",
            text,
            link: Some("https://t.example/tenders/1".into()),
            unsubscribe: "https://t.example/unsubscribe/abc?kind=bid_receipt".into(),
            message_id: "<k1@example.gov.cn>".into(),
            sent_at: DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        }
    }

    #[test]
    fn a_chinese_mail_has_encoded_headers_both_bodies_and_the_unsubscribe_headers() {
        let i18n = texts();
        let m = mail(Lang::Zh, "招标项目“办公设备采购”已发布澄清。");
        let raw = String::from_utf8(m.build(&i18n).expect("mail").formatted()).expect("utf-8");
        let head = raw.split("\r\n\r\n").next().expect("headers");
        assert!(head.is_ascii(), "every header is ASCII (RFC 2047): {head}");
        assert!(head.contains("Subject: =?utf-8?b?"), "{head}");
        assert!(head.contains("From: =?utf-8?b?"), "{head}");
        assert!(head.contains("List-Unsubscribe: <https://t.example/unsubscribe/abc?kind=bid_receipt>"), "{head}");
        assert!(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{head}");
        assert!(head.contains("Message-ID: <k1@example.gov.cn>"), "{head}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
    }

    #[test]
    fn the_bodies_are_in_the_readers_language_and_escape_the_notice() {
        let i18n = texts();
        let (plain, html) = mail(Lang::En, "Tender <b>x</b> & co").bodies(&i18n);
        assert!(plain.contains("Tender <b>x</b> & co"), "{plain}");
        assert!(html.contains("Tender &lt;b&gt;x&lt;/b&gt; &amp; co"), "{html}");
        assert!(plain.contains(i18n.text(Lang::En, "mail.unsubscribe")), "{plain}");
        let (zh, _) = mail(Lang::Zh, "x").bodies(&i18n);
        assert!(zh.contains(i18n.text(Lang::Zh, "mail.greeting")), "{zh}");
    }

    #[test]
    fn a_long_notice_makes_a_subject_cut_to_its_limit() {
        let i18n = texts();
        let long = "很".repeat(200);
        let s = subject(&i18n, Lang::Zh, &long);
        assert_eq!(s.chars().count(), i18n.text(Lang::Zh, "mail.prefix").chars().count() + 1 + MAX_SUBJECT_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(
            subject(&i18n, Lang::En, "short\nsecond line"),
            format!("{} short", i18n.text(Lang::En, "mail.prefix"))
        );
    }

    #[test]
    fn a_bad_address_is_refused_with_a_code() {
        let i18n = texts();
        let mut m = mail(Lang::Zh, "x");
        m.to = "not an address";
        assert_eq!(m.build(&i18n).expect_err("refused").code, "invalid_email");
        assert_eq!(domain_of("Tenderhall <noreply@t.example>"), "t.example");
        assert_eq!(domain_of("nonsense"), "localhost");
    }
}
