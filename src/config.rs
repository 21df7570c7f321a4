//! Layered settings: built-in defaults, then a TOML file, then environment variables.
//!
//! The file is `tenderhall.toml` in the working directory, or the one named by `--config`.
//! Environment variables are `TENDERHALL_` followed by the section and key joined by `__`,
//! for example `TENDERHALL_DATABASE__URL=postgres://...`. `docs/configuration.md` lists every
//! setting. Secrets (database passwords) are never logged: [`Settings::redacted`] is what the
//! server prints at start-up.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};
use std::{net::SocketAddr, path::PathBuf};

/// All settings of the platform.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where and how the server listens.
    pub server: ServerSettings,
    /// TLS termination and client-certificate login.
    pub tls: TlsSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Files kept by the platform: blobs and keys.
    pub storage: StorageSettings,
    /// Login and session rules.
    pub security: SecuritySettings,
    /// Tender rules.
    pub tenders: TenderSettings,
    /// Limits on uploaded PDFs.
    pub pdf: PdfSettings,
    /// The audit chain.
    pub audit: AuditSettings,
    /// Sealed bids.
    pub bids: BidSettings,
    /// The opening hall.
    pub opening: OpeningSettings,
    /// Live rooms (the opening hall's websocket).
    pub live: LiveSettings,
    /// The e-mall.
    pub mall: MallSettings,
    /// The job runner.
    pub jobs: JobSettings,
    /// The expert pool.
    pub experts: ExpertSettings,
    /// The random draw of evaluation committees.
    pub draw: DrawSettings,
    /// Evaluation criteria and the evaluation session.
    pub evaluation: EvaluationSettings,
    /// From the evaluation report to the contract: publicity, challenges, award.
    pub award: AwardSettings,
    /// Expert fees and their payment.
    pub fees: FeeSettings,
    /// Links to separately-run deployments (cross-site evaluation between platforms).
    pub federation: FederationSettings,
    /// Notices by e-mail.
    pub email: EmailSettings,
    /// Notices by SMS.
    pub sms: SmsSettings,
}

/// Notices by SMS through the centre's gateway (docs/notifications.md, "The SMS gateway
/// protocol"). Off while `endpoint` is empty (deliveries are written and wait).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsSettings {
    /// The gateway (`https://sms.example.gov.cn/v1/send`); empty: off.
    pub endpoint: String,
    /// The signature the gateway puts before each text (签名, `交易平台`).
    pub sign: String,
    /// Seconds to wait for the gateway (10).
    pub timeout_seconds: u64,
    /// The first retry's wait, in seconds, doubled at each failure (30).
    pub backoff_seconds: u64,
    /// The longest wait between attempts (3600).
    pub max_backoff_seconds: u64,
    /// Attempts before a delivery is kept as failed (6).
    pub max_attempts: i32,
    /// Quiet hours, China time: no SMS from this hour (22)...
    pub quiet_from_hour: u32,
    /// ...until this hour (8), except urgent kinds.
    pub quiet_until_hour: u32,
    /// The most SMS one number gets in an hour (5); more wait.
    pub cap_per_hour: u32,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            sign: "交易平台".into(),
            timeout_seconds: 10,
            backoff_seconds: 30,
            max_backoff_seconds: 3600,
            max_attempts: 6,
            quiet_from_hour: 22,
            quiet_until_hour: 8,
            cap_per_hour: 5,
        }
    }
}

/// How an e-mail reaches the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Implicit,
    /// A plain connection upgraded by STARTTLS, which must succeed (port 587).
    Starttls,
    /// No TLS at all: only for a server on the same machine or a test.
    None,
}

