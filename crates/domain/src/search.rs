//! Substring search over archives, the same on SQLite (FTS5) and PostgreSQL (GIN over a
//! `simple` tsvector): each record's text is cut into n-grams stored as words, a query is cut
//! the same way, the engine's inverted index finds the records holding every n-gram, and a
//! final `LIKE '%query%'` on the normalised text keeps only true substring matches.
//!
//! Chinese runs are cut into bigrams (a two-character query such as `华东` must hit), Latin
//! letters and digits into trigrams and also into [`LONG`]-grams; the tail of every run is
//! indexed too so one- and two-character pieces match as prefixes. Tokens are written as `x`
//! (`y` for long grams) + hex of their UTF-8 bytes, so neither engine's tokenizer or locale can
//! split or drop them, and a prefix query on `x…` never expands into the long grams.
//!
//! Why long grams: digit trigrams are few (1,000) and each sits in a large share of the
//! documents, so a serial fragment such as `000567` made the engine read four doclists of tens
//! of thousands of entries to find a handful of records (p99 64 ms over 1.8 M documents). A
//! query piece of [`LONG`] characters or more is looked up by its long grams only, whose
//! doclists hold a few entries each.

/// Lowercases and folds full-width ASCII (ＡＢ１ → ab1), keeping everything else.
pub fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Alnum,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii_alphanumeric() {
        Class::Alnum
    } else if c.is_alphanumeric() {
        // CJK ideographs, kana, hangul and other scripts: cut into bigrams like Chinese.
        Class::Han
    } else {
        Class::Other
    }
}

fn runs(s: &str) -> Vec<(Class, Vec<char>)> {
    let mut out: Vec<(Class, Vec<char>)> = Vec::new();
    for c in s.chars() {
        let k = class(c);
        match out.last_mut() {
            Some((lk, run)) if *lk == k && k != Class::Other => run.push(c),
            _ => out.push((k, vec![c])),
        }
    }
    out.retain(|(k, _)| *k != Class::Other);
    out
}

/// The index word of an n-gram.
pub fn word(gram: &[char]) -> String {
    let s: String = gram.iter().collect();
    format!("x{}", hex::encode(s.as_bytes()))
}

fn gram_len(k: Class) -> usize {
    if k == Class::Han { 2 } else { 3 }
}

/// Length of the long grams of letter-and-digit runs; query pieces this long use only them.
pub const LONG: usize = 5;

/// The index word of a long gram (its own prefix letter, see the module doc).
pub fn long_word(gram: &[char]) -> String {
    let s: String = gram.iter().collect();
    format!("y{}", hex::encode(s.as_bytes()))
}

/// The index words of a document, space-separated, without repeats.
pub fn index_tokens(text: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for (k, run) in runs(&normalize(text)) {
        let n = gram_len(k);
        if run.len() < n {
            words.push(word(&run));
        } else {
            for g in run.windows(n) {
                words.push(word(g));
            }
        }
        if k == Class::Alnum {
            words.extend(run.windows(LONG).map(long_word));
        }
        // Tails, so a short query piece at the end of a run still matches as a prefix.
        for t in 1..n.min(run.len() + 1) {
            if t < run.len() || run.len() >= n {
                words.push(word(&run[run.len() - t..]));
            }
        }
    }
    words.sort();
    words.dedup();
    words.join(" ")
}

/// A parsed query: words every match must contain, words it must contain as a prefix, and
/// the normalised text for the final substring check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub all: Vec<String>,
    pub prefixes: Vec<String>,
    pub like: String,
}

/// Minimum number of letters, digits or characters in a query.
pub const MIN_QUERY: usize = 2;

/// Parses a query; `None` when it has fewer than [`MIN_QUERY`] searchable characters.
pub fn query(q: &str) -> Option<Query> {
    let norm = normalize(q.trim());
    let rs = runs(&norm);
    if rs.iter().map(|(_, r)| r.len()).sum::<usize>() < MIN_QUERY {
        return None;
    }
    let mut all = Vec::new();
    let mut prefixes = Vec::new();
    let longest = rs.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    for (k, run) in rs {
        let n = gram_len(k);
        if k == Class::Alnum && run.len() >= LONG {
            all.extend(run.windows(LONG).map(long_word));
        } else if run.len() >= n {
            all.extend(run.windows(n).map(word));
        } else if run.len() >= 2 || longest < 2 {
            // A one-character prefix matches a large part of the index; when the query has
            // longer pieces they narrow the search and the final LIKE checks the rest.
            prefixes.push(word(&run));
        }
    }
    all.sort();
    all.dedup();
    prefixes.sort();
    prefixes.dedup();
    let like = format!("%{}%", norm.replace(['%', '_', '\\'], ""));
    Some(Query {
        all,
        prefixes,
        like,
    })
}

