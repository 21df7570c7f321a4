//! The CSV import of experts: all rows or none (docs/experts.md gives the format).
//!
//! The file is UTF-8 (a byte order mark is allowed), at most `experts.import_max_bytes` bytes
//! and `experts.import_max_rows` rows, with a header row naming the columns. Every row is
//! checked before anything is stored; a file with any bad row is refused whole, answered with
//! each bad row's line number, column and reason. A good file is stored in one unit of work with
//! one audit record for the import.

use super::{
    Experts,
    model::{mask_id_number, parse_day},
    policy::require_manage,
    service::{self, ConflictInput, EmploymentInput, NewExpert, Person},
};
use crate::{
    accounts::model::Actor,
    audit::{Action, AuditEntry},
    entities::expert,
    error::{AppError, FieldError},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;

/// The columns a file must have.
pub const REQUIRED_COLUMNS: &[&str] = &["name", "id_number", "phone", "title", "site", "specialties"];
/// The columns a file may have besides.
pub const OPTIONAL_COLUMNS: &[&str] = &["employments", "unavailable", "conflicts"];

/// A bad row of a refused file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowProblem {
    /// Line of the file (the header is line 1).
    pub line: u64,
    /// The column, empty for the row as a whole.
    pub column: String,
    /// Why: `required`, `too_long`, `id_number_invalid`, `duplicate_id_number`, `phone_invalid`,
    /// `site_unknown`, `specialty_unknown`, `too_many`, `date_invalid`, `before_start`,
    /// `credit_code_invalid`, `employment_invalid`, `conflict_invalid`, `column_count`,
    /// `columns_missing`, `column_unknown`, `control_character`.
    pub code: String,
}

/// Why an import was refused: bad rows, or the file as a whole.
#[derive(Debug)]
pub enum ImportError {
    /// These rows (or the header) are bad; nothing was stored.
    Rows(Vec<RowProblem>),
    /// The file, the caller or the database refused.
    Refused(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Refused(e)
    }
}

impl From<sea_orm::DbErr> for ImportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ImportError::Refused(e.into())
    }
}

impl From<ImportError> for AppError {
    /// Bad rows as 422 `import_invalid` with a field error per problem named
    /// `line.<n>.<column>` (`line.<n>` for the row as a whole).
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Refused(e) => e,
            ImportError::Rows(rows) => {
                let n = rows.iter().map(|r| r.line).collect::<BTreeSet<_>>().len();
                let fields = rows
                    .iter()
                    .map(|r| {
                        let field = if r.column.is_empty() {
                            format!("line.{}", r.line)
                        } else {
                            format!("line.{}.{}", r.line, r.column)
                        };
                        FieldError::new(field, r.code.clone())
                    })
                    .collect();
                let mut err = AppError::rule(
                    "import_invalid",
                    format!("{n} lines of the file are refused; nothing was imported"),
                )
                .with_arg("lines", n);
                err.fields = fields;
                err
            }
        }
    }
}

/// Splits a multi-value cell at `;` (`；` also), dropping empty parts.
fn parts(cell: &str) -> Vec<&str> {
    cell.split([';', '；']).map(str::trim).filter(|s| !s.is_empty()).collect()
}

