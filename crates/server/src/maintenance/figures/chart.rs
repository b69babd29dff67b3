//! Server-rendered SVG charts of the maintenance figures: plain markup, no script, the same
//! look as the complaint figures (classes `bar`, `cumulative`, `point`, `grid`, `tick` of
//! app.css). Labels are measured by estimate (a CJK character is 1 em wide, anything else
//! about 0.6 em).

use std::fmt::Write;

/// One month of PM compliance.
pub struct MonthBar {
    pub label: String,
    pub due: i64,
    pub on_time: i64,
    /// on_time / due in % (None: nothing due).
    pub percent: Option<f64>,
}

/// One bar of a count chart.
pub struct Bar {
    pub label: String,
    pub n: i64,
}

/// The chart's words.
pub struct Texts {
    pub title: String,
    /// Title of the count axis.
    pub count: String,
    /// Title of the percentage axis (compliance chart only).
    pub percent: String,
    /// Legend entries: due, on time, compliance (compliance chart only).
    pub legend: [String; 3],
}

const W: f64 = 760.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 30.0;
/// Height of the plot area (the label area below it grows with rotated labels).
const PLOT_H: f64 = 220.0;
const FONT: f64 = 11.0;
/// Longest rotated label, in px.
const LABEL_MAX: f64 = 110.0;

/// XML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

fn wide(c: char) -> bool {
    // CJK, kana, hangul and full-width forms take a full em.
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// Estimated width in px at `size`.
pub fn width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if wide(c) { 1.0 } else { 0.6 })
        .sum::<f64>()
        * size
}

/// `s` shortened with "…" to fit `max` px.
pub fn fit(s: &str, max: f64, size: f64) -> String {
    if width(s, size) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = size; // room for the ellipsis
    for c in s.chars() {
        w += if wide(c) { size } else { 0.6 * size };
        if w > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A round step for about four grid lines up to `max`.
fn step(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 4.0).max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    let m = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    ((m * mag) as i64).max(1)
}

/// Where the bars go: one slot per bar, labels rotated when they do not fit a slot.
struct Frame {
    slot: f64,
    rotate: bool,
    /// Height of the whole chart.
    h: f64,
    /// y of the count axis (the plot's bottom).
    base: f64,
}

fn frame<'a>(labels: impl Iterator<Item = &'a str>, n: usize) -> Frame {
    let slot = (W - LEFT - RIGHT) / n.max(1) as f64;
    let widest = labels.map(|l| width(l, FONT)).fold(0.0, f64::max);
    let rotate = widest > slot - 4.0;
    // a label rotated by 40° needs about sin 40° of its length below the axis
    let below = if rotate {
        widest.min(LABEL_MAX) * 0.65 + 22.0
    } else {
        28.0
    };
    Frame {
        slot,
        rotate,
        h: (TOP + PLOT_H + below).ceil(),
        base: TOP + PLOT_H,
    }
}

fn open(out: &mut String, title: &str, id: &str, h: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}"><title id="{id}-title">{}</title>"#,
        esc(title)
    );
}

/// Count axis on the left with grid lines from 0 to a round value above `max`; returns the
/// y of a count.
fn count_axis(out: &mut String, title: &str, max: i64) -> impl Fn(f64) -> f64 + use<> {
    let st = step(max);
    let top_val = ((max.max(1) + st - 1) / st * st).max(1) as f64;
    let y = move |v: f64| TOP + PLOT_H - v / top_val * PLOT_H;
    let mut v = 0;
    while v as f64 <= top_val {
        let yy = y(v as f64);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
        v += st;
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="14" y="{m:.1}" transform="rotate(-90 14 {m:.1})" text-anchor="middle">{}</text>"#,
        esc(title),
        m = TOP + PLOT_H / 2.0
    );
    y
}