impl Query {
    /// The FTS5 MATCH expression.
    pub fn fts5(&self) -> String {
        let mut parts: Vec<String> = self.all.iter().map(|w| format!("\"{w}\"")).collect();
        parts.extend(self.prefixes.iter().map(|w| format!("\"{w}\"*")));
        parts.join(" AND ")
    }

    /// The PostgreSQL tsquery text.
    pub fn tsquery(&self) -> String {
        let mut parts: Vec<String> = self.all.iter().map(|w| format!("'{w}'")).collect();
        parts.extend(self.prefixes.iter().map(|w| format!("'{w}':*")));
        parts.join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        index_tokens(text).split(' ').map(str::to_string).collect()
    }

    /// What the engine does: every required word present, every prefix word a prefix of one.
    fn hits(doc: &str, q: &str) -> bool {
        let Some(q) = query(q) else { return false };
        let w = words(doc);
        q.all.iter().all(|a| w.contains(a))
            && q.prefixes
                .iter()
                .all(|p| w.iter().any(|x| x.starts_with(p.as_str())))
            && normalize(doc).contains(q.like.trim_matches('%'))
    }

    #[test]
    fn chinese_two_characters_hit() {
        assert!(hits("华东区 上海 某某机械有限公司", "华东"));
        assert!(hits("上海华东", "华东"));
        assert!(hits("华东", "华东"));
        assert!(!hits("华北区", "华东"));
    }

    #[test]
    fn serial_fragments_hit() {
        assert!(hits("SN-2026-0012345678", "345678"));
        assert!(hits("SN-2026-0012345678", "sn"));
        assert!(hits("SN-2026-0012345678", "78"));
        assert!(hits("ＳＮ２０２６", "sn2026"));
        assert!(!hits("SN-2026-0012345678", "345679"));
    }

    #[test]
    fn long_pieces_use_only_long_grams() {
        let q = query("SN-000567").unwrap();
        assert_eq!(
            q.all,
            vec![
                long_word(&['0', '0', '0', '5', '6']),
                long_word(&['0', '0', '5', '6', '7'])
            ]
        );
        assert_eq!(q.prefixes, vec![word(&['s', 'n'])]);
        // Four characters are still cut into trigrams.
        assert_eq!(query("0567").unwrap().all.len(), 2);
        assert!(
            query("0567")
                .unwrap()
                .all
                .iter()
                .all(|w| w.starts_with('x'))
        );
        // Words a prefix query can expand into (`x…`) hold at most three characters.
        let w = words("ab12345");
        assert!(w.contains(&long_word(&['a', 'b', '1', '2', '3'])));
        assert!(w.iter().all(|w| w.starts_with('y') || w.len() <= 1 + 2 * 3));
        assert!(hits("SN-2026-0012345678", "12345678"));
        assert!(hits("SN-2026-0012345678", "sn-2026-001"));
        assert!(!hits("SN-2026-0012345678", "12345679"));
        assert!(!hits("SN-2026-0012", "00123"));
    }

    #[test]
    fn short_queries_are_refused() {
        assert_eq!(query("a"), None);
        assert_eq!(query("  - "), None);
        assert!(query("华东").is_some());
    }

    #[test]
    fn every_substring_of_a_run_hits() {
        let doc = "客户abc12345华东重工";
        let chars: Vec<char> = doc.chars().collect();
        for i in 0..chars.len() {
            for j in i + 2..=chars.len() {
                let q: String = chars[i..j].iter().collect();
                assert!(hits(doc, &q), "{q}");
            }
        }
    }

    #[test]
    fn single_characters_only_narrow_when_alone() {
        let q = query("sn-2025-0").unwrap();
        assert_eq!(q.prefixes, vec![word(&['s', 'n'])]);
        assert_eq!(q.like, "%sn-2025-0%");
        let q = query("a b").unwrap();
        assert_eq!(q.prefixes.len(), 2);
    }

    #[test]
    fn expressions_are_quoted() {
        let q = query("华东 ab").unwrap();
        assert_eq!(
            q.fts5(),
            format!("\"{}\" AND \"{}\"*", word(&['华', '东']), word(&['a', 'b']))
        );
        assert!(q.tsquery().contains(":*"));
        assert_eq!(q.like, "%华东 ab%");
    }
}
