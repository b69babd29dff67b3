//! Server-rendered SVG charts of the satisfaction statistics, in the house style of the
//! maintenance and complaint figures (classes `chart`, `grid`, `axis`, `tick`, `label`,
//! `axis-title`, `point`, `cumulative` of app.css; plain markup, no script): the
//! importance-performance matrix and the trend of a template code across its studies.

use std::fmt::Write;

use crate::maintenance::figures::chart::{esc, fit, width};

const W: f64 = 760.0;
const FONT: f64 = 11.0;

/// One item of the matrix.
pub struct IpaDot {
    pub label: String,
    /// Normalised weight (0..1).
    pub importance: f64,
    /// Score 0-100.
    pub performance: f64,
    /// fix_first, keep, opportunity or maintain.
    pub quadrant: String,
}

/// The matrix's words.
pub struct IpaTexts {
    pub title: String,
    pub importance: String,
    pub performance: String,
    /// Labels of fix_first, keep, opportunity, maintain.
    pub quadrants: [String; 4],
}

/// The fill of a quadrant's points (presentation attributes: the chart needs no CSS).
fn colour(q: &str) -> &'static str {
    match q {
        "fix_first" => "#c2410c",
        "keep" => "#15803d",
        "opportunity" => "#a16207",
        _ => "#1d4ed8",
    }
}

/// A round step for about `lines` grid lines over `span`.
fn nice_step(span: f64, lines: f64) -> f64 {
    let raw = (span / lines).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let r = raw / mag;
    let m = if r <= 1.0 {
        1.0
    } else if r <= 2.0 {
        2.0
    } else if r <= 2.5 {
        2.5
    } else if r <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// The importance-performance matrix: importance (normalised weight) across, score up, the
/// axes cut at the mean importance and the mean score (dashed), the four quadrants labelled,
/// each item a point with its label.
pub fn ipa(dots: &[IpaDot], cut_importance: f64, cut_performance: f64, t: &IpaTexts) -> String {
    const LEFT: f64 = 56.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 30.0;
    const PLOT_H: f64 = 360.0;
    let h = TOP + PLOT_H + 44.0;
    let plot_w = W - LEFT - RIGHT;
    // x from 0 to a round value past the largest importance (and the cut)
    let max_imp = dots
        .iter()
        .map(|d| d.importance)
        .fold(cut_importance, f64::max)
        .max(0.01);
    let xs = nice_step(max_imp * 1.15, 5.0);
    let x_hi = (max_imp * 1.15 / xs).ceil() * xs;
    // y: the scores' range widened to round tens, at least 20 points tall, within 0-100
    let (mut lo, mut hi) = dots
        .iter()
        .fold((cut_performance, cut_performance), |a, d| {
            (a.0.min(d.performance), a.1.max(d.performance))
        });
    lo = ((lo - 5.0) / 10.0).floor() * 10.0;
    hi = ((hi + 5.0) / 10.0).ceil() * 10.0;
    if hi - lo < 20.0 {
        hi = lo + 20.0;
    }
    let (lo, hi) = (lo.clamp(0.0, 80.0), hi.clamp(20.0, 100.0));
    let x = |v: f64| LEFT + v / x_hi * plot_w;
    let y = |v: f64| TOP + PLOT_H - (v - lo) / (hi - lo) * PLOT_H;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart ipa" id="ipa-chart" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="ipa-chart-title" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}"><title id="ipa-chart-title">{}</title>"#,
        esc(&t.title)
    );
    // grid and ticks
    let ys = nice_step(hi - lo, 5.0);
    let mut v = lo;
    while v <= hi + 1e-9 {
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{v:.0}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
        v += ys;
    }
    let mut v = 0.0;
    while v <= x_hi + 1e-9 {
        let xx = x(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}"/><text class="tick" x="{xx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + PLOT_H,
            TOP + PLOT_H + 16.0,
            trim_num(v)
        );
        v += xs;
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b:.1}"/>"#,
        W - RIGHT,
        b = TOP + PLOT_H
    );
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis-title" x="14" y="{m:.1}" transform="rotate(-90 14 {m:.1})" text-anchor="middle">{}</text>"#,
        LEFT + plot_w / 2.0,
        h - 6.0,
        esc(&t.importance),
        esc(&t.performance),
        m = TOP + PLOT_H / 2.0
    );
    // the cut lines
    let (cx, cy) = (x(cut_importance), y(cut_performance));
    let _ = write!(
        out,
        r##"<line class="cut" id="ipa-cut-importance" x1="{cx:.1}" y1="{TOP}" x2="{cx:.1}" y2="{:.1}" stroke="#475569" stroke-width="1.2" stroke-dasharray="6 4"/><line class="cut" id="ipa-cut-performance" x1="{LEFT}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke="#475569" stroke-width="1.2" stroke-dasharray="6 4"/>"##,
        TOP + PLOT_H,
        W - RIGHT
    );
    // quadrant labels in the corners: fix first bottom right, keep top right, opportunity
    // bottom left, maintain top left
    let corners = [
        ("fix_first", W - RIGHT - 6.0, TOP + PLOT_H - 8.0, "end"),
        ("keep", W - RIGHT - 6.0, TOP + 16.0, "end"),
        ("opportunity", LEFT + 6.0, TOP + PLOT_H - 8.0, "start"),
        ("maintain", LEFT + 6.0, TOP + 16.0, "start"),
    ];
    for ((q, qx, qy, anchor), label) in corners.iter().zip(&t.quadrants) {
        let _ = write!(
            out,
            r#"<text class="quadrant q-{q}" x="{qx:.1}" y="{qy:.1}" text-anchor="{anchor}" font-size="13" font-weight="700" fill="{}" fill-opacity="0.75">{}</text>"#,
            colour(q),
            esc(label)
        );
    }
    for (i, d) in dots.iter().enumerate() {
        let (px, py) = (x(d.importance), y(d.performance));
        let label = fit(&d.label, 150.0, FONT);
        // labels go right of the point, left when they would leave the plot
        let right = px + 8.0 + width(&label, FONT) <= W - RIGHT;
        let (lx, anchor) = if right {
            (px + 7.0, "start")
        } else {
            (px - 7.0, "end")
        };
        let _ = write!(
            out,
            r#"<g class="ipa-point q-{q}" data-item="{i}"><circle class="point" cx="{px:.1}" cy="{py:.1}" r="5" fill="{c}" style="fill:{c}"><title>{} ({:.3}, {:.1})</title></circle><text class="label" x="{lx:.1}" y="{:.1}" text-anchor="{anchor}">{}</text></g>"#,
            esc(&d.label),
            d.importance,
            d.performance,
            py + 4.0,
            esc(&label),
            q = esc(&d.quadrant),
            c = colour(&d.quadrant),
        );
    }
    out.push_str("</svg>");
    out
}