/// Checks a file and, if every row is good, stores it: the number of experts added.
pub async fn import_csv(state: &Experts, actor: &Actor, file_name: &str, data: &[u8]) -> Result<usize, ImportError> {
    require_manage(actor)?;
    let max_bytes = state.settings.import_max_bytes;
    if data.len() > max_bytes {
        return Err(AppError::too_large("import_too_large", format!("the file is larger than {max_bytes} bytes"))
            .with_arg("max", max_bytes)
            .into());
    }
    let data = data.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return Err(AppError::rule("encoding_invalid", "the file is not UTF-8 text (save it as CSV UTF-8)").into());
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(AppError::rule("csv_invalid", format!("the file is not CSV: {e}")).into()),
    };
    let mut problems = Vec::new();
    for c in REQUIRED_COLUMNS {
        if !headers.iter().any(|h| h == c) {
            problems.push(RowProblem { line: 1, column: (*c).into(), code: "columns_missing".into() });
        }
    }
    for h in &headers {
        if !REQUIRED_COLUMNS.contains(&h.as_str()) && !OPTIONAL_COLUMNS.contains(&h.as_str()) {
            problems.push(RowProblem { line: 1, column: h.clone(), code: "column_unknown".into() });
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Rows(problems));
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let sites: HashMap<String, crate::entities::site::Model> =
        crate::sites::service::all(&state.db).await?.into_iter().map(|s| (s.name.clone(), s)).collect();
    let max_rows = state.settings.import_max_rows;
    let mut rows: Vec<(u64, NewExpert)> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut count = 0usize;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(RowProblem { line, column: String::new(), code: "csv_invalid".into() });
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        count += 1;
        if count > max_rows {
            return Err(AppError::too_large("too_many_rows", format!("the file has more than {max_rows} rows"))
                .with_arg("max", max_rows)
                .into());
        }
        if record.len() != headers.len() {
            problems.push(RowProblem { line, column: String::new(), code: "column_count".into() });
            continue;
        }
        let cell = |name: &str| col(name).and_then(|i| record.get(i)).unwrap_or("");
        let before = problems.len();
        let mut bad = |column: &str, code: &str| {
            problems.push(RowProblem { line, column: column.into(), code: code.into() });
        };
        // The person's fields, checked as the form checks them, each error under its column.
        let mut fields = Vec::new();
        let codes: Vec<String> = parts(cell("specialties")).into_iter().map(str::to_string).collect();
        let person: Person = service::check_person(
            &mut fields,
            cell("name"),
            Some(cell("id_number")),
            false,
            cell("phone"),
            cell("title"),
            &codes,
        );
        for f in &fields {
            bad(&f.field, &f.code);
        }
        let site = sites.get(cell("site").trim());
        if site.is_none() {
            bad("site", if cell("site").trim().is_empty() { "required" } else { "site_unknown" });
        }
        let mut employments = Vec::new();
        for part in parts(cell("employments")) {
            let p: Vec<&str> = part.split('|').map(str::trim).collect();
            if p.len() != 4 {
                bad("employments", "employment_invalid");
                continue;
            }
            let input = EmploymentInput {
                employer: p[0].into(),
                credit_code: Some(p[1].into()),
                from: p[2].into(),
                until: Some(p[3].into()),
            };
            let mut fields = Vec::new();
            match service::check_employment(&mut fields, "", &input) {
                Some(e) => employments.push(e),
                None => {
                    for f in fields {
                        let code =
                            if f.code == "required" || f.code == "too_long" { "employment_invalid" } else { &f.code };
                        bad("employments", code);
                    }
                }
            }
        }
        let mut unavailable = BTreeSet::new();
        for part in parts(cell("unavailable")) {
            match parse_day(part) {
                Some(d) => {
                    unavailable.insert(d);
                }
                None => bad("unavailable", "date_invalid"),
            }
        }
        let mut conflicts = Vec::new();
        for part in parts(cell("conflicts")) {
            let p: Vec<&str> = part.split('|').map(str::trim).collect();
            if p.len() != 2 {
                bad("conflicts", "conflict_invalid");
                continue;
            }
            let mut fields = Vec::new();
            match service::check_conflict(
                &mut fields,
                "",
                &ConflictInput { credit_code: p[0].into(), org_name: p[1].into() },
            ) {
                Some(c) => conflicts.push(c),
                None => {
                    for f in fields {
                        let code =
                            if f.code == "credit_code_invalid" { "credit_code_invalid" } else { "conflict_invalid" };
                        bad("conflicts", code);
                    }
                }
            }
        }
        if let Some(id) = &person.id_number {
            if seen.contains_key(id) {
                bad("id_number", "duplicate_id_number");
            } else {
                seen.insert(id.clone(), line);
            }
        }
        if problems.len() == before
            && let Some(site) = site
        {
            rows.push((
                line,
                NewExpert {
                    person,
                    site: site.id,
                    employments,
                    unavailable: unavailable.into_iter().collect(),
                    conflicts,
                },
            ));
        }
    }
    if problems.is_empty() && count == 0 {
        return Err(AppError::rule("import_empty", "the file has no rows").into());
    }
    let mut uow = state.writer.begin().await?;
    // Against the pool, under the write lock: numbers already there are refused.
    let ids: Vec<String> = seen.keys().cloned().collect();
    for chunk in ids.chunks(500) {
        for e in expert::Entity::find().filter(expert::Column::IdNumber.is_in(chunk.to_vec())).all(&uow).await? {
            if let Some(line) = seen.get(&e.id_number) {
                problems.push(RowProblem {
                    line: *line,
                    column: "id_number".into(),
                    code: "duplicate_id_number".into(),
                });
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        problems.dedup();
        return Err(ImportError::Rows(problems));
    }
    let mut first = Vec::new();
    for (_, row) in &rows {
        let stored = service::insert(&uow, row).await?;
        if first.len() < 5 {
            first.push(
                json!({"id": stored.public_id, "name": stored.name, "id_number": mask_id_number(&stored.id_number)}),
            );
        }
    }
    let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, data));
    uow.record(
        &actor.audit(),
        AuditEntry::new(
            Action::ExpertImport,
            format!("experts-csv-{}", &digest[..16]),
            json!({"file": file_name.chars().take(200).collect::<String>(), "sha256": digest, "count": rows.len(), "first": first}),
        ),
    )
    .await?;
    uow.commit().await?;
    Ok(rows.len())
}
