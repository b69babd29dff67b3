//! HTML pages of checklist templates: the list of levels with what each includes, the level
//! form (code, name, the level below), and a level's page with its own items (add, edit,
//! move up and down, retire, restore) and the effective checklist it makes with the levels
//! below. A refused form re-renders with the typed values (422, or 409 when stale).

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use domain::FieldErrors;
use domain::auth::Permission;
use domain::maintenance::checklist::{ItemDraft, ItemKind, ItemRaw, TemplateDraft};
use domain::org::parse_opt_id;
use serde::Deserialize;
use store::maintenance::checklists::{Item, Template};

use super::service::{self, Detail, MoveTo};
use crate::app::AppState;
use crate::auth::{Ctx, FormData};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::{Errs, Shell, render, render_status, see_other};

/// Page routes of checklist templates.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/maintenance/checklists", get(list).post(create))
        .route("/maintenance/checklists/new", get(new))
        .route("/maintenance/checklists/{id}", get(view).post(update))
        .route("/maintenance/checklists/{id}/edit", get(edit))
        .route("/maintenance/checklists/{id}/retire", post(retire))
        .route("/maintenance/checklists/{id}/restore", post(restore))
        .route("/maintenance/checklists/{id}/items", post(add_item))
        .route(
            "/maintenance/checklists/{id}/items/{item}",
            post(update_item),
        )
        .route(
            "/maintenance/checklists/{id}/items/{item}/edit",
            get(edit_item),
        )
        .route(
            "/maintenance/checklists/{id}/items/{item}/move",
            post(move_item),
        )
        .route(
            "/maintenance/checklists/{id}/items/{item}/retire",
            post(retire_item),
        )
        .route(
            "/maintenance/checklists/{id}/items/{item}/restore",
            post(restore_item),
        )
}

fn kinds() -> Vec<&'static str> {
    ItemKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// The chain of level names a template makes, top first ("年度保养 ⊃ 季度保养 ⊃ 例行保养").
fn chain(all: &[Template], t: &Template) -> String {
    let mut names = vec![t.name.clone()];
    let mut cur = t.includes_id;
    while let Some(id) = cur {
        let Some(b) = all.iter().find(|x| x.id == id) else {
            break;
        };
        if names.len() > domain::maintenance::checklist::MAX_DEPTH || b.id == t.id {
            break;
        }
        names.push(b.name.clone());
        cur = b.includes_id;
    }
    names.join(" ⊃ ")
}