/// Notices by e-mail: the SMTP server, the sender, and the retries. Off while `host` is empty
/// (deliveries are written and wait until it is set).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server's host name (also the name its certificate must carry); empty: off.
    pub host: String,
    /// Its port (587).
    pub port: u16,
    /// `starttls` (default), `implicit` or `none`.
    pub security: SmtpSecurity,
    /// A CA certificate (PEM) the server's certificate may chain to, besides the public roots.
    pub ca: Option<PathBuf>,
    /// The login, if the server wants one.
    pub username: String,
    /// Its password.
    pub password: String,
    /// The sender (`交易平台 <noreply@example.gov.cn>`).
    pub from: String,
    /// The address that the mails' links start with (`https://tender.example.gov.cn`); empty:
    /// `server.public_url`.
    pub link_base: String,
    /// Seconds to wait for the server (10).
    pub timeout_seconds: u64,
    /// The first retry's wait, in seconds, doubled at each failure (30).
    pub backoff_seconds: u64,
    /// The longest wait between attempts (3600).
    pub max_backoff_seconds: u64,
    /// Attempts before a delivery is kept as failed (8).
    pub max_attempts: i32,
    /// How often the sender looks for due deliveries, in milliseconds (1000).
    pub poll_ms: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            ca: None,
            username: String::new(),
            password: String::new(),
            from: "Tenderhall <noreply@localhost>".into(),
            link_base: String::new(),
            timeout_seconds: 10,
            backoff_seconds: 30,
            max_backoff_seconds: 3600,
            max_attempts: 8,
            poll_ms: 1000,
        }
    }
}

/// Federation (区级合作): this deployment's name and site certificate, the federation CA, the
/// address its peers reach it at, and its peers, each with the certificate it must present.
/// Off while `site` is empty.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// This deployment's name in the federation (the name in its site certificate); empty: off.
    pub site: String,
    /// The name of the local site (场地) whose experts serve the peers' draws; empty: the first.
    pub expert_site: String,
    /// Where peers connect (`127.0.0.1:9443`); none: this process only dials out.
    pub listen: Option<SocketAddr>,
    /// This deployment's site certificate (PEM), issued by the federation CA.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM, PKCS#8).
    pub key: Option<PathBuf>,
    /// The federation CA's certificate (PEM).
    pub ca: Option<PathBuf>,
    /// The peers.
    pub peers: Vec<PeerSettings>,
    /// The first wait before dialling a peer again, in milliseconds, doubled up to `max_retry_ms` (200).
    pub retry_ms: u64,
    /// The longest wait between two attempts, in milliseconds (5000).
    pub max_retry_ms: u64,
    /// How often the link looks for messages to send, in milliseconds (500).
    pub poll_ms: u64,
    /// The largest frame a peer may send, in bytes (1 MiB).
    pub max_frame_bytes: usize,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            site: String::new(),
            expert_site: String::new(),
            listen: None,
            cert: None,
            key: None,
            ca: None,
            peers: Vec::new(),
            retry_ms: 200,
            max_retry_ms: 5000,
            poll_ms: 500,
            max_frame_bytes: 1 << 20,
        }
    }
}

/// A peer deployment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSettings {
    /// Its name in the federation (the name in its site certificate).
    pub name: String,
    /// Where it listens for peers: `host:port`.
    pub address: String,
    /// The site certificate it must present (PEM); any other is refused.
    pub certificate: PathBuf,
    /// As a guest of this peer, pay this deployment's experts the higher of their own site's
    /// rate and the peer's host site's rate (when the two centres have agreed so).
    #[serde(default)]
    pub higher_rate: bool,
}

impl FederationSettings {
    /// Whether this deployment takes part in a federation.
    pub fn enabled(&self) -> bool {
        !self.site.trim().is_empty()
    }
}

/// Expert fees (即评即走): the centre's payment endpoint, the retries, and the rate a site has
/// until the centre sets its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeSettings {
    /// The payment endpoint (`https://…`); empty: instructions wait until it is set.
    pub endpoint: String,
    /// Seconds to wait for an answer (10).
    pub timeout_seconds: u64,
    /// The first retry's wait, in seconds, doubled at each failure (5).
    pub backoff_seconds: u64,
    /// The longest wait between attempts (600).
    pub max_backoff_seconds: u64,
    /// How often the payer looks for due instructions, in milliseconds (1000).
    pub poll_ms: u64,
    /// Default rate: the first hours' fee in 元 (600).
    pub base_yuan: i64,
    /// ... the hours it covers (3).
    pub base_hours: i32,
    /// ... each further hour begun, in 元 (100).
    pub hourly_yuan: i64,
    /// ... at most a day, in 元 (1000).
    pub daily_cap_yuan: i64,
    /// ... an expert who came and had to withdraw, in 元 (200).
    pub withdrawn_yuan: i64,
    /// ... the factor on a day off (2).
    pub holiday_factor: i32,
}

