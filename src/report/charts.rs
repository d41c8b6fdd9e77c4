//! Charts as SVG text, drawn with plotters' SVG backend. Text goes into
//! the SVG as `<text>` elements that the browser sets in its own sans-serif
//! font, so the binary carries no font and needs none on the system.

use crate::error::{Result, UdllError};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Display;

fn draw_err(e: impl Display) -> UdllError {
    UdllError::Numeric(format!("drawing a chart: {e}"))
}

/// The colour of group `i` (clusters, series).
pub fn group_colour(i: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(i).rgb();
    RGBColor(r, g, b)
}

/// (min x, max x, min y, max y) of some points.
fn extent<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> (f64, f64, f64, f64) {
    points.fold((f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY), |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)))
}

/// One line of a chart: its name and its (x, y) points.
pub struct Series {
    /// The legend's name.
    pub name: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart with a logarithmic y axis. Points with y ≤ 0 or non-finite
/// cannot be drawn there and are left out; a series left with none is not
/// drawn.
pub fn log_lines(title: &str, x_desc: &str, y_desc: &str, series: &[Series]) -> Result<String> {
    let drawable: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|s| (s.name.as_str(), s.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite() && *y > 0.0).collect::<Vec<_>>()))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let (x0, x1, y0, y1) = extent(drawable.iter().flat_map(|(_, p)| p.iter()));
    if drawable.is_empty() {
        return Err(UdllError::Numeric(format!("{title}: no positive finite value to draw")));
    }
    let (x1, y1) = (if x1 > x0 { x1 } else { x0 + 1.0 }, if y1 > y0 { y1 * 1.5 } else { y0 * 10.0 });
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, (y0 / 1.5..y1).log_scale())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .y_label_formatter(&|v| format!("{v:.1e}"))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        for (i, (name, points)) in drawable.iter().enumerate() {
            let colour = group_colour(i);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
                .map_err(draw_err)?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A scatter of 2-D points coloured by group.
pub fn scatter(title: &str, x_desc: &str, y_desc: &str, points: &[(f64, f64)], groups: &[usize]) -> Result<String> {
    if points.is_empty() || points.len() != groups.len() || points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return Err(UdllError::Numeric(format!("{title}: {} points for {} groups, or a non-finite one", points.len(), groups.len())));
    }
    let (x0, x1, y0, y1) = extent(points.iter());
    let pad = |lo: f64, hi: f64| {
        let p = ((hi - lo) * 0.05).max(1e-9);
        (lo - p)..(hi + p)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (620, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(pad(x0, x1), pad(y0, y1))
            .map_err(draw_err)?;
        chart.configure_mesh().x_desc(x_desc).y_desc(y_desc).light_line_style(WHITE).draw().map_err(draw_err)?;
        chart.draw_series(points.iter().zip(groups).map(|(&p, &g)| Circle::new(p, 3, group_colour(g).mix(0.8).filled()))).map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A K × K count matrix (rows: true class, columns: the class a cluster
/// was matched to) as cells shaded by each row's share, the diagonal in
/// blue and the rest in red, with the counts written in when K ≤ 40.
pub fn confusion(title: &str, counts: &[usize], k: usize) -> Result<String> {
    if k == 0 || counts.len() != k * k {
        return Err(UdllError::shape(format!("{title}: {} counts for {k} classes", counts.len())));
    }
    let cell = (720 / k).clamp(6, 36) as i32;
    let (left, top) = (70, 50);
    let side = cell * k as i32;
    let label_every = k.div_ceil(40);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ((left + side + 20) as u32, (top + side + 50) as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let font = |size: i32| TextStyle::from(("sans-serif", size).into_font());
        root.draw(&Text::new(title.to_string(), (left, 14), font(18))).map_err(draw_err)?;
        for r in 0..k {
            let total = counts[r * k..][..k].iter().sum::<usize>().max(1) as f64;
            for c in 0..k {
                let v = counts[r * k + c];
                let share = v as f64 / total;
                let (x, y) = (left + c as i32 * cell, top + r as i32 * cell);
                let base: RGBColor = if r == c { RGBColor(40, 90, 170) } else { RGBColor(200, 40, 40) };
                let colour = if v == 0 { WHITE.to_rgba() } else { base.mix(0.15 + 0.85 * share) };
                root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], colour.filled())).map_err(draw_err)?;
                root.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], RGBColor(225, 225, 225).stroke_width(1))).map_err(draw_err)?;
                if k <= 40 && v > 0 {
                    let style = font((cell / 3).clamp(7, 13)).color(if share > 0.5 { &WHITE } else { &BLACK }).pos(Pos::new(HPos::Center, VPos::Center));
                    root.draw(&Text::new(v.to_string(), (x + cell / 2, y + cell / 2), style)).map_err(draw_err)?;
                }
            }
            if r % label_every == 0 {
                let style = font(11).pos(Pos::new(HPos::Right, VPos::Center));
                root.draw(&Text::new(r.to_string(), (left - 6, top + r as i32 * cell + cell / 2), style)).map_err(draw_err)?;
                let style = font(11).pos(Pos::new(HPos::Center, VPos::Top));
                root.draw(&Text::new(r.to_string(), (left + r as i32 * cell + cell / 2, top + side + 4), style)).map_err(draw_err)?;
            }
        }
        let style = font(13).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new("matched class of the cluster", (left + side / 2, top + side + 22), style)).map_err(draw_err)?;
        let style = font(13).pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new("true class ↓", (2, top - 14), style)).map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Horizontal bars in groups: for each label, one bar per series (e.g.
/// this run's mean and min and the paper's), values in [0, 1] written at
/// the bar's end; a missing value draws no bar.
pub fn grouped_bars(title: &str, labels: &[String], series: &[(String, Vec<Option<f64>>)]) -> Result<String> {
    if labels.is_empty() || series.is_empty() || series.iter().any(|(_, v)| v.len() != labels.len()) {
        return Err(UdllError::shape(format!("{title}: bars for {} labels, {} series", labels.len(), series.len())));
    }
    let (left, top, bar, scale) = (230i32, 64i32, 13i32, 480f64);
    let group = bar * series.len() as i32 + 10;
    let height = top + group * labels.len() as i32 + 36;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ((left as f64 + scale) as u32 + 70, height as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let font = |size: i32| TextStyle::from(("sans-serif", size).into_font());
        root.draw(&Text::new(title.to_string(), (10, 8), font(18))).map_err(draw_err)?;
        for (s, (name, _)) in series.iter().enumerate() {
            let x = left + s as i32 * 150;
            root.draw(&Rectangle::new([(x, 36), (x + 12, 48)], group_colour(s).filled())).map_err(draw_err)?;
            root.draw(&Text::new(name.clone(), (x + 18, 42), font(12).pos(Pos::new(HPos::Left, VPos::Center)))).map_err(draw_err)?;
        }
        let axis_bottom = top + group * labels.len() as i32;
        for t in 0..=10 {
            let x = left + (scale * t as f64 / 10.0) as i32;
            root.draw(&PathElement::new(vec![(x, top - 4), (x, axis_bottom)], RGBColor(230, 230, 230).stroke_width(1))).map_err(draw_err)?;
            let label = format!("{:.1}", t as f64 / 10.0);
            root.draw(&Text::new(label, (x, axis_bottom + 6), font(11).pos(Pos::new(HPos::Center, VPos::Top)))).map_err(draw_err)?;
        }
        for (i, label) in labels.iter().enumerate() {
            let y0 = top + i as i32 * group;
            let centre = y0 + bar * series.len() as i32 / 2;
            root.draw(&Text::new(label.clone(), (left - 8, centre), font(12).pos(Pos::new(HPos::Right, VPos::Center)))).map_err(draw_err)?;
            for (s, (_, values)) in series.iter().enumerate() {
                let Some(v) = values[i] else { continue };
                let y = y0 + s as i32 * bar;
                let x1 = left + (scale * v.clamp(0.0, 1.0)) as i32;
                root.draw(&Rectangle::new([(left, y), (x1.max(left + 1), y + bar - 2)], group_colour(s).filled())).map_err(draw_err)?;
                root.draw(&Text::new(format!("{v:.4}"), (x1 + 4, y + bar / 2 - 1), font(10).pos(Pos::new(HPos::Left, VPos::Center)))).map_err(draw_err)?;
            }
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_draws_positive_points_and_refuses_none() {
        let s = Series { name: "loss".into(), points: vec![(1.0, 10.0), (2.0, 1.0), (3.0, 0.0), (4.0, f64::NAN)] };
        let svg = log_lines("t", "epoch", "loss", &[s]).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("loss") && svg.contains("<polyline"), "{svg}");
        let none = Series { name: "zero".into(), points: vec![(1.0, 0.0)] };
        assert!(log_lines("t", "x", "y", &[none]).is_err());
    }

    #[test]
    fn confusion_writes_each_count_once() {
        let svg = confusion("c", &[5, 1, 0, 7], 2).unwrap();
        for v in ["5", "1", "7"] {
            assert!(svg.contains(&format!(">\n{v}\n</text>")), "{v} in {svg}");
        }
        assert!(confusion("c", &[1, 2, 3], 2).is_err());
    }

    #[test]
    fn scatter_and_bars_refuse_mismatched_input() {
        assert!(scatter("s", "x", "y", &[(0.0, 1.0), (1.0, 0.0)], &[0, 1]).unwrap().contains("<circle"));
        assert!(scatter("s", "x", "y", &[(0.0, f64::NAN)], &[0]).is_err());
        assert!(scatter("s", "x", "y", &[(0.0, 1.0)], &[]).is_err());
        let bars = grouped_bars("b", &["COIL-20".into()], &[("udll".into(), vec![Some(0.9)]), ("paper".into(), vec![Some(0.97)])]).unwrap();
        assert!(bars.contains("COIL-20") && bars.contains("paper"));
        assert!(grouped_bars("b", &["a".into()], &[("x".into(), vec![])]).is_err());
    }
}
