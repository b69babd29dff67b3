//! HTML pages of survey templates: the list, the editor (dimensions and items as one form;
//! rows are added, removed and moved by submitting the form with a row button, so it works
//! without JavaScript and keeps every typed value; errors are shown next to their row) and the
//! read view with a preview of what the customer sees and the version history.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use domain::auth::Permission;
use domain::satisfaction::survey::{
    ItemKind, ItemRaw, SCALES, TemplateDraft, TemplateRaw, TemplateStatus, normalised_weights,
    parse_scale,
};
use domain::{DomainError, FieldErrors};
use serde::Deserialize;
use store::satisfaction::surveys::{Full, Item, ListFilter, TemplateRow};

use super::{seed, service};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Most rows the editor keeps (the rules refuse more; this bounds the work on a forged form).
const MAX_ROWS: usize = 200;

/// HTML routes of survey templates.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list).post(create))
        .route("/surveys/new", get(new))
        .route("/surveys/{id}", get(view).post(update))
        .route("/surveys/{id}/edit", get(edit))
        .route("/surveys/{id}/retire", post(retire))
        .route("/surveys/{id}/restore", post(restore))
}

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    /// "1": every version.
    pub all: Option<String>,
    /// "1": also retired templates.
    pub retired: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/survey_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<TemplateRow>,
    all: bool,
    retired: bool,
    can_edit: bool,
}

pub async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let all = q.all.as_deref() == Some("1");
    let retired = q.retired.as_deref() == Some("1");
    let items = service::list(
        &st,
        &ctx,
        ListFilter {
            all_versions: all,
            include_retired: retired,
        },
    )
    .await?;
    let s = Shell::load(&st, &ctx, &uri, "surveys.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        items,
        all,
        retired,
        can_edit: ctx.can(Permission::ManageSurveys),
        s,
    })
}

/// One item row of the editor, as typed.
#[derive(Debug, Clone, Default)]
pub struct ItemRow {
    pub kind: String,
    pub text: String,
    /// Index of the dimension row, or "".
    pub dimension: String,
    /// "" (the kind's default), "1-5", "1-7" or "0-10".
    pub scale: String,
    pub weight: String,
    pub required: bool,
}

impl ItemRow {
    fn blank() -> ItemRow {
        ItemRow {
            kind: ItemKind::Scale.as_str().into(),
            required: true,
            ..ItemRow::default()
        }
    }

    fn of(i: &Item, dims: &[i64]) -> ItemRow {
        ItemRow {
            kind: i.kind.clone(),
            text: i.text.clone(),
            dimension: i
                .dimension_id
                .and_then(|d| dims.iter().position(|x| *x == d))
                .map(|p| p.to_string())
                .unwrap_or_default(),
            scale: match (i.scale_min, i.scale_max) {
                (Some(a), Some(b)) => format!("{a}-{b}"),
                _ => String::new(),
            },
            weight: if i.kind == ItemKind::Scale.as_str() {
                fmt_weight(i.weight)
            } else {
                String::new()
            },
            required: i.required,
        }
    }
}