impl Default for FeeSettings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            timeout_seconds: 10,
            backoff_seconds: 5,
            max_backoff_seconds: 600,
            poll_ms: 1000,
            base_yuan: 600,
            base_hours: 3,
            hourly_yuan: 100,
            daily_cap_yuan: 1000,
            withdrawn_yuan: 200,
            holiday_factor: 2,
        }
    }
}

impl FeeSettings {
    /// The rate of a site without its own table.
    pub fn default_rate(&self) -> crate::fees::Rate {
        let y = |v: i64| crate::money::Money::from_fen(v.saturating_mul(100));
        crate::fees::Rate {
            base: y(self.base_yuan),
            base_hours: self.base_hours,
            hourly: y(self.hourly_yuan),
            daily_cap: y(self.daily_cap_yuan),
            withdrawn: y(self.withdrawn_yuan),
            holiday_factor: self.holiday_factor,
        }
    }
}

/// The periods from the evaluation report to the contract (政府采购法实施条例, 财政部令第87号 and
/// 第94号, 招标投标法实施条例 art. 54). Working days are counted on the centre's calendar.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AwardSettings {
    /// The candidates are published within this many days of the report (3); later is flagged.
    pub publish_within_days: u32,
    /// Works (招标投标法): the candidates are published for this many days (3).
    pub publicity_days: u32,
    /// Goods and services (政府采购法): the result is announced for this many working days (1).
    pub announcement_working_days: u32,
    /// Goods and services: a challenge within this many working days of the publication (7).
    /// Works: objections within the publicity.
    pub challenge_working_days: u32,
    /// The agency answers a challenge within this many working days (7).
    pub answer_working_days: u32,
    /// The challenger may complain within this many working days of the answer (15).
    pub complaint_working_days: u32,
    /// The procuring unit decides within this many working days of the publicity's end (5);
    /// then the first candidate is taken.
    pub decide_working_days: u32,
    /// The contract is signed within this many days of the award notice (30).
    pub contract_days: u32,
    /// Reminders go out this many hours before a deadline (24).
    pub reminder_hours: u32,
    /// Longest challenge, answer, complaint or reason, in characters (5000).
    pub max_text_chars: usize,
    /// When not 0, the publicity lasts this many minutes instead of the rule's days: for
    /// demonstrations and training only (the demo sets 3). 0 in production.
    pub publicity_minutes: u32,
}

impl Default for AwardSettings {
    fn default() -> Self {
        Self {
            publish_within_days: 3,
            publicity_days: 3,
            announcement_working_days: 1,
            challenge_working_days: 7,
            answer_working_days: 7,
            complaint_working_days: 15,
            decide_working_days: 5,
            contract_days: 30,
            reminder_hours: 24,
            max_text_chars: 5000,
            publicity_minutes: 0,
        }
    }
}

/// The rules of evaluation criteria (财政部令第87号, 财库〔2022〕19号) and of the evaluation
/// session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationSettings {
    /// Least price weight of goods, in points of 100 (30).
    pub goods_min_price_weight: i64,
    /// Least price weight of services (10).
    pub services_min_price_weight: i64,
    /// Least price weight of works (10).
    pub works_min_price_weight: i64,
    /// Small and micro enterprise deduction of goods and services, least per cent (10).
    pub sme_min_percent: u32,
    /// ... and most (20).
    pub sme_max_percent: u32,
    /// The deduction of works, least per cent (3).
    pub works_sme_min_percent: u32,
    /// ... and most (5).
    pub works_sme_max_percent: u32,
    /// 清标: a price at least this many per cent below the mean of the others is abnormally
    /// low (40).
    pub abnormal_low_percent: u32,
    /// A subjective score further than this many per cent of the item's maximum from the mean
    /// of the other experts needs a written reason (30).
    pub subjective_deviation_percent: u32,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        Self {
            goods_min_price_weight: 30,
            services_min_price_weight: 10,
            works_min_price_weight: 10,
            sme_min_percent: 10,
            sme_max_percent: 20,
            works_sme_min_percent: 3,
            works_sme_max_percent: 5,
            abnormal_low_percent: 40,
            subjective_deviation_percent: 30,
        }
    }
}

