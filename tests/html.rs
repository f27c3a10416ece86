//! The HTML report in a real browser: Debian's headless Chromium (installed by
//! `scripts/test`) renders the weak and hardened examples; the DOM it builds must show
//! the score and every failing rule and no markup from a hostile name, and its
//! screenshot must not be blank. `UPDATE_DOCS=1` keeps the screenshots in `docs/`,
//! with one of the terminal report beside them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{code, failing_rules, scratch, seaworthy, seaworthy_with, stderr, stdout, write};

const WEAK: &str = "testdata/clusters/weak";
const HARDENED: &str = "testdata/clusters/hardened";

/// Runs headless Chromium with the flags CI machines need and a profile of its own;
/// nothing it loads leaves the machine (the page is a local file and asks for nothing).
fn chromium(args: &[&str]) -> std::process::Output {
    let profile = scratch();
    let output = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("chromium runs (scripts/test installs Debian's chromium)");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// The HTML report of `manifests`, written to `dir/name`.
fn html_report(dir: &Path, manifests: &str, name: &str) -> PathBuf {
    let path = dir.join(name);
    let output =
        seaworthy(&["scan", "--manifests", manifests, "-o", "html", "--output-file", path.to_str().expect("UTF-8")]);
    assert!(matches!(code(&output), 0 | 1), "{}", stderr(&output));
    path
}

fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The DOM Chromium built from the page, serialised.
fn dom(path: &Path) -> String {
    String::from_utf8(chromium(&["--dump-dom", &url(path)]).stdout).expect("the DOM is UTF-8")
}

/// A screenshot of the page at `width`×`height`, as PNG bytes.
fn screenshot(path: &Path, width: u32, height: u32) -> Vec<u8> {
    let dir = scratch();
    let png = dir.path().join("shot.png");
    chromium(&[
        &format!("--window-size={width},{height}"),
        "--hide-scrollbars",
        &format!("--screenshot={}", png.display()),
        &url(path),
    ]);
    std::fs::read(&png).expect("chromium wrote the screenshot")
}

/// Fails unless the PNG shows something: many colours, and much of it not background.
fn assert_not_blank(png: &[u8], what: &str) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    let channels = frame.color_type.samples();
    let pixels = &pixels[..frame.buffer_size()];
    let background = &pixels[..channels];
    let mut colours = std::collections::BTreeSet::new();
    let mut drawn = 0usize;
    for pixel in pixels.chunks(channels) {
        colours.insert(pixel.to_vec());
        drawn += usize::from(pixel != background);
    }
    let total = pixels.len() / channels;
    assert!(colours.len() > 50, "{what}: {} colours: blank?", colours.len());
    assert!(drawn * 20 > total, "{what}: only {drawn} of {total} pixels differ from the background");
}

/// Keeps `png` as `docs/NAME` with `UPDATE_DOCS=1`; else the kept one must exist and
/// show something (screenshots differ by fonts, so they are not compared).
fn keep_in_docs(png: &[u8], name: &str) {
    let path = support::repo().join("docs").join(name);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, png).expect("the screenshot is kept");
        return;
    }
    let kept = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("docs/{name} is missing: run UPDATE_DOCS=1 cargo nextest run --test html"));
    assert_not_blank(&kept, &format!("docs/{name}"));
}

#[test]
fn the_weak_example_renders_its_score_and_every_failing_rule() {
    let dir = scratch();
    let page = html_report(dir.path(), WEAK, "weak.html");
    let dom = dom(&page);
    assert!(dom.contains("class=\"grade grade-F\">F<"), "the grade");
    assert!(dom.contains("<span class=\"number\">0.0</span>"), "the score");
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&seaworthy(&["scan", "--manifests", WEAK, "-o", "json"]))).expect("JSON");
    let failing = failing_rules(&report);
    assert!(failing.len() > 50, "the weak example fails many rules");
    for rule in &failing {
        assert!(dom.contains(&format!("id=\"rule-{rule}\"")), "{rule} is shown");
    }
    // The attack paths, each as a chain of its steps.
    let paths = report["attackPaths"].as_array().expect("attackPaths").len();
    assert!(paths > 0 && dom.contains("id=\"attack-paths\""), "the paths section");
    assert_eq!(dom.matches("<ol class=\"chain\">").count(), paths, "one chain per path");
    let png = screenshot(&page, 1280, 1600);
    assert_not_blank(&png, "the weak report");
    keep_in_docs(&png, "html-report-weak.png");
}

