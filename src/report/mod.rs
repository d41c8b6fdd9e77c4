//! Self-contained HTML reports: sections of text, tables and figures, the
//! figures inline (SVG and PNG as data URIs) so that the one file opens
//! offline in any browser, and each figure also written as its own file.
//!
//! This layer draws and assembles; what goes into a report is decided by
//! `app::report`.

pub mod charts;
pub mod raster;

use crate::error::{Result, UdllError};
use crate::io::write_atomic;
use base64::Engine;
use std::fmt::Write;
use std::path::Path;

/// A figure's content.
pub enum Image {
    /// SVG text.
    Svg(String),
    /// PNG bytes.
    Png(Vec<u8>),
}

/// A figure: a file name (without extension, unique in a report), its
/// content, and the sentence under it.
pub struct Figure {
    /// The file stem under `figures/`.
    pub name: String,
    /// The picture.
    pub image: Image,
    /// The caption.
    pub caption: String,
    /// Width to show it at in CSS pixels, scaled without smoothing (a heat
    /// map of a few hundred pixels); None: its natural size.
    pub show_width: Option<u32>,
}

impl Figure {
    /// The file name under `figures/`.
    pub fn file_name(&self) -> String {
        match self.image {
            Image::Svg(_) => format!("{}.svg", self.name),
            Image::Png(_) => format!("{}.png", self.name),
        }
    }

    fn data_uri(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        match &self.image {
            Image::Svg(s) => format!("data:image/svg+xml;base64,{}", b64.encode(s.as_bytes())),
            Image::Png(p) => format!("data:image/png;base64,{}", b64.encode(p)),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.image {
            Image::Svg(s) => s.as_bytes(),
            Image::Png(p) => p,
        }
    }
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A block of a section.
enum Block {
    Text(String),
    Table { head: Vec<String>, rows: Vec<Vec<String>> },
    Figures(Vec<Figure>),
}

/// A section: an id (the anchor), a heading and its blocks.
pub struct Section {
    id: String,
    title: String,
    blocks: Vec<Block>,
}

impl Section {
    /// A section with the anchor `id` and the heading `title`.
    pub fn new(id: &str, title: &str) -> Self {
        Section { id: id.into(), title: title.into(), blocks: Vec::new() }
    }

    /// A paragraph of plain text.
    pub fn text(mut self, t: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(t.into()));
        self
    }

    /// A table of plain-text cells.
    pub fn table(mut self, head: &[&str], rows: Vec<Vec<String>>) -> Self {
        self.blocks.push(Block::Table { head: head.iter().map(|s| s.to_string()).collect(), rows });
        self
    }

    /// A row of figures.
    pub fn figures(mut self, figs: Vec<Figure>) -> Self {
        if !figs.is_empty() {
            self.blocks.push(Block::Figures(figs));
        }
        self
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:0.92em;vertical-align:top}\
th{background:#f4f4f4}td.mono{font-family:monospace;word-break:break-all}\
figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}figcaption{font-size:0.88em;color:#444;max-width:760px}\
img{max-width:100%}img.px{image-rendering:pixelated}nav a{margin-right:12px}";

/// A report being assembled.
pub struct Page {
    title: String,
    sections: Vec<Section>,
}

impl Page {
    /// An empty report with a title.
    pub fn new(title: &str) -> Self {
        Page { title: title.into(), sections: Vec::new() }
    }

    /// Append a section.
    pub fn push(&mut self, s: Section) {
        self.sections.push(s);
    }

    /// The HTML text, figures inline.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(&self.title)
        );
        let _ = writeln!(h, "<h1>{}</h1>", esc(&self.title));
        h += "<nav>";
        for s in &self.sections {
            let _ = write!(h, "<a href=\"#{}\">{}</a>", esc(&s.id), esc(&s.title));
        }
        h += "</nav>\n";
        for s in &self.sections {
            let _ = writeln!(h, "<section id=\"{}\">\n<h2>{}</h2>", esc(&s.id), esc(&s.title));
            for b in &s.blocks {
                match b {
                    Block::Text(t) => {
                        let _ = writeln!(h, "<p>{}</p>", esc(t));
                    }
                    Block::Table { head, rows } => {
                        h += "<table>";
                        if head.iter().any(|c| !c.is_empty()) {
                            h += "<tr>";
                            for c in head {
                                let _ = write!(h, "<th>{}</th>", esc(c));
                            }
                            h += "</tr>\n";
                        }
                        for r in rows {
                            h += "<tr>";
                            for c in r {
                                let class = if c.len() > 40 && !c.contains(' ') { " class=\"mono\"" } else { "" };
                                let _ = write!(h, "<td{class}>{}</td>", esc(c));
                            }
                            h += "</tr>\n";
                        }
                        h += "</table>\n";
                    }
                    Block::Figures(figs) => {
                        for f in figs {
                            let class = match f.show_width {
                                Some(w) => format!(" class=\"px\" style=\"width:{w}px\""),
                                None => String::new(),
                            };
                            let _ = writeln!(
                                h,
                                "<figure id=\"fig-{}\"><img{class} src=\"{}\" alt=\"{}\"><figcaption>{} <a href=\"figures/{}\">(file)</a></figcaption></figure>",
                                esc(&f.name),
                                f.data_uri(),
                                esc(&f.caption),
                                esc(&f.caption),
                                esc(&f.file_name())
                            );
                        }
                    }
                }
            }
            h += "</section>\n";
        }
        h += "</body>\n</html>\n";
        h
    }

    /// Every figure of the report, in order.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections.iter().flat_map(|s| s.blocks.iter()).flat_map(|b| match b {
            Block::Figures(f) => f.as_slice(),
            _ => &[],
        })
    }

    /// Write each figure under `dir/figures/`, then `dir/report.html` (each
    /// file atomically; the page last, so a failure never leaves a page
    /// whose figures are not those it shows). Returns the page's path.
    pub fn write(&self, dir: &Path) -> Result<std::path::PathBuf> {
        let figs = dir.join("figures");
        std::fs::create_dir_all(&figs).map_err(|e| UdllError::io(&figs, e))?;
        for f in self.figures() {
            write_atomic(&figs.join(f.file_name()), f.bytes())?;
        }
        let page = dir.join("report.html");
        write_atomic(&page, self.html().as_bytes())?;
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_escapes_text_and_inlines_figures() {
        let mut p = Page::new("run <1>");
        p.push(Section::new("metrics", "Metrics").text("a < b & c").table(&["k", "v"], vec![vec!["acc".into(), "0.9".into()]]).figures(vec![Figure {
            name: "f".into(),
            image: Image::Svg("<svg xmlns=\"http://www.w3.org/2000/svg\"/>".into()),
            caption: "x \"y\"".into(),
            show_width: None,
        }]));
        let h = p.html();
        assert!(h.contains("<title>run &lt;1&gt;</title>"));
        assert!(h.contains("<p>a &lt; b &amp; c</p>"));
        assert!(h.contains("src=\"data:image/svg+xml;base64,"));
        assert!(h.contains("x &quot;y&quot;"));
        assert!(h.contains("<section id=\"metrics\">"));
        assert_eq!(p.figures().count(), 1);
    }
}