/// The expert pool: the bounds of its CSV import.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpertSettings {
    /// Largest CSV file the import takes, in bytes.
    pub import_max_bytes: usize,
    /// Most rows (experts) a CSV file may hold.
    pub import_max_rows: usize,
    /// An expert whose mean rating (marks 1 to 5) falls under this many tenths is suspended
    /// from draws until the centre reactivates it (30: a mean under 3.0).
    pub rating_threshold_tenths: u32,
    /// ... once it has at least this many ratings (1).
    pub rating_min_count: u32,
}

impl Default for ExpertSettings {
    fn default() -> Self {
        Self {
            import_max_bytes: 2 * 1024 * 1024,
            import_max_rows: 2_000,
            rating_threshold_tenths: 30,
            rating_min_count: 1,
        }
    }
}

/// The random draw of evaluation committees (专家抽取) and its avoidance rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrawSettings {
    /// The smallest committee (an odd number; 财政部令第87号 art. 45: 5).
    pub min_committee: u32,
    /// The smallest committee when a lot's budget reaches `large_budget_yuan` (7).
    pub large_committee: u32,
    /// The budget, in 元, from which the larger committee is needed (10,000,000).
    pub large_budget_yuan: i64,
    /// Employments this many years back count for avoidance (3).
    pub employment_years: u32,
    /// An expert sits at most this many times for one procuring unit within the window (2).
    pub max_per_unit: u32,
    /// The window, in days (90).
    pub unit_window_days: u32,
    /// Minutes an invited expert has to confirm or decline (30).
    pub answer_minutes: u32,
    /// Groups in one request (10).
    pub max_groups: u32,
    /// Experts one group may ask for (25).
    pub max_group_count: u32,
    /// Reserves per group (10).
    pub max_reserve: u32,
}

impl Default for DrawSettings {
    fn default() -> Self {
        Self {
            min_committee: 5,
            large_committee: 7,
            large_budget_yuan: 10_000_000,
            employment_years: 3,
            max_per_unit: 2,
            unit_window_days: 90,
            answer_minutes: 30,
            max_groups: 10,
            max_group_count: 25,
            max_reserve: 10,
        }
    }
}

/// The job runner: timed work (openings at the deadline, windows closing, quotations closing,
/// audit checkpoints).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Whether this process runs jobs in the background. Several processes may share a
    /// database and all run jobs: each job runs once.
    pub run: bool,
    /// How often to look for due jobs, in milliseconds.
    pub poll_ms: u64,
    /// Jobs claimed at a time.
    pub batch: u64,
    /// How long a runner holds a claimed job before another may take it, in seconds.
    pub lease_seconds: i64,
    /// Attempts before a job is kept as failed.
    pub max_attempts: i32,
    /// Wait before the first retry, in seconds; doubled at each further attempt.
    pub backoff_seconds: i64,
    /// Minutes between signed audit checkpoints.
    pub checkpoint_minutes: i64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            run: true,
            poll_ms: 1000,
            batch: 20,
            lease_seconds: 300,
            max_attempts: 5,
            backoff_seconds: 5,
            checkpoint_minutes: 10,
        }
    }
}