#[test]
fn the_hardened_example_renders_grade_a_and_no_finding() {
    let dir = scratch();
    let page = html_report(dir.path(), HARDENED, "hardened.html");
    let dom = dom(&page);
    assert!(dom.contains("class=\"grade grade-A\">A<"), "the grade");
    assert!(dom.contains("<span class=\"number\">100.0</span>"), "the score");
    assert!(dom.contains("No failing rules."));
    assert!(!dom.contains("id=\"rule-"), "no failing rule block");
    // On a phone's width the page is one column and still shows something.
    let png = screenshot(&page, 390, 1400);
    assert_not_blank(&png, "the hardened report on a phone");
    // It prints: Chromium makes a PDF of several pages of it.
    let dir = scratch();
    let pdf = dir.path().join("report.pdf");
    chromium(&["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display()), &url(&page)]);
    let pdf = std::fs::read(&pdf).expect("chromium printed the page");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let pages = pdf
        .windows(b"/Type /Page\n".len())
        .filter(|window| window.starts_with(b"/Type /Page") && !window.starts_with(b"/Type /Pages"))
        .count();
    assert!(pages >= 2, "{pages} page(s)");
    let png = screenshot(&page, 1280, 1600);
    keep_in_docs(&png, "html-report-hardened.png");
}

#[test]
fn a_hostile_name_stays_text_and_the_page_asks_for_nothing() {
    let dir = scratch();
    let hostile = "x<img src=x onerror=\\\"document.title='owned'\\\"><script>document.title='owned'</script>";
    let pod = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {{\"name\": \"{hostile}\", \"namespace\": \"app\"}}, \"spec\": {{\"containers\": [{{\"name\": \"c\", \"image\": \"web:1\", \"securityContext\": {{\"privileged\": true}}}}]}}}}\n"
    );
    let manifests = write(dir.path(), "pod.yaml", &pod);
    let page = html_report(dir.path(), manifests.to_str().expect("UTF-8"), "hostile.html");
    let html = std::fs::read_to_string(&page).expect("the page");
    let dom = dom(&page);
    // The name is shown as text; no element came of it, and its script never ran.
    assert!(dom.contains("x&lt;img src=x onerror="), "the name is shown escaped");
    assert!(!dom.contains("<img"), "no image element");
    assert_eq!(dom.matches("<script>").count(), 1, "only the page's own script");
    assert!(dom.contains("<title>seaworthy: manifests"), "the title is the page's");
    // Self-contained: no stylesheet, script, image, font or frame from anywhere.
    for asks in [
        "<link",
        "<script src",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<source",
        "<video",
        "<audio",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(asks), "the page asks for something: {asks}");
    }
    // Control: the same name in the JSON report is the raw text.
    let json =
        stdout(&seaworthy_with(&["scan", "--manifests", manifests.to_str().expect("UTF-8"), "-o", "json"], &[], None));
    assert!(json.contains("x<img src=x onerror="), "{json}");
}

/// The weak example's terminal report at 80 columns in colour, drawn as a terminal
/// would (ANSI styles as spans) and kept as `docs/terminal-report.png`.
#[test]
fn the_terminal_report_screenshot_shows_the_report() {
    let output = seaworthy_with(&["scan", "--manifests", WEAK], &[("COLUMNS", "80")], None);
    let text = stdout(&output);
    // The colour a terminal would show: the same report rendered with colour on.
    let coloured = support::terminal::coloured_terminal_report(WEAK, 80);
    assert_eq!(support::terminal::unstyled(&coloured), text, "the screenshot shows what the terminal shows");
    let lines: String = coloured.lines().take(60).collect::<Vec<_>>().join("\n");
    let dir = scratch();
    let page = dir.path().join("terminal.html");
    std::fs::write(&page, support::terminal::ansi_page(&lines)).expect("the page");
    let png = screenshot(&page, 780, 1160);
    assert_not_blank(&png, "the terminal report");
    keep_in_docs(&png, "terminal-report.png");
}
