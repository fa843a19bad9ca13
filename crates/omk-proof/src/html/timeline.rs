//! The timeline of the run, drawn as inline SVG from [`super::lanes`]: one row per lane, time
//! running left to right, every bar, tick and marker with a `<title>` a reader can hover.
//!
//! Coordinates are whole or tenth pixels of a fixed 1000-wide view box, and marks that fall
//! on the same pixel are drawn once, so a log of a million events still makes a small drawing.

use std::{collections::BTreeSet, fmt::Write as _};

use super::{
    ReportContext,
    lanes::{Item, Lane, Lanes, Ms, collect},
    markup::{duration, escape, push_escaped},
};

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 170.0;
const RIGHT: f64 = 990.0;
const AXIS: f64 = 24.0;
const ROW: f64 = 18.0;
const PAD: f64 = 6.0;
const TOKEN_HEIGHT: f64 = 34.0;

/// Returns the timeline section.
pub(crate) fn timeline(ctx: &ReportContext<'_>) -> String {
    let lanes = collect(ctx.events);
    let mut out = String::from("<section class=\"timeline\" id=\"timeline\">\n<h2>Timeline</h2>\n");
    if lanes.lanes.is_empty() {
        out.push_str("<p class=\"dim\">The log has no events.</p>\n</section>\n");
        return out;
    }
    out.push_str(&svg(&lanes));
    out.push_str("<div class=\"legend\">");
    for (var, word) in [
        ("--good", "passed / completed / landed"),
        ("--bad", "failed / reverted"),
        ("--wait", "waiting / open"),
        ("--info", "step"),
        ("--tick", "tool call"),
        ("--info-bg", "repair round"),
    ] {
        let _ = write!(out, "<span style=\"--sw: var({var})\">{word}</span>");
    }
    out.push_str("</div>\n</section>\n");
    out
}