/// The e-mall: purchase thresholds, quotations and price monitoring.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MallSettings {
    /// Largest order, in 元, that may be bought directly (直购); above it, a quotation (竞价).
    pub direct_purchase_limit_yuan: i64,
    /// Largest purchase, in 元, the e-mall handles at all (小额采购上限); above it, a tender.
    pub small_purchase_ceiling_yuan: i64,
    /// Least number of compliant quotes for a quotation to succeed.
    pub min_quotes: i32,
    /// Shortest and longest quotation window, in hours.
    pub min_quotation_hours: i64,
    /// Longest quotation window, in hours.
    pub max_quotation_hours: i64,
    /// A price raised by more than this share (per cent) of the previous price is flagged.
    pub price_raise_flag_percent: i64,
}

impl Default for MallSettings {
    fn default() -> Self {
        Self {
            direct_purchase_limit_yuan: 50_000,
            small_purchase_ceiling_yuan: 1_000_000,
            min_quotes: 3,
            min_quotation_hours: 1,
            max_quotation_hours: 72,
            price_raise_flag_percent: 10,
        }
    }
}

/// The opening hall.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpeningSettings {
    /// Minutes of the sign-in window (签到时间) from the hall's opening; when it ends the
    /// decryption starts if the host has not started it. 0: no window.
    pub sign_in_minutes: i32,
    /// Minutes of the decryption window (解密时间).
    pub decrypt_minutes: i32,
    /// Minutes of the objection window after the reading (异议时间).
    pub objection_minutes: i32,
    /// Minutes of the confirmation window (确认时间); when it ends the opening closes, listing who
    /// did not confirm. 0: no window.
    pub confirm_minutes: i32,
}

impl Default for OpeningSettings {
    fn default() -> Self {
        Self { sign_in_minutes: 15, decrypt_minutes: 30, objection_minutes: 10, confirm_minutes: 30 }
    }
}

/// Live rooms: their websockets and the commands participants send.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// Seconds between a connection's checks that its session is still valid. A session ended
    /// in this process (or, on PostgreSQL, in any process) closes its connections at once; this
    /// bounds how long one ended elsewhere, or expired, keeps them open.
    pub session_check_seconds: u64,
    /// Commands one participant may send to one room at once (the bucket's size).
    pub command_burst: u32,
    /// Commands one participant may send to one room per minute in the long run (the rate at
    /// which the bucket refills). Each command costs what its room kind says (1; in the opening
    /// hall an objection or a note costs 10).
    pub commands_per_minute: u32,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self { session_check_seconds: 30, command_burst: 60, commands_per_minute: 60 }
    }
}

/// Sealed bids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BidSettings {
    /// Largest envelope accepted, in bytes.
    pub max_envelope_bytes: u64,
}

impl Default for BidSettings {
    fn default() -> Self {
        Self { max_envelope_bytes: 2 << 30 }
    }
}

/// Where and how the server listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Log as JSON lines instead of human-readable text.
    pub json_logs: bool,
    /// The address people reach the platform at (`https://tender.example.gov.cn`): scheme,
    /// host and port, no path. Websocket handshakes from browsers must come from this origin;
    /// when it is `https://`, cookies are `Secure` and `__Host-` prefixed even if TLS is
    /// terminated in front of this server. Without it, the origin must name the request's own
    /// host.
    pub public_url: Option<String>,
    /// Reverse proxies in front of this server (addresses or networks, `10.0.0.0/8`): from
    /// them, and only them, the client's address is read from `X-Forwarded-For` (for the login
    /// throttle and the logs). Empty: the connection's peer is the client.
    pub trusted_proxies: Vec<String>,
    /// How long a public page, as anonymous visitors see it, may be answered from memory
    /// (`web::public_pages`), in milliseconds; 0 turns the cache off. A change made by this
    /// process shows at once; one made by another process within this time.
    pub public_page_cache_ms: u64,
}

/// TLS termination.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain of the server. TLS is on when this and `key` are set.
    pub cert: Option<PathBuf>,
    /// PEM private key of the server.
    pub key: Option<PathBuf>,
    /// PEM certificate of the CA whose client certificates may be used to log in.
    /// When set, the server asks for (but does not require) a client certificate.
    pub client_ca: Option<PathBuf>,
}

/// The database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`.
    pub url: String,
    /// Connection pool size.
    pub max_connections: u32,
}