/// A weight as typed back into the form (no trailing zeros).
fn fmt_weight(w: f64) -> String {
    let s = format!("{w:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What the editor shows: the typed values.
#[derive(Debug, Clone, Default)]
pub struct EditorForm {
    pub id: i64,
    pub version: i64,
    pub version_no: i64,
    pub code: String,
    pub name: String,
    pub intro: String,
    pub dims: Vec<String>,
    pub items: Vec<ItemRow>,
}

impl EditorForm {
    fn of(f: &Full) -> EditorForm {
        let dim_ids: Vec<i64> = f.dimensions.iter().map(|d| d.id).collect();
        EditorForm {
            id: f.template.id,
            version: f.template.version,
            version_no: f.template.version_no,
            code: f.template.code.clone(),
            name: f.template.name.clone(),
            intro: f.template.intro.clone().unwrap_or_default(),
            dims: f.dimensions.iter().map(|d| d.name.clone()).collect(),
            items: f.items.iter().map(|i| ItemRow::of(i, &dim_ids)).collect(),
        }
    }

    fn of_raw(r: &TemplateRaw<'_>) -> EditorForm {
        EditorForm {
            code: r.code.into(),
            name: r.name.into(),
            intro: r.intro.unwrap_or_default().into(),
            dims: r.dimensions.iter().map(|d| d.to_string()).collect(),
            items: r
                .items
                .iter()
                .map(|i| ItemRow {
                    kind: i.kind.into(),
                    text: i.text.into(),
                    dimension: i.dimension.map(|d| d.to_string()).unwrap_or_default(),
                    scale: match (i.scale_min, i.scale_max) {
                        (Some(a), Some(b)) => format!("{a}-{b}"),
                        _ => String::new(),
                    },
                    weight: i.weight.map(fmt_weight).unwrap_or_default(),
                    required: i.required,
                })
                .collect(),
            ..EditorForm::default()
        }
    }

    /// The typed form (`id`, `version_no` from the record; everything else from the form).
    fn typed(f: &FormData, id: i64, version_no: i64) -> EditorForm {
        let idx = |prefix: &str, suffix: &str| -> Vec<usize> {
            let mut v: Vec<usize> = f
                .pairs()
                .iter()
                .filter_map(|(k, _)| {
                    k.strip_prefix(prefix)?
                        .strip_suffix(suffix)?
                        .parse::<usize>()
                        .ok()
                })
                .filter(|i| *i < MAX_ROWS)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let dim_idx = idx("dimensions[", "].name");
        let dims = dim_idx
            .iter()
            .map(|i| f.get(&format!("dimensions[{i}].name")).to_string())
            .collect();
        let items = idx("items[", "].text")
            .iter()
            .map(|i| {
                let g = |n: &str| f.get(&format!("items[{i}].{n}")).to_string();
                // the dimension select holds the submitted row index: map it to the row's place
                let dimension = g("dimension")
                    .parse::<usize>()
                    .ok()
                    .and_then(|d| dim_idx.iter().position(|x| *x == d))
                    .map(|p| p.to_string())
                    .unwrap_or_default();
                ItemRow {
                    kind: g("kind"),
                    text: g("text"),
                    dimension,
                    scale: g("scale"),
                    weight: g("weight"),
                    required: f.checked(&format!("items[{i}].required")),
                }
            })
            .collect();
        EditorForm {
            id,
            version: f.get("version").parse().unwrap_or(0),
            version_no,
            code: f.get("code").into(),
            name: f.get("name").into(),
            intro: f.get("intro").into(),
            dims,
            items,
        }
    }

    /// Removes dimension row `k`: its items lose their dimension, later rows move up.
    fn remove_dim(&mut self, k: usize) {
        if k >= self.dims.len() {
            return;
        }
        self.dims.remove(k);
        for it in &mut self.items {
            if let Ok(d) = it.dimension.parse::<usize>() {
                it.dimension = match d.cmp(&k) {
                    std::cmp::Ordering::Less => d.to_string(),
                    std::cmp::Ordering::Equal => String::new(),
                    std::cmp::Ordering::Greater => (d - 1).to_string(),
                };
            }
        }
    }

    /// Applies a row button (`add_dim`, `add_item`, `del_dim:N`, `del_item:N`, `up_item:N`,
    /// `down_item:N`); false for `save` (or anything else).
    fn apply(&mut self, op: &str) -> bool {
        let (name, arg) = match op.split_once(':') {
            Some((n, a)) => (n, a.parse::<usize>().ok()),
            None => (op, None),
        };
        match (name, arg) {
            ("add_dim", _) => {
                if self.dims.len() < MAX_ROWS {
                    self.dims.push(String::new());
                }
            }
            ("add_item", _) => {
                if self.items.len() < MAX_ROWS {
                    self.items.push(ItemRow::blank());
                }
            }
            ("del_dim", Some(k)) => self.remove_dim(k),
            ("del_item", Some(k)) if k < self.items.len() => {
                self.items.remove(k);
            }
            ("up_item", Some(k)) if k > 0 && k < self.items.len() => self.items.swap(k - 1, k),
            ("down_item", Some(k)) if k + 1 < self.items.len() => self.items.swap(k, k + 1),
            ("del_item" | "up_item" | "down_item", _) => {}
            _ => return false,
        }
        true
    }

    /// Drops rows left entirely blank (an added row nobody filled in).
    fn drop_blank(&mut self) {
        while let Some(k) = self.dims.iter().position(|d| d.trim().is_empty()) {
            self.remove_dim(k);
        }
        self.items
            .retain(|i| !(i.text.trim().is_empty() && i.weight.trim().is_empty()));
    }

    /// The draft the rules check; typed numbers that do not parse are field errors.
    fn draft(&self) -> Result<TemplateDraft, DomainError> {
        let mut errs = FieldErrors::default();
        let items = self
            .items
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let dimension = match r.dimension.trim() {
                    "" => None,
                    d => match d.parse::<usize>() {
                        Ok(d) => Some(d),
                        Err(_) => {
                            errs.add(&format!("items[{i}].dimension"), "survey_dimension", None);
                            None
                        }
                    },
                };
                let (scale_min, scale_max) = match r.scale.trim() {
                    "" => (None, None),
                    s => match parse_scale(s) {
                        Some((a, b)) => (Some(a), Some(b)),
                        None => {
                            errs.add(&format!("items[{i}].scale_max"), "survey_scale", None);
                            (None, None)
                        }
                    },
                };
                let weight = match r.weight.trim() {
                    "" => None,
                    w => match w.replace(['，', ','], ".").parse::<f64>() {
                        Ok(x) => Some(x),
                        Err(_) => {
                            errs.add(&format!("items[{i}].weight"), "survey_weight", None);
                            None
                        }
                    },
                };
                ItemRaw {
                    kind: &r.kind,
                    text: &r.text,
                    dimension,
                    scale_min,
                    scale_max,
                    weight,
                    required: r.required,
                }
            })
            .collect();
        TemplateDraft::parse(
            errs,
            TemplateRaw {
                code: &self.code,
                name: &self.name,
                intro: Some(&self.intro),
                dimensions: self.dims.iter().map(String::as_str).collect(),
                items,
            },
        )
    }
}

#[derive(askama::Template)]
#[template(path = "satisfaction/survey_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: EditorForm,
    errs: Errs,
    banner: String,
    /// Responses to the template being edited: saving then writes a new version.
    answers: i64,
    kinds: Vec<&'static str>,
    scales: Vec<String>,
}