/// Query of the list page.
#[derive(Debug, Deserialize, Default)]
pub struct ListQ {
    pub retired: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/checklist_list.html")]
struct ListPage {
    s: Shell,
    tr: Tr,
    items: Vec<(Template, String)>,
    retired: bool,
    can_edit: bool,
}

async fn list(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Query(q): Query<ListQ>,
) -> AppResult<Response> {
    let retired = q.retired.as_deref() == Some("1");
    let all = service::list(&st, &ctx, true).await?;
    let items = all
        .iter()
        .filter(|t| retired || t.active)
        .map(|t| (t.clone(), chain(&all, t)))
        .collect();
    let s = Shell::load(&st, &ctx, &uri, "checklists.list").await?;
    render(&ListPage {
        tr: ctx.tr,
        s,
        items,
        retired,
        can_edit: ctx.can(Permission::PlanMaintenance),
    })
}

/// The level form's typed values.
#[derive(Default, Clone)]
struct TemplateForm {
    id: i64,
    version: i64,
    code: String,
    name: String,
    includes_id: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/checklist_form.html")]
struct FormPage {
    s: Shell,
    tr: Tr,
    v: TemplateForm,
    errs: Errs,
    banner: String,
    /// Levels that may be included: (id, name).
    levels: Vec<(i64, String)>,
}

async fn form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    v: TemplateForm,
    errs: Errs,
    banner: String,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let title = if v.id == 0 {
        "checklists.new"
    } else {
        "checklists.edit"
    };
    let levels = service::list(st, ctx, false)
        .await?
        .into_iter()
        .filter(|t| t.id != v.id)
        .map(|t| (t.id, t.name))
        .collect();
    let s = Shell::load(st, ctx, uri, title).await?;
    render_status(
        status,
        &FormPage {
            tr: ctx.tr,
            s,
            v,
            errs,
            banner,
            levels,
        },
    )
}

async fn new(State(st): State<AppState>, ctx: Ctx, uri: Uri) -> AppResult<Response> {
    form(
        &st,
        &ctx,
        &uri,
        TemplateForm::default(),
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn edit(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let t = service::get(&st, &ctx, id).await?;
    let v = TemplateForm {
        id,
        version: t.version,
        code: t.code,
        name: t.name,
        includes_id: t.includes_id.map(|v| v.to_string()).unwrap_or_default(),
    };
    form(
        &st,
        &ctx,
        &uri,
        v,
        Errs::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

fn template_typed(f: &FormData, id: i64, version: i64) -> TemplateForm {
    TemplateForm {
        id,
        version,
        code: f.get("code").to_string(),
        name: f.get("name").to_string(),
        includes_id: f.get("includes_id").to_string(),
    }
}

fn template_draft(f: &FormData) -> AppResult<TemplateDraft> {
    let mut errs = FieldErrors::default();
    let inc = parse_opt_id(&mut errs, "includes_id", f.opt("includes_id"));
    Ok(TemplateDraft::parse(
        errs,
        f.get("code"),
        f.get("name"),
        inc,
    )?)
}

async fn refused_form(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    mut typed: TemplateForm,
    e: AppError,
) -> AppResult<Response> {
    match e {
        AppError::Invalid(fe) => {
            let errs = Errs::of(&ctx.tr, &fe);
            form(
                st,
                ctx,
                uri,
                typed,
                errs,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        AppError::Stale | AppError::Duplicate => {
            if typed.id != 0 {
                typed.version = service::get(st, ctx, typed.id).await?.version;
            }
            let banner = ctx.tr.t("error.stale_form").to_string();
            form(
                st,
                ctx,
                uri,
                typed,
                Errs::default(),
                banner,
                StatusCode::CONFLICT,
            )
            .await
        }
        other => Err(other),
    }
}

async fn create(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let typed = template_typed(&f, 0, 0);
    let res = match template_draft(&f) {
        Ok(d) => service::create(&st, &ctx, d).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(t) => Ok(see_other(&format!(
            "/maintenance/checklists/{}?ok=created",
            t.id
        ))),
        Err(e) => refused_form(&st, &ctx, &uri, typed, e).await,
    }
}

async fn update(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let version = f.version()?;
    let typed = template_typed(&f, id, version);
    let res = match template_draft(&f) {
        Ok(d) => service::update(&st, &ctx, id, version, d).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(t) => Ok(see_other(&format!(
            "/maintenance/checklists/{}?ok=saved",
            t.id
        ))),
        Err(e) => refused_form(&st, &ctx, &uri, typed, e).await,
    }
}

async fn retire(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, false).await?;
    Ok(see_other(&format!(
        "/maintenance/checklists/{id}?ok=retired"
    )))
}

async fn restore(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_active(&st, &ctx, id, true).await?;
    Ok(see_other(&format!(
        "/maintenance/checklists/{id}?ok=restored"
    )))
}

/// An item form's typed values.
#[derive(Default, Clone)]
struct ItemForm {
    group_code: String,
    group_name: String,
    text: String,
    kind: String,
    unit: String,
    min_value: String,
    max_value: String,
    required: bool,
}

impl ItemForm {
    fn of(i: &Item) -> ItemForm {
        let n = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_default();
        ItemForm {
            group_code: i.group_code.clone(),
            group_name: i.group_name.clone(),
            text: i.text.clone(),
            kind: i.kind.clone(),
            unit: i.unit.clone().unwrap_or_default(),
            min_value: n(i.min_value),
            max_value: n(i.max_value),
            required: i.required,
        }
    }
    fn typed(f: &FormData) -> ItemForm {
        let g = |k: &str| f.get(k).to_string();
        ItemForm {
            group_code: g("group_code"),
            group_name: g("group_name"),
            text: g("text"),
            kind: g("kind"),
            unit: g("unit"),
            min_value: g("min_value"),
            max_value: g("max_value"),
            required: f.checked("required"),
        }
    }
}

fn item_draft(f: &FormData) -> AppResult<ItemDraft> {
    Ok(ItemDraft::parse(
        FieldErrors::default(),
        ItemRaw {
            group_code: f.get("group_code"),
            group_name: f.get("group_name"),
            text: f.get("text"),
            kind: f.opt("kind"),
            unit: f.opt("unit"),
            min_value: f.opt("min_value"),
            max_value: f.opt("max_value"),
            required: f.checked("required"),
        },
    )?)
}

#[derive(askama::Template)]
#[template(path = "maintenance/checklist_detail.html")]
struct DetailPage {
    s: Shell,
    tr: Tr,
    d: Detail,
    chain: String,
    can_edit: bool,
    /// The add-item form.
    iv: ItemForm,
    ierrs: Errs,
    kinds: Vec<&'static str>,
    /// Add-item form action.
    item_action: String,
}

impl DetailPage {
    fn limits(&self, i: &Item) -> String {
        service::limits_text(i.min_value, i.max_value, i.unit.as_deref())
    }
}

async fn detail_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    id: i64,
    iv: ItemForm,
    ierrs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    let d = service::detail(st, ctx, id).await?;
    let all = service::list(st, ctx, true).await?;
    let chain = chain(&all, &d.template);
    let s = Shell::load(st, ctx, uri, "checklists.detail").await?;
    render_status(
        status,
        &DetailPage {
            tr: ctx.tr,
            s,
            chain,
            can_edit: ctx.can(Permission::PlanMaintenance),
            item_action: format!("/maintenance/checklists/{id}/items"),
            d,
            iv,
            ierrs,
            kinds: kinds(),
        },
    )
}

async fn view(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let iv = ItemForm {
        kind: "pass_fail".into(),
        required: true,
        ..Default::default()
    };
    detail_page(&st, &ctx, &uri, id, iv, Errs::default(), StatusCode::OK).await
}

async fn add_item(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path(id): Path<i64>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let res = match item_draft(&f) {
        Ok(d) => service::add_item(&st, &ctx, id, d).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(i) => Ok(see_other(&format!(
            "/maintenance/checklists/{id}?ok=checklist_item_added#item-{}",
            i.id
        ))),
        Err(AppError::Invalid(fe)) => {
            let ierrs = Errs::of(&ctx.tr, &fe);
            detail_page(
                &st,
                &ctx,
                &uri,
                id,
                ItemForm::typed(&f),
                ierrs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "maintenance/checklist_item_form.html")]
struct ItemPage {
    s: Shell,
    tr: Tr,
    template: Template,
    item_id: i64,
    iv: ItemForm,
    ierrs: Errs,
    kinds: Vec<&'static str>,
    item_action: String,
}

async fn item_page(
    st: &AppState,
    ctx: &Ctx,
    uri: &Uri,
    (id, item): (i64, i64),
    iv: ItemForm,
    ierrs: Errs,
    status: StatusCode,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let template = service::get(st, ctx, id).await?;
    let s = Shell::load(st, ctx, uri, "checklists.edit_item").await?;
    render_status(
        status,
        &ItemPage {
            tr: ctx.tr,
            s,
            template,
            item_id: item,
            iv,
            ierrs,
            kinds: kinds(),
            item_action: format!("/maintenance/checklists/{id}/items/{item}"),
        },
    )
}

async fn edit_item(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, item)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let d = service::detail(&st, &ctx, id).await?;
    let Some(i) = d.items.iter().find(|i| i.id == item) else {
        return Err(AppError::NotFound);
    };
    item_page(
        &st,
        &ctx,
        &uri,
        (id, item),
        ItemForm::of(i),
        Errs::default(),
        StatusCode::OK,
    )
    .await
}

async fn update_item(
    State(st): State<AppState>,
    ctx: Ctx,
    uri: Uri,
    Path((id, item)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    ctx.require(Permission::PlanMaintenance)?;
    let res = match item_draft(&f) {
        Ok(d) => service::update_item(&st, &ctx, id, item, d).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(i) => Ok(see_other(&format!(
            "/maintenance/checklists/{id}?ok=saved#item-{}",
            i.id
        ))),
        Err(AppError::Invalid(fe)) => {
            let ierrs = Errs::of(&ctx.tr, &fe);
            item_page(
                &st,
                &ctx,
                &uri,
                (id, item),
                ItemForm::typed(&f),
                ierrs,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn move_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    f: FormData,
) -> AppResult<Response> {
    let to = match f.get("dir") {
        "up" => MoveTo::Up,
        "down" => MoveTo::Down,
        _ => match f.get("position").trim().parse::<i64>() {
            Ok(p) => MoveTo::Position(p),
            Err(_) => return Err(AppError::BadRequest("dir".into())),
        },
    };
    service::move_item(&st, &ctx, id, item, to).await?;
    Ok(see_other(&format!(
        "/maintenance/checklists/{id}?ok=checklist_item_moved#item-{item}"
    )))
}

async fn retire_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_item_active(&st, &ctx, id, item, false).await?;
    Ok(see_other(&format!(
        "/maintenance/checklists/{id}?ok=retired#item-{item}"
    )))
}

async fn restore_item(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((id, item)): Path<(i64, i64)>,
    _f: FormData,
) -> AppResult<Response> {
    service::set_item_active(&st, &ctx, id, item, true).await?;
    Ok(see_other(&format!(
        "/maintenance/checklists/{id}?ok=restored#item-{item}"
    )))
}