/// The label under slot `i`, rotated when the frame says so.
fn label(out: &mut String, fr: &Frame, cx: f64, text: &str) {
    if fr.rotate {
        let l = fit(text, LABEL_MAX, FONT);
        let ly = fr.base + 12.0;
        let lx = cx + 4.0;
        let _ = write!(
            out,
            r#"<text class="label" x="{lx:.1}" y="{ly:.1}" text-anchor="end" transform="rotate(-40 {lx:.1} {ly:.1})">{}</text>"#,
            esc(&l)
        );
    } else {
        let _ = write!(
            out,
            r#"<text class="label" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            fr.base + 16.0,
            esc(text)
        );
    }
}

fn axis_line(out: &mut String, fr: &Frame) {
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}"/>"#,
        W - RIGHT,
        b = fr.base
    );
}

/// Monthly PM compliance: per month a pale bar of the orders due with the solid bar of those
/// done on time in front of it (count axis, left), and the compliance line (0–100 %, right);
/// months with nothing due have no point and break the line.
pub fn compliance(data: &[MonthBar], t: &Texts) -> String {
    let fr = frame(data.iter().map(|m| m.label.as_str()), data.len());
    let mut out = String::new();
    open(&mut out, &t.title, "pm-chart", fr.h);
    let max = data.iter().map(|m| m.due).max().unwrap_or(0);
    let y = count_axis(&mut out, &t.count, max);
    let yp = |p: f64| TOP + PLOT_H - p / 100.0 * PLOT_H;
    for p in [0, 25, 50, 75, 100] {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}">{p}%</text>"#,
            W - RIGHT + 6.0,
            yp(p as f64) + 4.0
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{x:.1}" y="{m:.1}" transform="rotate(90 {x:.1} {m:.1})" text-anchor="middle">{}</text>"#,
        esc(&t.percent),
        x = W - 12.0,
        m = TOP + PLOT_H / 2.0
    );
    let bw = (fr.slot * 0.7).min(48.0);
    let mut segments: Vec<Vec<String>> = vec![Vec::new()];
    let mut points = String::new();
    for (i, m) in data.iter().enumerate() {
        let cx = LEFT + fr.slot * (i as f64 + 0.5);
        let (due_top, ok_top) = (y(m.due as f64), y(m.on_time as f64));
        let pct = m
            .percent
            .map_or_else(|| "—".to_string(), |p| format!("{p:.1}%"));
        let _ = write!(
            out,
            r#"<rect class="bar due" x="{:.1}" y="{due_top:.1}" width="{bw:.1}" height="{:.1}" fill-opacity="0.3"><title>{}: {} {}</title></rect>"#,
            cx - bw / 2.0,
            (fr.base - due_top).max(0.0),
            esc(&m.label),
            esc(&t.legend[0]),
            m.due
        );
        let _ = write!(
            out,
            r#"<rect class="bar on-time" x="{:.1}" y="{ok_top:.1}" width="{bw:.1}" height="{:.1}"><title>{}: {} {} ({pct})</title></rect>"#,
            cx - bw / 2.0,
            (fr.base - ok_top).max(0.0),
            esc(&m.label),
            esc(&t.legend[1]),
            m.on_time
        );
        label(&mut out, &fr, cx, &m.label);
        match m.percent {
            Some(p) => {
                if let Some(seg) = segments.last_mut() {
                    seg.push(format!("{cx:.1},{:.1}", yp(p)));
                }
                let _ = write!(
                    points,
                    r#"<circle class="point" cx="{cx:.1}" cy="{:.1}" r="3"><title>{}: {pct}</title></circle>"#,
                    yp(p),
                    esc(&m.label)
                );
            }
            None => segments.push(Vec::new()),
        }
    }
    axis_line(&mut out, &fr);
    for seg in segments.iter().filter(|s| s.len() > 1) {
        let _ = write!(
            out,
            r#"<polyline class="cumulative" points="{}"/>"#,
            seg.join(" ")
        );
    }
    out.push_str(&points);
    // legend, top left
    let mut x = LEFT;
    for (i, name) in t.legend.iter().enumerate() {
        let mark = match i {
            0 => format!(
                r#"<rect class="bar" x="{x:.1}" y="8" width="10" height="10" fill-opacity="0.3"/>"#
            ),
            1 => format!(r#"<rect class="bar" x="{x:.1}" y="8" width="10" height="10"/>"#),
            _ => format!(
                r#"<line class="cumulative" x1="{x:.1}" y1="13" x2="{:.1}" y2="13"/>"#,
                x + 10.0
            ),
        };
        out.push_str(&mark);
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="17">{}</text>"#,
            x + 14.0,
            esc(name)
        );
        x += 14.0 + width(name, FONT) + 16.0;
    }
    out.push_str("</svg>");
    out
}