fn trim_num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value (0-100) with its interval ends (None: no interval).
pub type Valued = (f64, Option<f64>, Option<f64>);

/// One study of a trend: a label and up to two series values (0-100) with intervals.
pub struct TrendDot {
    pub label: String,
    /// (value, low, high) per series; None: no figure.
    pub values: [Option<Valued>; 2],
}

/// A small line chart on 0-100 of two series across studies (CSI and CSAT), each point with
/// its 95% interval as a whisker; a study without a figure breaks the line.
pub fn trend(dots: &[TrendDot], title: &str, legend: [&str; 2], id: &str) -> String {
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 28.0;
    const PLOT_H: f64 = 160.0;
    let slot = (W - LEFT - RIGHT) / dots.len().max(1) as f64;
    let widest = dots
        .iter()
        .map(|d| width(&d.label, FONT))
        .fold(0.0, f64::max);
    let rotate = widest > slot - 4.0;
    let below = if rotate {
        widest.min(110.0) * 0.65 + 22.0
    } else {
        28.0
    };
    let h = (TOP + PLOT_H + below).ceil();
    let y = |v: f64| TOP + PLOT_H - v.clamp(0.0, 100.0) / 100.0 * PLOT_H;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart trend" id="{id}" viewBox="0 0 {W} {h}" width="100%" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}"><title id="{id}-title">{}</title>"#,
        esc(title)
    );
    for v in [0, 25, 50, 75, 100] {
        let yy = y(v as f64);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    let colours = ["#1d4ed8", "#d97706"];
    for (s, colour) in colours.iter().enumerate() {
        let mut segments: Vec<Vec<String>> = vec![Vec::new()];
        let mut marks = String::new();
        for (i, d) in dots.iter().enumerate() {
            // the two series sit slightly apart so their whiskers do not hide each other
            let cx = LEFT + slot * (i as f64 + 0.5) + if s == 0 { -3.0 } else { 3.0 };
            match d.values[s] {
                Some((v, lo, hi)) => {
                    if let Some(seg) = segments.last_mut() {
                        seg.push(format!("{cx:.1},{:.1}", y(v)));
                    }
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        let _ = write!(
                            marks,
                            r#"<line class="whisker" x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1"/>"#,
                            y(lo),
                            y(hi)
                        );
                    }
                    let _ = write!(
                        marks,
                        r#"<circle class="point s{s}" cx="{cx:.1}" cy="{:.1}" r="3" fill="{colour}" style="fill:{colour}"><title>{}: {} {v:.1}</title></circle>"#,
                        y(v),
                        esc(&d.label),
                        esc(legend[s])
                    );
                }
                None => segments.push(Vec::new()),
            }
        }
        for seg in segments.iter().filter(|s| s.len() > 1) {
            let _ = write!(
                out,
                r#"<polyline class="series s{s}" points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                seg.join(" ")
            );
        }
        out.push_str(&marks);
    }
    let base = TOP + PLOT_H;
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{base:.1}" x2="{:.1}" y2="{base:.1}"/>"#,
        W - RIGHT
    );
    for (i, d) in dots.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        if rotate {
            let l = fit(&d.label, 110.0, FONT);
            let (lx, ly) = (cx + 4.0, base + 12.0);
            let _ = write!(
                out,
                r#"<text class="label" x="{lx:.1}" y="{ly:.1}" text-anchor="end" transform="rotate(-40 {lx:.1} {ly:.1})">{}</text>"#,
                esc(&l)
            );
        } else {
            let _ = write!(
                out,
                r#"<text class="label" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                base + 16.0,
                esc(&d.label)
            );
        }
    }
    let mut lx = LEFT;
    for (s, name) in legend.iter().enumerate() {
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="13" x2="{:.1}" y2="13" stroke="{c}" stroke-width="2"/><text class="label" x="{:.1}" y="17">{}</text>"#,
            lx + 12.0,
            lx + 16.0,
            esc(name),
            c = colours[s]
        );
        lx += 16.0 + width(name, FONT) + 16.0;
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> IpaTexts {
        IpaTexts {
            title: "IPA".into(),
            importance: "importance".into(),
            performance: "score".into(),
            quadrants: [
                "优先改进".into(),
                "继续保持".into(),
                "机会".into(),
                "维持".into(),
            ],
        }
    }

    #[test]
    fn ipa_draws_cuts_quadrants_and_labelled_points() {
        let d = |label: &str, i, p, q: &str| IpaDot {
            label: label.into(),
            importance: i,
            performance: p,
            quadrant: q.into(),
        };
        let svg = ipa(
            &[
                d("响应速度", 0.3, 72.5, "keep"),
                d("<态度>", 0.2, 60.0, "fix_first"),
                d(
                    "a very long label that has to be shortened somewhere",
                    0.1,
                    50.0,
                    "opportunity",
                ),
            ],
            0.2,
            60.8,
            &texts(),
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle class=\"point\"").count(), 3);
        assert!(
            svg.contains("id=\"ipa-cut-importance\"") && svg.contains("id=\"ipa-cut-performance\"")
        );
        for q in ["优先改进", "继续保持", "机会", "维持"] {
            assert!(svg.contains(q), "{q}");
        }
        assert!(svg.contains("&lt;态度&gt;"));
        assert!(svg.contains('…'));
        assert_eq!(svg.matches("class=\"ipa-point q-keep\"").count(), 1);
    }

    #[test]
    fn trend_breaks_lines_on_missing_figures() {
        let dots = vec![
            TrendDot {
                label: "2025-Q1".into(),
                values: [
                    Some((70.0, Some(60.0), Some(80.0))),
                    Some((65.0, None, None)),
                ],
            },
            TrendDot {
                label: "2025-Q2".into(),
                values: [Some((72.0, Some(66.0), Some(78.0))), None],
            },
        ];
        let svg = trend(&dots, "t", ["CSI", "CSAT"], "trend-x");
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("class=\"whisker\"").count(), 2);
        assert!(svg.contains("id=\"trend-x\""));
    }
}