impl FormPage {
    /// The message of field `f` of item row `i`, or "".
    fn ierr<I: std::fmt::Display>(&self, i: I, f: &str) -> &str {
        self.errs.msg(&format!("items[{i}].{f}"))
    }
    /// The message of dimension row `i`, or "".
    fn derr<I: std::fmt::Display>(&self, i: I) -> &str {
        self.errs.msg(&format!("dimensions[{i}].name"))
    }
    /// The scale row's message: on `scale_max` (or `scale_min`).
    fn serr<I: std::fmt::Display + Copy>(&self, i: I) -> &str {
        let m = self.ierr(i, "scale_max");
        if m.is_empty() {
            self.ierr(i, "scale_min")
        } else {
            m
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: EditorForm,
    errs: Errs,
    banner: String,
    answers: i64,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let title = if v.id == 0 {
        "surveys.new"
    } else {
        "surveys.edit"
    };
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            answers,
            kinds: ItemKind::ALL.iter().map(|k| k.as_str()).collect(),
            scales: SCALES.iter().map(|(a, b)| format!("{a}-{b}")).collect(),
        },
    )
}

/// Query of the new-template page.
#[derive(Debug, Deserialize, Default)]
pub struct NewQ {
    /// "default": start from the default template.
    pub from: Option<String>,
}

pub async fn new(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<NewQ>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let v = if q.from.as_deref() == Some("default") {
        let mut v = EditorForm::of_raw(&seed::raw());
        if service::code_exists(&st, &ctx, seed::CODE).await? {
            // the default's code is taken: the copy needs its own
            v.code = String::new();
        }
        v
    } else {
        EditorForm {
            dims: vec![String::new()],
            items: vec![ItemRow::blank()],
            ..EditorForm::default()
        }
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        0,
        StatusCode::OK,
    )
    .await
}

/// Responses to template `id` (its row among its versions).
fn answers_of(d: &service::Detail) -> i64 {
    d.versions
        .iter()
        .find(|r| r.id == d.full.template.id)
        .map(|r| r.answers)
        .unwrap_or(0)
}

