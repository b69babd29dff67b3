//! Translation catalogs (`locales/*.toml`, embedded) and a per-request translator: the
//! language comes from the request (cookie → Accept-Language → zh-CN), never from a global.

use std::collections::HashMap;
use std::sync::OnceLock;

use domain::FieldError;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses a code (`zh-CN`, `zh`, `en`, `en-US`…).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::ZhCn)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The first supported language of an `Accept-Language` header, in its order.
    pub fn from_accept_language(h: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map(|b| b.1)
    }
}

/// The catalogs: `locales/<lang>/<feature>.toml`, one file per feature, merged per language.
#[derive(rust_embed::RustEmbed)]
#[folder = "locales/"]
struct Locales;

type Catalog = HashMap<String, String>;

fn flatten(prefix: &str, v: &toml::Value, out: &mut Catalog) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        toml::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Parses a catalog file into flat `section.key` entries.
pub fn parse_catalog(src: &str) -> Result<Catalog, toml::de::Error> {
    let v: toml::Value = toml::from_str(src)?;
    let mut out = Catalog::new();
    flatten("", &v, &mut out);
    Ok(out)
}

fn catalogs() -> &'static (Catalog, Catalog) {
    static C: OnceLock<(Catalog, Catalog)> = OnceLock::new();
    // The catalogs are compiled in and checked by tests, so a parse failure is a build defect.
    C.get_or_init(|| (load("zh-CN"), load("en")))
}

/// The catalog of a language.
pub fn catalog(lang: Lang) -> &'static Catalog {
    let c = catalogs();
    match lang {
        Lang::ZhCn => &c.0,
        Lang::En => &c.1,
    }
}

/// The files of one language's catalog, with their text (for the completeness test).
pub fn sources(lang: &str) -> Vec<(String, String)> {
    let prefix = format!("{lang}/");
    let mut files: Vec<(String, String)> = Locales::iter()
        .filter(|f| f.starts_with(&prefix))
        .filter_map(|f| {
            let data = Locales::get(&f)?;
            Some((
                f.to_string(),
                String::from_utf8_lossy(&data.data).into_owned(),
            ))
        })
        .collect();
    files.sort();
    files
}

fn load(lang: &str) -> Catalog {
    let mut out = Catalog::new();
    for (_, text) in sources(lang) {
        // The catalogs are compiled in and checked by tests, so a parse failure is a build defect.
        out.extend(parse_catalog(&text).unwrap_or_default());
    }
    out
}

/// A translator for one request.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    /// Offset of displayed times from UTC, in minutes.
    pub offset_min: i32,
}

impl Tr {
    /// A translator for `lang` showing times at `offset_min`.
    pub fn new(lang: Lang, offset_min: i32) -> Tr {
        Tr { lang, offset_min }
    }

    /// The text of `key`; the key itself when missing (a test keeps that from happening).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        match catalog(self.lang).get(key) {
            Some(v) => v.as_str(),
            None => key,
        }
    }

    /// The text of `key` with `{arg}` replaced.
    pub fn t1(&self, key: &str, arg: &str) -> String {
        self.t(key).replace("{arg}", arg)
    }

    /// The message of a field error.
    pub fn field(&self, e: &FieldError) -> String {
        let key = format!("err.{}", e.code);
        let text = match catalog(self.lang).get(&key) {
            Some(v) => v.as_str(),
            None => e.code,
        };
        text.replace("{arg}", e.arg.as_deref().unwrap_or(""))
    }

    /// The text of `prefix.name` (entity and action names); `name` itself when missing.
    pub fn tk(&self, prefix: &str, name: &str) -> String {
        let key = format!("{prefix}.{name}");
        catalog(self.lang)
            .get(&key)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// A role's display name.
    pub fn role(&self, role: &str) -> String {
        let key = format!("role.{role}");
        catalog(self.lang)
            .get(&key)
            .cloned()
            .unwrap_or_else(|| role.to_string())
    }

    /// A Unix time shown as `YYYY-MM-DD HH:MM` in the configured offset.
    pub fn time(&self, secs: impl std::borrow::Borrow<i64>) -> String {
        let secs = *secs.borrow();
        let off = time::UtcOffset::from_whole_seconds(self.offset_min * 60)
            .unwrap_or(time::UtcOffset::UTC);
        match time::OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => {
                let t = t.to_offset(off);
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}",
                    t.year(),
                    t.month() as u8,
                    t.day(),
                    t.hour(),
                    t.minute()
                )
            }
            Err(_) => String::new(),
        }
    }

    /// An optional Unix time.
    pub fn time_opt(&self, secs: impl std::borrow::Borrow<Option<i64>>) -> String {
        secs.borrow().map(|s| self.time(s)).unwrap_or_default()
    }

    /// Yes / no.
    pub fn yes_no(&self, b: impl std::borrow::Borrow<bool>) -> &'static str {
        let key = if *b.borrow() {
            "common.yes"
        } else {
            "common.no"
        };
        match catalog(self.lang).get(key) {
            Some(v) => v.as_str(),
            None => key,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.5, zh-CN;q=0.8"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
    }

    #[test]
    fn times_use_the_offset() {
        let tr = Tr::new(Lang::ZhCn, 480);
        assert_eq!(tr.time(0), "1970-01-01 08:00");
    }
}
