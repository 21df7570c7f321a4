//! The `tenderhall` command line.

use crate::{
    app::AppState,
    audit,
    clock::{SharedClock, SystemClock},
    config::Settings,
    db, keys,
};
use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode, sync::Arc};

/// Tenderhall: public-resource trading and e-procurement.
#[derive(Debug, Parser)]
#[command(name = "tenderhall", version, about)]
pub struct Cli {
    /// Settings file (default: ./tenderhall.toml if present).
    #[arg(long, global = true, env = "TENDERHALL_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server from the configuration.
    Serve,
    /// Fill a local SQLite database with demonstration data (once) and serve it.
    Demo {
        /// Directory of the demo database, blobs and keys.
        #[arg(long, default_value = "data/demo")]
        data: PathBuf,
        /// Address to listen on (default: the `server.listen` setting, 127.0.0.1:8080 unless
        /// configured, e.g. with `TENDERHALL_SERVER__LISTEN`).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// A database to put the demo in instead of the SQLite file in `--data`, for example an
        /// empty PostgreSQL database (`postgres://user@host/db`); blobs, keys and the catalogue
        /// index stay in `--data`.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create a development CA, a server certificate and client certificates.
    Certs {
        /// Output directory.
        #[arg(long, default_value = "certs")]
        dir: PathBuf,
        /// Issue a client certificate for this user name (repeatable).
        #[arg(long = "client")]
        clients: Vec<String>,
        /// Issue a federation site certificate for this deployment name (repeatable), from the
        /// federation CA (`federation-ca.crt`, created if missing) instead of the development CA.
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Days a site certificate is valid.
        #[arg(long, default_value_t = 825)]
        days: i64,
    },
    /// Staff accounts: the first administrator, procuring units, agencies, supervisors, experts.
    Accounts {
        /// What to do.
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Bid receipts.
    Receipt {
        /// What to do.
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Draws of evaluation committees.
    Draw {
        /// What to do.
        #[command(subcommand)]
        command: DrawCommand,
    },
    /// The bidder's tool: key files, sealing, releasing the content key at the opening.
    Bidder {
        /// What to do.
        #[command(subcommand)]
        command: BidderCommand,
    },
    /// The audit chain.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// Account subcommands.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add a user (and its organisation if new). The password is read from the
    /// TENDERHALL_NEW_PASSWORD environment variable, or else from the first line of standard input.
    Add {
        /// Organisation name (created if it does not exist).
        #[arg(long)]
        org: String,
        /// Organisation kind: centre, procuring_unit, agency, expert_pool (suppliers register).
        #[arg(long)]
        kind: String,
        /// Enterprise size of a supplier: large, medium, small, micro.
        #[arg(long)]
        size: Option<String>,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Name shown.
        #[arg(long)]
        display_name: String,
        /// Role: platform_admin, procuring_staff, agency_staff, supplier, expert, supervisor.
        #[arg(long)]
        role: String,
    },
    /// Disable a user; their sessions end at once.
    Disable {
        /// Login name.
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// Login name.
        username: String,
    },
    /// Set a new password for a user (read like `add`'s); their sessions end at once.
    ResetPassword {
        /// Login name.
        username: String,
    },
    /// Set the mobile number a user's SMS (notices and login codes) go to; an empty number
    /// removes it. The way to give staff a number when the centre requires login codes.
    Phone {
        /// Login name.
        username: String,
        /// 11 digits, or "" to remove.
        number: String,
    },
}

/// Receipt subcommands.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt (its JSON, or the receipt PDF, which carries it) offline against the
    /// platform's public key; exit 1 if it is not valid.
    Verify {
        /// The receipt file.
        file: PathBuf,
        /// The platform's public key, hex (as published at /.well-known/tenderhall/platform-key).
        #[arg(long, conflicts_with = "key_dir")]
        public_key: Option<String>,
        /// Or a key directory holding it.
        #[arg(long)]
        key_dir: Option<PathBuf>,
    },
}

/// Draw subcommands.
#[derive(Debug, Subcommand)]
pub enum DrawCommand {
    /// Run a published draw again from its record (GET /api/v1/draws/{id}/record) and compare:
    /// the secret with its commitment, the digests, every expert drawn, every replacement and
    /// the committee; exit 1 if the record does not verify.
    Verify {
        /// The record file (JSON).
        file: PathBuf,
    },
}

/// Bidder subcommands. A protected key file's passphrase is read from TENDERHALL_KEY_PASSPHRASE.
#[derive(Debug, Subcommand)]
pub enum BidderCommand {
    /// Create a key file (bid key and signing key); prints the public key to register.
    Keygen {
        /// Where to write the key file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Seal a payload into an envelope and sign its SHA-256.
    Seal {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
        /// Tender id.
        #[arg(long)]
        tender: uuid::Uuid,
        /// Lot id.
        #[arg(long)]
        lot: uuid::Uuid,
        /// Bidder (organisation) id.
        #[arg(long)]
        bidder: uuid::Uuid,
        /// Bid id (from the reservation).
        #[arg(long)]
        bid: uuid::Uuid,
        /// The payload.
        #[arg(long = "in")]
        input: PathBuf,
        /// The envelope to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Submit a bid over HTTP: reserve it, seal the form and files into an envelope file, upload
    /// it (resumable: retried from where it stopped) and save the signed receipt. The password is
    /// read from TENDERHALL_PASSWORD, or else from the first line of standard input.
    Submit {
        /// How to reach the platform.
        #[command(flatten)]
        platform: PlatformArgs,
        /// The key file (its public key is registered if it is not yet).
        #[arg(long)]
        key: PathBuf,
        /// Tender id.
        #[arg(long)]
        tender: uuid::Uuid,
        /// Lot id (default: the tender's first lot).
        #[arg(long)]
        lot: Option<uuid::Uuid>,
        /// A bid-form value, `item=value` (repeat for each item; `total_price` is required).
        #[arg(long = "form", value_parser = parse_form_item)]
        form: Vec<(String, String)>,
        /// A file of the bid (repeat for each file).
        #[arg(long = "file")]
        files: Vec<PathBuf>,
        /// Where to write the envelope (default `bid-<bid id>.env`); kept so that
        /// `bidder upload` can resume it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Upload (or resume uploading) an envelope already sealed, and save the signed receipt.
    Upload {
        /// How to reach the platform.
        #[command(flatten)]
        platform: PlatformArgs,
        /// The key file that sealed it (signs its digest).
        #[arg(long)]
        key: PathBuf,
        /// The envelope.
        #[arg(long)]
        envelope: PathBuf,
    },
    /// Recover the content key of an envelope and print it, or, with `--server`, release it in
    /// the tender's opening hall (during the decryption window) and print what the hall answered.
    ReleaseKey {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
        /// The envelope.
        #[arg(long)]
        envelope: PathBuf,
        /// The platform's address: release the key there instead of printing it.
        #[arg(long, requires = "user")]
        server: Option<String>,
        /// The supplier user to log in as (with `--server`; password from TENDERHALL_PASSWORD).
        #[arg(long)]
        user: Option<String>,
        /// A CA certificate (PEM) to trust for the platform's TLS certificate.
        #[arg(long)]
        ca: Option<PathBuf>,
    },
}

/// How to reach the platform.
#[derive(Debug, clap::Args)]
pub struct PlatformArgs {
    /// The platform's address, e.g. `https://trade.example.gov.cn`.
    #[arg(long)]
    server: String,
    /// The supplier user to log in as.
    #[arg(long)]
    user: String,
    /// A CA certificate (PEM) to trust for the platform's TLS certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
}

fn parse_form_item(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("expected item=value, got {s:?}")),
    }
}

/// Audit subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record and signed checkpoint; exit 1 naming the first bad record.
    Verify {
        /// Directory holding the platform key (default: storage.key_dir).
        #[arg(long)]
        key_dir: Option<PathBuf>,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: settings: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.server.json_logs);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tantivy=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command, mut settings: Settings) -> Result<ExitCode, BoxError> {
    let clock: SharedClock = Arc::new(SystemClock);
    match command {
        Command::Serve => {
            let state = AppState::build(settings, clock).await?;
            serve(state).await?;
        }
        Command::Demo { data, listen, database_url } => {
            settings.database.url =
                database_url.unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data.join("tenderhall.db").display()));
            settings.storage.blob_dir = data.join("blobs");
            settings.storage.key_dir = data.join("keys");
            settings.storage.index_dir = data.join("index");
            if let Some(listen) = listen {
                settings.server.listen = listen;
            }
            // Short windows, so that the demo's opening can be watched from start to end.
            settings.opening.sign_in_minutes = 2;
            settings.opening.decrypt_minutes = 3;
            settings.opening.objection_minutes = 1;
            settings.opening.confirm_minutes = 2;
            // Every launch's show is evaluated by the same few experts for the same procuring
            // unit: the limit of evaluations per unit and window would leave none after two.
            settings.draw.max_per_unit = u32::MAX;
            // A publicity of minutes instead of working days, so that the award can be watched.
            settings.award.publicity_minutes = 3;
            // Without a configured payment endpoint, the demo's finance office pays the fees.
            let payee = if settings.fees.endpoint.trim().is_empty() {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                settings.fees.endpoint = format!("http://{}{}", listener.local_addr()?, crate::demo::payee::PATH);
                Some(listener)
            } else {
                None
            };
            let state = AppState::build(settings, clock).await?;
            if let Some(listener) = payee {
                crate::demo::payee::spawn(listener, state.key.public());
            }
            let created = crate::demo::seed(&state).await?;
            // Shows of earlier launches stopped before their end are played on, then this
            // launch's own.
            let earlier = crate::demo::opening::unfinished(&state, &data.join("opening")).await?;
            let show = crate::demo::opening::prepare(&state, &data.join("opening")).await?;
            print_demo_banner(&state, created);
            println!(
                "  Opening show: a tender's bid deadline is {} minutes from now; open it under 交易公告 and enter",
                crate::demo::opening::MINUTES_TO_DEADLINE
            );
            println!(
                "  the opening hall as agency, supervisor or supplier1 (supplier1's bid key file: {},",
                show.key_file.display()
            );
            println!("  passphrase {}). The host and three bidders are simulated.", crate::demo::PASSWORD);
            println!("  Evaluation show: when the opening closes, experts are drawn and the evaluation room opens;");
            println!(
                "  watch as supervisor or supervisor2, or take part as {} (the others are simulated).",
                crate::demo::evaluation::NEWCOMER
            );
            println!(
                "  Award show: when the report is signed, the candidates are published, one is challenged and the"
            );
            println!(
                "  challenge answered; after a 3-minute publicity award it as {} at the tender's 项目进程与结果 page.",
                crate::demo::award::NEWCOMER
            );
            println!();
            let mut evaluations = crate::demo::evaluation::unfinished(&state).await?;
            let mut shows = Vec::new();
            for show in earlier.into_iter().chain([show]) {
                evaluations.push(show.tender);
                shows.push(crate::demo::opening::spawn(state.clone(), show));
            }
            let mut awards = crate::demo::award::unfinished(&state).await?;
            for tender in evaluations {
                let show = crate::demo::evaluation::Show { tender, pace: std::time::Duration::from_secs(1) };
                shows.push(crate::demo::evaluation::spawn(state.clone(), show));
                if !awards.contains(&tender) {
                    awards.push(tender);
                }
            }
            for tender in awards {
                let show = crate::demo::award::Show { tender, pace: std::time::Duration::from_secs(1) };
                shows.push(crate::demo::award::spawn(state.clone(), show));
            }
            serve(state).await?;
        }
        Command::Migrate => {
            let conn = db::connect(&settings.database).await?;
            db::migrate(&conn).await?;
            println!("migrations applied to {}", crate::config::redact_url(&settings.database.url));
        }
        Command::Certs { dir, clients, sites, days } => {
            let issued = if sites.is_empty() {
                crate::certs::generate(&dir, &clients)?
            } else {
                crate::certs::federation(&dir, &sites, days)?
            };
            for f in issued.files {
                println!("wrote {}", f.display());
            }
            println!("private keys are mode 0600 and must never be committed (see certs/README.md)");
        }
        Command::Accounts { command } => return accounts(command, settings, clock).await,
        Command::Receipt { command: ReceiptCommand::Verify { file, public_key, key_dir } } => {
            let public = match public_key {
                Some(h) => keys::PublicKey::from_bytes(hex::decode(h.trim()).map_err(|e| format!("public key: {e}"))?),
                None => keys::PublicKey::load(&key_dir.unwrap_or_else(|| settings.storage.key_dir.clone()))?,
            };
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            // A receipt PDF carries the signed receipt as its attachment.
            let receipt = if bytes.starts_with(b"%PDF-") {
                crate::bids::receipt::Receipt::from_pdf(&bytes).ok_or_else(|| {
                    format!(
                        "{}: not a receipt: a PDF without an attached {}",
                        file.display(),
                        crate::bids::receipt::ATTACHED_JSON
                    )
                })?
            } else {
                serde_json::from_slice::<crate::bids::receipt::Receipt>(&bytes)
                    .map_err(|e| format!("{}: not a receipt: {e}", file.display()))?
            };
            if receipt.verify(&public) {
                println!(
                    "VALID: bid {} of bidder {} on tender {} lot {}, envelope sha256 {} ({} bytes), received {}, audit record #{}",
                    receipt.bid,
                    receipt.bidder,
                    receipt.tender,
                    receipt.lot,
                    receipt.envelope_sha256,
                    receipt.size,
                    crate::web::fmt_time(&receipt.received_at),
                    receipt.audit_seq
                );
            } else {
                println!("INVALID: the signature does not match this receipt and key {}", public.key_id());
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Draw { command: DrawCommand::Verify { file } } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let export: crate::draw::service::RecordExport =
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: not a draw record: {e}", file.display()))?;
            let report = crate::draw::service::verify_export(&export);
            if report.ok {
                println!(
                    "VALID: draw {} of tender {}: {} experts drawn, {} replacements, committee {}",
                    export.draw,
                    export.tender,
                    report.picks,
                    report.calls,
                    report.committee.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")
                );
            } else {
                println!("INVALID: {}", report.error.unwrap_or_default());
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Bidder { command } => return bidder(command).await,
        Command::Audit { command: AuditCommand::Verify { key_dir } } => {
            let dir = key_dir.unwrap_or_else(|| settings.storage.key_dir.clone());
            let public = keys::PublicKey::load(&dir)?;
            let conn = db::connect(&settings.database).await?;
            let report = audit::verify(&conn, &public).await?;
            println!(
                "audit chain: {} records, {} checkpoints, signed up to record {}, key {}",
                report.records,
                report.checkpoints,
                report.signed_upto,
                public.key_id()
            );
            if let Some(p) = report.first_bad() {
                println!("FAILED: first bad record is #{}: {}", p.seq, p.reason);
                for p in report.problems.iter().take(20) {
                    println!("  #{}: {}", p.seq, p.reason);
                }
                return Ok(ExitCode::FAILURE);
            }
            if report.last_seq > report.signed_upto {
                println!("note: records after #{} are not yet covered by a signed checkpoint", report.signed_upto);
            }
            println!("OK");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn accounts(command: AccountsCommand, settings: Settings, clock: SharedClock) -> Result<ExitCode, BoxError> {
    use crate::accounts::{
        model::Status,
        service::{self, UserRef},
    };
    /// The new password: from TENDERHALL_NEW_PASSWORD, or else the first line of standard input.
    fn new_password() -> Result<String, BoxError> {
        Ok(match std::env::var("TENDERHALL_NEW_PASSWORD") {
            Ok(p) => p,
            Err(_) => {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_string()
            }
        })
    }
    let state = AppState::build_for_command(settings, clock).await?;
    let actor = audit::AuditActor { user_id: None, org_id: None, label: "command line".into() };
    match command {
        AccountsCommand::Add { org, kind, size, username, display_name, role } => {
            let password = new_password()?;
            let staff = service::NewStaff {
                org: org.clone(),
                kind,
                size,
                username: username.clone(),
                display_name,
                role: role.clone(),
                password,
            };
            let id = service::add_account(&state.accounts, &actor, &staff, true).await?;
            println!("added {username} ({role}) to {org}: {id}");
        }
        AccountsCommand::Disable { username } => {
            service::set_user_status(&state.accounts, &actor, UserRef::Name(&username), Status::Disabled).await?;
            println!("disabled {username}");
        }
        AccountsCommand::Enable { username } => {
            service::set_user_status(&state.accounts, &actor, UserRef::Name(&username), Status::Active).await?;
            println!("enabled {username}");
        }
        AccountsCommand::ResetPassword { username } => {
            let password = new_password()?;
            service::reset_password(&state.accounts, &actor, UserRef::Name(&username), &password).await?;
            println!("set a new password for {username}; their sessions ended");
        }
        AccountsCommand::Phone { username, number } => {
            let mut uow = state.writer.begin().await?;
            crate::deliver::set_phone(&mut uow, &actor, &username, &number).await?;
            uow.commit().await?;
            match number.trim() {
                "" => println!("removed the mobile number of {username}"),
                n => println!("SMS of {username} go to {n}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn bidder(command: BidderCommand) -> Result<ExitCode, BoxError> {
    use crate::bidder::KeyFile;
    let pass = std::env::var("TENDERHALL_KEY_PASSPHRASE").ok();
    let load = |p: &PathBuf| -> Result<KeyFile, BoxError> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(KeyFile::from_json(&text, pass.as_deref())?)
    };
    match command {
        BidderCommand::Keygen { out } => {
            let k = KeyFile::generate()?;
            crate::keys::write_private(&out, k.to_json(pass.as_deref())?.as_bytes())
                .map_err(|e| format!("{}: {e}", out.display()))?;
            println!(
                "wrote {} ({})",
                out.display(),
                if pass.is_some() {
                    "protected by the passphrase"
                } else {
                    "NOT protected: set TENDERHALL_KEY_PASSPHRASE"
                }
            );
            println!(
                "register this public key: {}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &k.public_key)
            );
        }
        BidderCommand::Seal { key, tender, lot, bidder, bid, input, out } => {
            let k = load(&key)?;
            let id = crate::envelope::BidIdentity { tender, lot, bidder, bid };
            let reader =
                std::io::BufReader::new(std::fs::File::open(&input).map_err(|e| format!("{}: {e}", input.display()))?);
            let file = std::fs::File::create(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let (digest, sig) = k.seal(&id, reader, &mut writer)?;
            std::io::Write::flush(&mut writer)?;
            writer.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            println!("sha256 {}", hex::encode(digest));
            println!("signature {sig}");
        }
        BidderCommand::Submit { platform, key, tender, lot, form, files, out } => {
            let k = std::sync::Arc::new(load(&key)?);
            let client = connect(&platform).await?;
            client.register_key(&k.public_key).await?;
            let lot = match lot {
                Some(l) => l,
                None => *client.lots(tender).await?.first().ok_or("the tender has no lots")?,
            };
            let ticket = client.reserve(tender, lot).await?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("bid-{}.env", ticket.bid)));
            let payload = crate::envelope::payload::pack_files(form.into_iter().collect(), &files)?;
            let id = ticket.identity();
            let path = out.clone();
            let sealer = k.clone();
            let (_, signature) = tokio::task::spawn_blocking(move || -> Result<_, BoxError> {
                let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
                let sealed = sealer.seal(&id, payload, &mut writer)?;
                std::io::Write::flush(&mut writer)?;
                writer.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Ok(sealed)
            })
            .await??;
            println!("bid {}", ticket.bid);
            println!("envelope {}", out.display());
            upload_and_save(&client, &k, ticket.bid, &out, signature).await?;
        }
        BidderCommand::Upload { platform, key, envelope } => {
            let k = load(&key)?;
            let mut head = Vec::with_capacity(256);
            let f = std::fs::File::open(&envelope).map_err(|e| format!("{}: {e}", envelope.display()))?;
            std::io::Read::read_to_end(&mut std::io::Read::take(f, 256), &mut head)?;
            let header = crate::envelope::Header::parse(&head)?;
            let digest =
                crate::envelope::file_sha256(&envelope, None).map_err(|e| format!("{}: {e}", envelope.display()))?;
            let signature = k.sign_digest(&digest)?;
            let client = connect(&platform).await?;
            let state = client.upload_state(header.identity.bid).await?;
            if state.offset > 0 {
                println!("resuming at byte {}", state.offset);
            }
            upload_and_save(&client, &k, header.identity.bid, &envelope, signature).await?;
        }
        BidderCommand::ReleaseKey { key, envelope, server, user, ca } => {
            let k = load(&key)?;
            let f = std::fs::File::open(&envelope).map_err(|e| format!("{}: {e}", envelope.display()))?;
            let mut head = Vec::with_capacity(256);
            std::io::Read::read_to_end(&mut std::io::Read::take(f, 256), &mut head)?;
            let cek = k.content_key(&head)?;
            let (Some(server), Some(user)) = (server, user) else {
                println!("{}", hex::encode(cek.0));
                return Ok(ExitCode::SUCCESS);
            };
            let id = crate::envelope::Header::parse(&head)?.identity;
            let client = connect(&PlatformArgs { server, user, ca }).await?;
            let before = client.hall_events(id.tender, 0).await?.last().and_then(|e| e["seq"].as_i64()).unwrap_or(0);
            client
                .hall_command(
                    id.tender,
                    &serde_json::json!({"op": "release_key", "bid": id.bid, "key": hex::encode(cek.0)}),
                )
                .await?;
            for e in client.hall_events(id.tender, before).await? {
                if let Some(kind @ ("key_accepted" | "key_refused" | "bid_invalid")) = e["kind"].as_str() {
                    println!(
                        "{kind}: {} {}",
                        e["data"]["lot"].as_str().unwrap_or(""),
                        e["data"]["reason"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn connect(p: &PlatformArgs) -> Result<crate::bidder::client::PlatformClient, BoxError> {
    let ca = match &p.ca {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => None,
    };
    let password = match std::env::var("TENDERHALL_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    Ok(crate::bidder::client::PlatformClient::new(&p.server, ca.as_deref())?.login(&p.user, &password).await?)
}

/// Uploads an envelope with progress on standard error, and writes the receipt next to it.
async fn upload_and_save(
    client: &crate::bidder::client::PlatformClient,
    key: &crate::bidder::KeyFile,
    bid: uuid::Uuid,
    envelope: &std::path::Path,
    signature: String,
) -> Result<(), BoxError> {
    use std::sync::{Arc, atomic::AtomicU64};
    let size = std::fs::metadata(envelope)?.len();
    let progress = Arc::new(AtomicU64::new(0));
    let key_id = key.key_id();
    let shown = progress.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let done = shown.load(std::sync::atomic::Ordering::Relaxed);
            eprintln!("uploaded {} of {size} bytes ({}%)", done, done * 100 / size.max(1));
        }
    });
    let result = client.upload_envelope(bid, envelope, &key_id, &signature, 20, progress).await;
    ticker.abort();
    let receipt = result.map_err(|e| {
        format!(
            "{e}\nthe envelope is kept in {}; resume with `tenderhall bidder upload --envelope {}`",
            envelope.display(),
            envelope.display()
        )
    })?;
    let file = PathBuf::from(format!("receipt-{bid}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(&receipt)?)?;
    println!(
        "RECEIPTED: envelope sha256 {} ({} bytes), received {}, audit record #{}",
        receipt.envelope_sha256,
        receipt.size,
        crate::web::fmt_time(&receipt.received_at),
        receipt.audit_seq
    );
    println!("receipt {}", file.display());
    Ok(())
}

fn print_demo_banner(state: &AppState, created: bool) {
    let scheme = if state.settings.tls_enabled() { "https" } else { "http" };
    println!();
    println!("  Tenderhall demo {}", if created { "(new demo data created)" } else { "(existing demo data)" });
    println!("  Open {scheme}://{}/", state.settings.server.listen);
    println!("  Every demo account's password is {}", crate::demo::PASSWORD);
    for (user, what) in crate::demo::ACCOUNTS {
        println!("    {user:<12} {what}");
    }
    println!();
}

async fn serve(state: AppState) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(state.settings.server.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, tls = state.settings.tls_enabled(), settings = ?state.settings.redacted(), "listening");
    crate::server::serve(state, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