/// Returns the SVG drawing of `lanes`.
fn svg(lanes: &Lanes) -> String {
    let span = lanes.span.max(1);
    let x = |ms: Ms| LEFT + (RIGHT - LEFT) * (ms.clamp(0, span) as f64) / (span as f64);
    let mut rows: Vec<(f64, f64, &Lane, Vec<usize>)> = Vec::new();
    let mut top = AXIS;
    for lane in &lanes.lanes {
        let (height, placement) = if lane.tokens.is_empty() {
            let placement = pack(lane, &x);
            let n_rows = placement.iter().max().map_or(1, |it| it + 1);
            ((n_rows as f64) * ROW + PAD, placement)
        } else {
            (TOKEN_HEIGHT + PAD, Vec::new())
        };
        let height = height.max(ROW + 2.0 * PAD + 4.0);
        rows.push((top, height, lane, placement));
        top += height;
    }
    let height = top + 4.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg viewBox=\"0 0 {WIDTH} {height:.0}\" role=\"img\" aria-label=\"timeline of the run over {}\">",
        duration(u64::try_from(span).unwrap_or(0))
    );
    for round in &lanes.rounds {
        let (x0, x1) = (x(round.start), x(round.end));
        let _ = writeln!(
            out,
            "<rect class=\"round\" x=\"{x0:.1}\" y=\"{AXIS:.0}\" width=\"{:.1}\" height=\"{:.0}\"><title>{} of the goal's agent</title></rect>",
            (x1 - x0).max(1.0),
            top - AXIS,
            escape(&round.label)
        );
        let _ = writeln!(
            out,
            "<text class=\"dim\" x=\"{:.1}\" y=\"{:.0}\">{}</text>",
            x0 + 3.0,
            top - 4.0,
            escape(&round.label)
        );
    }
    axis(&mut out, span, top, &x);
    for (idx, (y, lane_height, lane, placement)) in rows.iter().enumerate() {
        if idx % 2 == 0 {
            let _ = writeln!(
                out,
                "<rect class=\"lane\" x=\"0\" y=\"{y:.0}\" width=\"{WIDTH}\" height=\"{lane_height:.0}\"/>"
            );
        }
        let _ = write!(out, "<text x=\"6\" y=\"{:.0}\">", y + 15.0);
        push_escaped(&mut out, &clip(&lane.label, 24));
        out.push_str("</text>\n");
        if !lane.note.is_empty() {
            let _ = write!(out, "<text class=\"dim\" x=\"6\" y=\"{:.0}\">", y + 28.0);
            push_escaped(&mut out, &clip(&lane.note, 28));
            out.push_str("</text>\n");
        }
        if lane.tokens.is_empty() {
            draw_items(&mut out, lane, placement, *y, &x);
        } else {
            draw_tokens(&mut out, lane, *y, &x);
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Returns the row of every bar of the lane: the first row where it overlaps no bar before.
fn pack(lane: &Lane, x: &impl Fn(Ms) -> f64) -> Vec<usize> {
    let mut ends: Vec<f64> = Vec::new();
    let mut placement = Vec::with_capacity(lane.items.len());
    for item in &lane.items {
        let Item::Bar { start, end, .. } = item else {
            placement.push(0);
            continue;
        };
        let (x0, x1) = (x(*start), x(*end).max(x(*start) + 3.0));
        let row = ends.iter().position(|it| *it <= x0).unwrap_or(ends.len());
        if row == ends.len() {
            ends.push(x1);
        } else {
            ends[row] = x1;
        }
        placement.push(row);
    }
    placement
}

fn draw_items(out: &mut String, lane: &Lane, placement: &[usize], y: f64, x: &impl Fn(Ms) -> f64) {
    let mut drawn: BTreeSet<(i64, &str, u8)> = BTreeSet::new();
    let center = y + PAD / 2.0 + ROW / 2.0;
    // Bars first, so the ticks and markers of the same time stay visible on top of them.
    let mut items: Vec<(&Item, &usize)> = lane.items.iter().zip(placement).collect();
    items.sort_by_key(|(item, _)| !matches!(item, Item::Bar { .. }));
    for (item, row) in items {
        match item {
            Item::Bar { start, end, class, label, title } => {
                let x0 = x(*start);
                let width = (x(*end) - x0).max(3.0);
                let top = y + PAD / 2.0 + (*row as f64) * ROW + 2.0;
                let _ = write!(
                    out,
                    "<rect class=\"{class} marker\" x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{:.0}\" rx=\"3\"><title>",
                    ROW - 4.0
                );
                push_escaped(out, title);
                out.push_str("</title></rect>\n");
                // A label only where it fits: about 6.5 pixels a character.
                let fits = (width / 6.5) as usize;
                if fits >= 4 {
                    let _ = write!(
                        out,
                        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"barlabel\">",
                        x0 + 4.0,
                        top + ROW - 8.0
                    );
                    push_escaped(out, &clip(label, fits - 1));
                    out.push_str("</text>\n");
                }
            }
            Item::Tick { at, class, title } => {
                let px = x(*at);
                if !drawn.insert((px.round() as i64, class, 0)) {
                    continue;
                }
                let _ = write!(
                    out,
                    "<line class=\"tick {class}\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"><title>",
                    center - 8.0,
                    center + 8.0
                );
                push_escaped(out, title);
                out.push_str("</title></line>\n");
            }
            Item::Marker { at, class, title } => {
                let px = x(*at);
                if !drawn.insert((px.round() as i64, class, 1)) {
                    continue;
                }
                let _ = write!(
                    out,
                    "<path class=\"{class} marker\" d=\"M{px:.1} {:.1}l6 6l-6 6l-6 -6z\"><title>",
                    center - 6.0
                );
                push_escaped(out, title);
                out.push_str("</title></path>\n");
            }
        }
    }
}

fn draw_tokens(out: &mut String, lane: &Lane, y: f64, x: &impl Fn(Ms) -> f64) {
    let max = lane.tokens.iter().map(|it| it.1).max().unwrap_or(0).max(1);
    let bottom = y + PAD / 2.0 + TOKEN_HEIGHT;
    let scale = |tokens: u64| bottom - (TOKEN_HEIGHT - 4.0) * (tokens as f64) / (max as f64);
    let mut points = String::new();
    let mut last_px = None;
    let mut previous = 0;
    for &(at, tokens) in &lane.tokens {
        let px = (x(at) * 2.0).round() / 2.0;
        // A step: the count holds until the next report.
        if last_px != Some(px) {
            let _ = write!(points, "{px:.1},{:.1} ", scale(previous));
        }
        let _ = write!(points, "{px:.1},{:.1} ", scale(tokens));
        last_px = Some(px);
        previous = tokens;
    }
    let _ = writeln!(
        out,
        "<polyline class=\"tokens\" points=\"{}\"><title>tokens used, cumulative over the agent's runs: {} at most</title></polyline>",
        points.trim_end(),
        super::markup::number(max)
    );
}

/// Draws the time axis: a grid line and a label at every round step of time.
fn axis(out: &mut String, span: Ms, bottom: f64, x: &impl Fn(Ms) -> f64) {
    let step = tick_step(span);
    let mut at = 0;
    while at <= span {
        let px = x(at);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.0}\" y2=\"{bottom:.0}\"/>",
            AXIS - 6.0
        );
        let anchor = if at == 0 { "start" } else { "middle" };
        let _ = writeln!(
            out,
            "<text class=\"dim\" x=\"{px:.1}\" y=\"{:.0}\" text-anchor=\"{anchor}\">{}</text>",
            AXIS - 10.0,
            if at == 0 { "0".to_owned() } else { axis_label(at) }
        );
        at += step;
    }
}

/// Returns a round step of time that cuts `span` into at most eight parts.
fn tick_step(span: Ms) -> Ms {
    const STEPS: [Ms; 24] = [
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000,
        120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000,
    ];
    STEPS.iter().copied().find(|step| span / step <= 8).unwrap_or(86_400_000)
}

fn axis_label(ms: Ms) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        ms if ms < 60_000 && ms % 1_000 != 0 => format!("{:.1} s", ms as f64 / 1000.0),
        ms if ms < 60_000 => format!("{} s", ms / 1_000),
        ms if ms < 3_600_000 && ms % 60_000 != 0 => {
            format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
        }
        ms if ms < 3_600_000 => format!("{} min", ms / 60_000),
        ms => format!("{} h {} min", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// Returns `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_steps_are_round_and_few() {
        assert_eq!(tick_step(900), 200);
        assert_eq!(tick_step(7_300), 1_000);
        assert_eq!(tick_step(4 * 60_000), 30_000);
        assert_eq!(axis_label(90_000), "1 min 30 s");
        assert_eq!(clip("integration", 5), "inte…");
    }
}