/// A column chart of counts with the values on top (`id` names the chart).
pub fn columns(data: &[Bar], t: &Texts, id: &str) -> String {
    let fr = frame(data.iter().map(|b| b.label.as_str()), data.len());
    let mut out = String::new();
    open(&mut out, &t.title, id, fr.h);
    let max = data.iter().map(|b| b.n).max().unwrap_or(0);
    let y = count_axis(&mut out, &t.count, max);
    let bw = (fr.slot * 0.6).min(90.0);
    for (i, b) in data.iter().enumerate() {
        let cx = LEFT + fr.slot * (i as f64 + 0.5);
        let top = y(b.n as f64);
        let _ = write!(
            out,
            r#"<rect class="bar" x="{:.1}" y="{top:.1}" width="{bw:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            cx - bw / 2.0,
            (fr.base - top).max(0.0),
            esc(&b.label),
            b.n
        );
        let _ = write!(
            out,
            r#"<text class="value" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            top - 3.0,
            b.n
        );
        label(&mut out, &fr, cx, &b.label);
    }
    axis_line(&mut out, &fr);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> Texts {
        Texts {
            title: "t".into(),
            count: "n".into(),
            percent: "%".into(),
            legend: ["due".into(), "on time".into(), "rate".into()],
        }
    }

    #[test]
    fn widths_and_steps() {
        assert_eq!(width("保养单", 10.0), 30.0);
        assert_eq!(width("ab", 10.0), 12.0);
        let f = fit("主控柜报警电机异响", 50.0, 10.0);
        assert!(f.ends_with('…') && width(&f, 10.0) <= 50.0, "{f}");
        assert_eq!(esc("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
        assert_eq!(step(0), 1);
        assert_eq!(step(7), 2);
        assert_eq!(step(1234), 500);
    }

    #[test]
    fn compliance_draws_two_bars_a_month_and_breaks_the_line_on_empty_months() {
        let m = |label: &str, due, on_time| MonthBar {
            label: label.into(),
            due,
            on_time,
            percent: (due > 0).then(|| on_time as f64 * 100.0 / due as f64),
        };
        let data = vec![
            m("2026-01", 4, 3),
            m("2026-02", 2, 2),
            m("2026-03", 0, 0),
            m("2026-04", 5, 1),
        ];
        let svg = compliance(&data, &texts());
        assert_eq!(svg.matches("<rect class=\"bar due\"").count(), 4);
        assert_eq!(svg.matches("<rect class=\"bar on-time\"").count(), 4);
        // Jan-Feb joined; April alone has no line
        assert_eq!(svg.matches("<polyline class=\"cumulative\"").count(), 1);
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 3);
        assert!(svg.contains("(75.0%)"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn columns_show_values() {
        let data = vec![
            Bar {
                label: "1-7".into(),
                n: 3,
            },
            Bar {
                label: "<8>".into(),
                n: 0,
            },
        ];
        let svg = columns(&data, &texts(), "backlog-chart");
        assert!(svg.contains(r#"id="backlog-chart""#));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
        assert!(svg.contains("&lt;8&gt;"));
        assert!(svg.contains(">3</text>"));
    }
}