/// Files kept by the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// Directory of the blob store (uploaded documents).
    pub blob_dir: PathBuf,
    /// Directory of the platform's keys (created with mode 0700; keys with 0600).
    pub key_dir: PathBuf,
    /// Directory of the catalogue's search index. It can be deleted at any time: the server
    /// rebuilds it from the database.
    pub index_dir: PathBuf,
}

/// Login and session rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// How long a session lasts, in hours.
    pub session_hours: i64,
    /// Failed logins for one user name within the window before logins are refused.
    pub max_failed_logins: u64,
    /// Failed logins from one address within the window before logins are refused.
    pub max_failed_logins_per_addr: u64,
    /// The window for counting failed logins, in minutes.
    pub failed_login_window_minutes: i64,
    /// Staff (every role but suppliers and experts) must give a login code sent by SMS after
    /// the password. Any user may turn the code on for itself.
    pub staff_login_codes: bool,
    /// How long a login code holds, in minutes.
    pub login_code_minutes: i64,
    /// Wrong codes before a code is spent (each one also counts as a failed login).
    pub login_code_tries: i32,
}

/// Tender rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenderSettings {
    /// A substantive amendment must come at least this many days before the bid deadline.
    pub amendment_min_days: i64,
    /// Least number of days between publication and the bid deadline.
    pub min_bidding_days: i64,
    /// Default number of days before the deadline at which questions close.
    pub question_cutoff_days: i64,
    /// Default least number of valid bids at the opening.
    pub min_valid_bids: i32,
    /// Largest bid deposit (投标保证金), in per cent of the tender's budget: the regulations of
    /// government procurement cap it at 2 %.
    pub deposit_max_percent: i64,
}

/// Limits on uploaded PDFs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdfSettings {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Most pages accepted.
    pub max_pages: usize,
    /// Most indirect objects accepted.
    pub max_objects: usize,
    /// Longest time spent parsing one file, in milliseconds.
    pub parse_timeout_ms: u64,
}

/// The audit chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// A signed checkpoint is written after every this many records.
    pub checkpoint_every: i64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            json_logs: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            public_page_cache_ms: 1_000,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: "sqlite://data/tenderhall.db?mode=rwc".into(), max_connections: 8 }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self { blob_dir: "data/blobs".into(), key_dir: "data/keys".into(), index_dir: "data/index".into() }
    }
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            session_hours: 12,
            max_failed_logins: 5,
            max_failed_logins_per_addr: 30,
            failed_login_window_minutes: 15,
            staff_login_codes: false,
            login_code_minutes: 5,
            login_code_tries: 5,
        }
    }
}

impl Default for TenderSettings {
    fn default() -> Self {
        Self {
            amendment_min_days: 15,
            min_bidding_days: 20,
            question_cutoff_days: 10,
            min_valid_bids: 3,
            deposit_max_percent: 2,
        }
    }
}

impl Default for PdfSettings {
    fn default() -> Self {
        Self { max_bytes: 50 * 1024 * 1024, max_pages: 3000, max_objects: 500_000, parse_timeout_ms: 10_000 }
    }
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { checkpoint_every: 50 }
    }
}

impl Settings {
    /// Loads defaults, then `file` (or `tenderhall.toml` if present), then the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        let defaults = Settings::default();
        // The sections are the settings' own: every section can be set from the environment.
        let sections: Vec<String> = match serde_json::to_value(&defaults) {
            Ok(serde_json::Value::Object(o)) => o.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let mut fig = Figment::from(Serialized::defaults(defaults));
        match file {
            Some(f) => fig = fig.merge(Toml::file_exact(f)),
            None if std::path::Path::new("tenderhall.toml").exists() => {
                fig = fig.merge(Toml::file_exact("tenderhall.toml"))
            }
            None => {}
        }
        // Only `TENDERHALL_<SECTION>__<KEY>` variables are settings; others with the same prefix
        // (`TENDERHALL_CONFIG`, test variables) belong to other tools.
        fig = fig.merge(Env::prefixed("TENDERHALL_").split("__").filter(move |k| {
            let k = k.as_str().to_ascii_lowercase();
            sections.iter().any(|s| k.starts_with(&format!("{s}.")) || k.starts_with(&format!("{s}__")))
        }));
        fig.extract().map_err(Box::new)
    }