pub async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let d = service::detail(&st, &ctx, id).await?;
    if d.full.template.status == TemplateStatus::Superseded.as_str() {
        return Err(AppError::Transition("survey_superseded"));
    }
    let answers = if d.has_answers {
        answers_of(&d).max(1)
    } else {
        0
    };
    form(
        &st,
        &ctx,
        &uri,
        EditorForm::of(&d.full),
        Errs::default(),
        String::new(),
        answers,
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let mut v = EditorForm::typed(&f, 0, 0);
    if v.apply(f.get("op")) {
        return form(
            &st,
            &ctx,
            &uri,
            v,
            Errs::default(),
            String::new(),
            0,
            StatusCode::OK,
        )
        .await;
    }
    v.drop_blank();
    let r = match v.draft() {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(t) => Ok(see_other(&format!("/surveys/{}?ok=created", t.template.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::of(&ctx.tr, &e),
                String::new(),
                0,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::ManageSurveys)?;
    let d = service::detail(&st, &ctx, id).await?;
    let answers = if d.has_answers {
        answers_of(&d).max(1)
    } else {
        0
    };
    let mut v = EditorForm::typed(&f, id, d.full.template.version_no);
    // the code never changes on edit
    v.code = d.full.template.code.clone();
    if v.apply(f.get("op")) {
        return form(
            &st,
            &ctx,
            &uri,
            v,
            Errs::default(),
            String::new(),
            answers,
            StatusCode::OK,
        )
        .await;
    }
    let version = f.version()?;
    v.drop_blank();
    let r = match v.draft() {
        Ok(dr) => service::save(&st, &ctx, id, version, dr).await,
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(s) if s.new_version => Ok(see_other(&format!(
            "/surveys/{}?ok=survey_new_version",
            s.id
        ))),
        Ok(s) => Ok(see_other(&format!("/surveys/{}?ok=saved", s.id))),
        Err(AppError::Invalid(e)) => {
            form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::of(&ctx.tr, &e),
                String::new(),
                answers,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(AppError::Stale) => {
            let cur = service::get(&st, &ctx, id).await?;
            v.version = cur.template.version;
            form(
                &st,
                &ctx,
                &uri,
                v,
                Errs::default(),
                ctx.tr.t("error.stale_form").into(),
                answers,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A question as the preview and the item table show it.
pub struct ViewItem {
    pub item: Item,
    pub dimension: String,
    /// True when it starts a new dimension in the preview.
    pub first_of_dimension: bool,
    /// The answer choices (scale_min ..= scale_max).
    pub choices: Vec<i64>,
    /// Normalised weight in percent (scale items).
    pub weight_percent: Option<f64>,
}

#[derive(askama::Template)]
#[template(path = "satisfaction/survey_view.html")]
struct ViewPage {
    s: Shell,
    tr: Tr,
    d: service::Detail,
    items: Vec<ViewItem>,
    answers: i64,
    /// The id of the version that replaced this one, when superseded.
    newer: Option<(i64, i64)>,
    can_edit: bool,
    can_audit: bool,
}

fn view_items(f: &Full) -> Vec<ViewItem> {
    let scale_idx: Vec<usize> = (0..f.items.len())
        .filter(|&i| f.items[i].kind == ItemKind::Scale.as_str())
        .collect();
    let ws: Vec<f64> = scale_idx.iter().map(|&i| f.items[i].weight).collect();
    let norm = normalised_weights(&ws).unwrap_or_default();
    let mut prev: Option<Option<i64>> = None;
    f.items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let first = prev != Some(it.dimension_id);
            prev = Some(it.dimension_id);
            ViewItem {
                dimension: it
                    .dimension_id
                    .and_then(|d| f.dimensions.iter().find(|x| x.id == d))
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                first_of_dimension: first,
                choices: match (it.scale_min, it.scale_max) {
                    (Some(a), Some(b)) if b >= a && b - a <= 10 => (a..=b).collect(),
                    _ => vec![],
                },
                weight_percent: scale_idx
                    .iter()
                    .position(|x| *x == i)
                    .and_then(|p| norm.get(p))
                    .map(|w| (w * 1000.0).round() / 10.0),
                item: it.clone(),
            }
        })
        .collect()
}

pub async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let s = Shell::load(&st, &ctx, &uri, "surveys.template").await?;
    let newer = d
        .versions
        .iter()
        .find(|r| r.previous_id == Some(id))
        .map(|r| (r.id, r.version_no));
    render(&ViewPage {
        tr: ctx.tr,
        items: view_items(&d.full),
        answers: answers_of(&d),
        newer,
        d,
        can_edit: ctx.can(Permission::ManageSurveys),
        can_audit: ctx.can(Permission::ViewAudit),
        s,
    })
}

pub async fn retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_retired(&st, &ctx, id, f.version()?, true).await?;
    Ok(see_other(&format!("/surveys/{id}?ok=retired")))
}

pub async fn restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    service::set_retired(&st, &ctx, id, f.version()?, false).await?;
    Ok(see_other(&format!("/surveys/{id}?ok=restored")))
}