    /// Whether the server terminates TLS itself.
    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some() && self.tls.key.is_some()
    }

    /// The origin of `server.public_url` (`https://host[:port]`, lower case, without a default
    /// port), or why it is not one.
    pub fn public_origin(&self) -> Result<Option<String>, String> {
        let Some(url) = self.server.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let bad = || format!("server.public_url {url:?} is not scheme://host[:port] (http or https, no path)");
        let url = url.strip_suffix('/').unwrap_or(url);
        let origin = crate::web::origin::Origin::parse(url).ok_or_else(bad)?;
        Ok(Some(origin.to_string()))
    }

    /// Whether cookies are `Secure` with the `__Host-` prefix: the server speaks TLS itself, or
    /// its public address is `https://` (TLS terminated in front of it).
    pub fn secure_cookies(&self) -> bool {
        self.tls_enabled()
            || self.server.public_url.as_deref().is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
    }

    /// The settings with secrets removed, for logging.
    pub fn redacted(&self) -> Settings {
        let mut s = self.clone();
        s.database.url = redact_url(&s.database.url);
        s
    }
}

/// Replaces the password in a URL with `***`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((cred, host)) = rest.split_once('@')
    {
        let user = cred.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[tenders]\namendment_min_days = 7\n[database]\nurl = \"sqlite://f.db\"\n")?;
            jail.set_env("TENDERHALL_DATABASE__URL", "sqlite://env.db");
            jail.set_env("TENDERHALL_CONFIG", "ignored.toml");
            jail.set_env("TENDERHALL_TEST_DATABASE_URL", "postgres://ignored");
            let s = Settings::load(Some(std::path::Path::new("t.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(s.tenders.amendment_min_days, 7);
            assert_eq!(s.database.url, "sqlite://env.db");
            assert_eq!(s.tenders.min_bidding_days, 20);
            Ok(())
        });
    }

    #[test]
    fn the_sections_added_last_are_read_from_the_environment_too() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TENDERHALL_FEES__ENDPOINT", "http://127.0.0.1:9/pay");
            jail.set_env("TENDERHALL_FEDERATION__POLL_MS", "123");
            jail.set_env("TENDERHALL_EVALUATION__SME_MIN_PERCENT", "7");
            let s = Settings::load(None).map_err(|e| e.to_string())?;
            assert_eq!(s.fees.endpoint, "http://127.0.0.1:9/pay");
            assert_eq!(s.federation.poll_ms, 123);
            assert_eq!(s.evaluation.sme_min_percent, 7);
            Ok(())
        });
    }

    #[test]
    fn the_public_address_is_an_origin_and_makes_cookies_secure_when_https() {
        let mut s = Settings::default();
        assert_eq!(s.public_origin(), Ok(None));
        assert!(!s.secure_cookies());
        s.server.public_url = Some("HTTPS://Tender.Example.gov.cn:443/".into());
        assert_eq!(s.public_origin().ok().flatten().as_deref(), Some("https://tender.example.gov.cn"));
        assert!(s.secure_cookies());
        s.server.public_url = Some("http://10.0.0.5:8080".into());
        assert!(!s.secure_cookies(), "plain HTTP");
        for bad in ["tender.example", "https://tender.example/hall", "ftp://tender.example"] {
            s.server.public_url = Some(bad.into());
            assert!(s.public_origin().is_err(), "{bad}");
        }
        s.server.public_url = None;
        s.tls.cert = Some("c.pem".into());
        s.tls.key = Some("k.pem".into());
        assert!(s.secure_cookies(), "TLS in this server");
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "[tenders]\namendmnt_min_days = 7\n")?;
            assert!(Settings::load(Some(std::path::Path::new("t.toml"))).is_err());
            Ok(())
        });
    }
}
