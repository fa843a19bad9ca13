//! The HTML report in a real browser: headless Chromium, driven over the DevTools protocol on a
//! pipe (`--remote-debugging-pipe`: commands on its fd 3, replies on its fd 4, each a JSON
//! message ended by a NUL byte), so no network port is opened.
//!
//! The reports of the demo goal, a failing goal and a team goal load without a console error
//! or a Content-Security-Policy violation, show the verdict and the timeline in the first
//! screen, name every gate and changed file, switch to dark colors on request and print to PDF.
//! `scripts/install-chromium.sh` installs the browser (`cargo xtask ci` runs it and sets
//! `OMK_CHROMIUM` and `OMK_REQUIRE_CHROMIUM=1`); without it these tests say so on stderr and
//! pass, unless `OMK_REQUIRE_CHROMIUM` is set; `OMK_SKIP_REAL=chromium` skips them, loudly. With `OMK_UPDATE_SCREENSHOTS=1` the demo goal's screenshots
//! are written to `docs/report-demo-light.png` and `docs/report-demo-dark.png`.

use std::{
    env, fs,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::{LIB_SH, OMK_TOML, TEST_SH, TestEnv};

/// The first screen the checks speak of.
const VIEWPORT: (u32, u32) = (1280, 800);

/// Returns the Chromium to test with, or `None` (after saying why) when it is skipped or not
/// installed and not required.
fn chromium() -> anyhow::Result<Option<PathBuf>> {
    crate::real_client::CHROMIUM.find()
}

/// A headless Chromium and one page of it, driven over the DevTools pipe.
struct Browser {
    child: Child,
    commands: ChildStdin,
    replies: mpsc::Receiver<Value>,
    next_id: u64,
    session: String,
    /// Every event received, oldest first.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &Path) -> anyhow::Result<Self> {
        let profile = tempfile::tempdir()?;
        // The shell gives the browser its pipe on fds 3 and 4 (without code run between fork
        // and exec in this process): its stdin becomes fd 3 and its stdout fd 4.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>&2")
            .arg(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let commands = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin pipe"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout pipe"))?;
        let (sender, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    break;
                }
                message.clear();
            }
        });
        let mut browser = Self {
            child,
            commands,
            replies,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}))?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_owned();
        let attached = browser
            .call("Target.attachToTarget", json!({"targetId": target_id, "flatten": true}))?;
        browser.session = attached["sessionId"].as_str().unwrap_or_default().to_owned();
        anyhow::ensure!(!browser.session.is_empty(), "no session: {attached}");
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({}))?;
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": VIEWPORT.0, "height": VIEWPORT.1, "deviceScaleFactor": 1, "mobile": false}),
        )?;
        Ok(browser)
    }

    /// Sends `method` (to the page once attached) and returns its result.
    fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message)?;
        bytes.push(0);
        self.commands.write_all(&bytes)?;
        self.commands.flush()?;
        loop {
            let reply = self
                .replies
                .recv_timeout(Duration::from_secs(60))
                .map_err(|err| anyhow::anyhow!("no reply to {method}: {err}"))?;
            if reply["id"] == id {
                anyhow::ensure!(reply.get("error").is_none(), "{method} failed: {reply}");
                return Ok(reply["result"].clone());
            }
            self.events.push(reply);
        }
    }

    /// Waits for the event `method`, returning it; events before it are kept.
    fn wait_for(&mut self, method: &str) -> anyhow::Result<Value> {
        if let Some(idx) = self.events.iter().position(|it| it["method"] == method) {
            return Ok(self.events.remove(idx));
        }
        loop {
            let event = self
                .replies
                .recv_timeout(Duration::from_secs(60))
                .map_err(|err| anyhow::anyhow!("no {method}: {err}"))?;
            if event["method"] == method {
                return Ok(event);
            }
            self.events.push(event);
        }
    }

    /// Loads `page` and waits for its load event; forgets earlier events.
    fn load(&mut self, page: &Path) -> anyhow::Result<()> {
        self.events.clear();
        let url = format!("file://{}", page.display());
        self.call("Page.navigate", json!({"url": url}))?;
        self.wait_for("Page.loadEventFired")?;
        // A round trip, so events the load caused have arrived.
        self.evaluate("document.readyState")?;
        Ok(())
    }

    /// Evaluates `expression` in the page (DevTools code, which the page's policy does not
    /// govern) and returns its value.
    fn evaluate(&mut self, expression: &str) -> anyhow::Result<Value> {
        let result = self
            .call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true}))?;
        anyhow::ensure!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        Ok(result["result"]["value"].clone())
    }

    /// Returns the console errors, exceptions and errors logged (a CSP violation is one) since
    /// the page loaded.
    fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|event| match event["method"].as_str() {
                Some("Runtime.consoleAPICalled") => event["params"]["type"] == "error",
                Some("Runtime.exceptionThrown") => true,
                Some("Log.entryAdded") => event["params"]["entry"]["level"] == "error",
                _ => false,
            })
            .map(ToString::to_string)
            .collect()
    }

    fn color_scheme(&mut self, scheme: &str) -> anyhow::Result<()> {
        self.call(
            "Emulation.setEmulatedMedia",
            json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
        )?;
        Ok(())
    }

    /// Returns a PNG of the first screen.
    fn screenshot(&mut self) -> anyhow::Result<Vec<u8>> {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        Ok(STANDARD.decode(shot["data"].as_str().unwrap_or_default())?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// What a report must show of its proof, checked in the browser.
fn check_report(browser: &mut Browser, report: &Path, proof: &Value) -> anyhow::Result<()> {
    browser.load(report)?;
    let errors = browser.errors();
    anyhow::ensure!(errors.is_empty(), "{}: console errors: {errors:#?}", report.display());
    // No script runs and no image loads: escaped text stays text.
    let counts = browser.evaluate(
        "[document.scripts.length, document.images.length, document.querySelectorAll('iframe,object,embed').length]",
    )?;
    assert_eq!(counts, json!([0, 0, 0]), "{}", report.display());

    // The verdict and the timeline are in the first screen.
    let boxes = browser.evaluate(
        "(() => { const box = (el) => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, r.width, r.height]; };
          return { verdict: box(document.getElementById('verdict')),
                   status: box(document.querySelector('#verdict .status')),
                   timeline: box(document.querySelector('#timeline svg')),
                   screen: [innerWidth, innerHeight] }; })()",
    )?;
    let number = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    let screen_height = number(&boxes["screen"][1]);
    let status_bottom = number(&boxes["status"][1]);
    let timeline_top = number(&boxes["timeline"][0]);
    let timeline_height = number(&boxes["timeline"][3]);
    assert!(status_bottom > 0.0 && status_bottom < screen_height, "the verdict: {boxes}");
    assert!(timeline_height > 40.0, "the timeline is drawn: {boxes}");
    assert!(
        timeline_top + 40.0 < screen_height,
        "the timeline starts in the first screen: {boxes}"
    );
    let verdict_text = browser.evaluate("document.querySelector('#verdict .status').innerText")?;
    let status = proof["status"].as_str().unwrap_or_default().replace('_', " ");
    let word = verdict_text.as_str().unwrap_or_default();
    assert!(
        word.contains(if status == "ready" { "ready" } else { &status[..3] }),
        "{word} for {status}"
    );

    // Every gate and every changed file of the proof is named.
    let gates = browser.evaluate(
        "Array.from(document.querySelectorAll('#gates details > summary b')).map(it => it.textContent)",
    )?;
    for gate in proof["gates"].as_array().into_iter().flatten() {
        let name = &gate["name"];
        assert!(gates.as_array().is_some_and(|it| it.contains(name)), "gate {name} in {gates}");
    }
    let files = browser.evaluate(
        "Array.from(document.querySelectorAll('#changes details.file > summary')).map(it => Array.from(it.querySelectorAll('code')).pop().textContent)",
    )?;
    for file in proof["changed_files"].as_array().into_iter().flatten() {
        let path = &file["path"];
        assert!(files.as_array().is_some_and(|it| it.contains(path)), "file {path} in {files}");
    }

    // Dark colors on request, and back.
    let background = "getComputedStyle(document.body).backgroundColor";
    let light = browser.evaluate(background)?;
    browser.color_scheme("dark")?;
    let dark = browser.evaluate(background)?;
    browser.color_scheme("light")?;
    assert_ne!(light, dark, "prefers-color-scheme: dark changes the page's colors");

    // It prints.
    let pdf = browser.call("Page.printToPDF", json!({"printBackground": true}))?;
    let pdf = STANDARD.decode(pdf["data"].as_str().unwrap_or_default())?;
    assert!(pdf.starts_with(b"%PDF-") && pdf.len() > 2_000, "a PDF of {} bytes", pdf.len());
    Ok(())
}

/// Returns the one goal of `repo`: its id, report and proof.
fn only_goal(repo: &Path) -> anyhow::Result<(PathBuf, Value)> {
    let goals: Vec<PathBuf> =
        fs::read_dir(repo.join(".omk/goals"))?.filter_map(Result::ok).map(|it| it.path()).collect();
    anyhow::ensure!(goals.len() == 1, "one goal in {}: {goals:?}", repo.display());
    let proof: Value = serde_json::from_str(&fs::read_to_string(goals[0].join("proof.json"))?)?;
    Ok((goals[0].join("report.html"), proof))
}

#[test]
fn the_demo_goal_s_report_renders_in_a_browser() -> anyhow::Result<()> {
    let Some(chromium) = chromium()? else { return Ok(()) };
    let env = TestEnv::new()?;
    let dir = env.root().join("demo");
    let output = env.omk(env.root(), &["demo", "--dir", dir.to_str().unwrap_or_default()])?;
    anyhow::ensure!(output.code == Some(0), "{output}");
    let repo = dir.join("calc");
    let (report, proof) = only_goal(&repo)?;
    assert!(
        output.stdout.contains(&report.display().to_string()),
        "demo prints the report: {output}"
    );

    let mut browser = Browser::start(&chromium)?;
    check_report(&mut browser, &report, &proof)?;
    browser.load(&report)?;
    let light = browser.screenshot()?;
    browser.color_scheme("dark")?;
    let dark = browser.screenshot()?;
    for shot in [&light, &dark] {
        assert!(shot.starts_with(b"\x89PNG\r\n\x1a\n") && shot.len() > 20_000, "a PNG of the page");
    }
    assert_ne!(light, dark);
    if env::var_os("OMK_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        fs::write(docs.join("report-demo-light.png"), &light)?;
        fs::write(docs.join("report-demo-dark.png"), &dark)?;
    }
    Ok(())
}

/// An agent that does not fix `add`, and writes a file whose name is markup.
const NO_FIX_AGENT: &str = "printf 'not a fix\\n' > '<img src=x onerror=alert(1)>.txt'\n";
/// A test gate that prints markup when it fails.
const LOUD_TEST_SH: &str = ". ./lib.sh\n[ \"$(add 2 3)\" = 5 ] || { echo '</script><img src=x onerror=alert(1)>'; \
     echo '0 passed, 1 failed'; exit 1; }\necho '1 passed, 0 failed'\n";

#[test]
fn a_failing_goal_s_report_shows_its_markup_as_text() -> anyhow::Result<()> {
    let Some(chromium) = chromium()? else { return Ok(()) };
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", LOUD_TEST_SH), ("omk.toml", OMK_TOML)])?;
    let agent = env.write("agent.sh", NO_FIX_AGENT)?;
    let agent = format!("cmd:sh {}", agent.display());
    let output = env.omk(&repo, &["run", "Fix add", "--agent", &agent, "--html"])?;
    assert_eq!(output.code, Some(1), "the goal is not ready: {output}");
    let (report, proof) = only_goal(&repo)?;
    assert!(output.stdout.contains("report "), "run --html names the report: {output}");
    assert_eq!(proof["status"], "not_ready");

    let mut browser = Browser::start(&chromium)?;
    check_report(&mut browser, &report, &proof)?;
    let text = browser.evaluate("document.body.innerText")?;
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("</script><img src=x onerror=alert(1)>"), "the gate's output, as text");
    assert!(text.contains("<img src=x onerror=alert(1)>.txt"), "the file's name, as text");
    assert!(text.contains("required gate unit failed"), "why it is not ready");
    Ok(())
}

/// A team goal's agent: writes `NAME.txt` for each `- NAME` item of its prompt, BAD for `bad`.
const TEAM_AGENT_SH: &str = "grep '^- ' \"$OMK_PROMPT_FILE\" | sed 's/^- //' | while read -r name; do\n\
     if [ \"$name\" = bad ]; then echo BAD > bad.txt; else echo \"made by $name\" > \"$name.txt\"; fi\n\
     done\n";
/// The team's gate: fails when a `.txt` file says BAD.
const TEAM_CHECK_SH: &str = "n=0\nfor f in *.txt; do grep -q BAD \"$f\" && { echo \"$f is BAD\"; \
     echo \"$n passed, 1 failed\"; exit 1; }; n=$((n + 1)); done\necho \"$n passed, 0 failed\"\n";
const TEAM_OMK_TOML: &str =
    "[[gates]]\nname = \"check\"\nkind = \"test\"\ncommand = \"sh check.sh\"\n";

#[test]
fn a_team_goal_s_report_draws_its_slices_and_merge_queue() -> anyhow::Result<()> {
    let Some(chromium) = chromium()? else { return Ok(()) };
    let env = TestEnv::new()?;
    let repo = env.repo(
        "repo",
        &[("check.sh", TEAM_CHECK_SH), ("base.txt", "base\n"), ("omk.toml", TEAM_OMK_TOML)],
    )?;
    let agent = env.write("agent.sh", TEAM_AGENT_SH)?;
    let agent = format!("cmd:sh {}", agent.display());
    let prompt = "Write the files:\n- alpha\n- bad\n- gamma\n";
    let output = env.omk(&repo, &["run", prompt, "--slices", "3", "--agent", &agent, "--html"])?;
    let (report, proof) = only_goal(&repo)?;
    anyhow::ensure!(proof.get("team").is_some(), "a team goal: {output}");

    let mut browser = Browser::start(&chromium)?;
    check_report(&mut browser, &report, &proof)?;
    // One lane per slice and one for the merge queue, with the reverted batch and the slice
    // that broke the gate taken out.
    let lanes = browser.evaluate(
        "Array.from(document.querySelectorAll('#timeline svg > text:not(.dim)')).map(it => it.textContent)",
    )?;
    for slice in proof["team"]["slices"].as_array().into_iter().flatten() {
        let lane = slice["id"].clone();
        assert!(lanes.as_array().is_some_and(|it| it.contains(&lane)), "{lane} in {lanes}");
    }
    assert!(lanes.as_array().is_some_and(|it| it.contains(&json!("merge queue"))), "{lanes}");
    let titles = browser.evaluate(
        "Array.from(document.querySelectorAll('#timeline svg title')).map(it => it.textContent).join('\\n')",
    )?;
    let titles = titles.as_str().unwrap_or_default();
    assert!(titles.contains("reverted"), "a reverted batch: {titles}");
    assert!(titles.contains("taken out"), "the slice that broke the gate: {titles}");
    Ok(())
}

#[test]
fn the_browser_check_catches_a_policy_violation() -> anyhow::Result<()> {
    let Some(chromium) = chromium()? else { return Ok(()) };
    let dir = tempfile::tempdir()?;
    // A page under the report's policy that tries to run a script: the check must see it.
    let page = dir.path().join("violation.html");
    fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"></head><body><script>document.title = 'ran'</script></body></html>",
    )?;
    let mut browser = Browser::start(&chromium)?;
    browser.load(&page)?;
    assert_ne!(browser.evaluate("document.title")?, json!("ran"), "the policy blocked the script");
    let errors = browser.errors();
    assert!(
        errors.iter().any(|it| it.contains("Content Security Policy")),
        "the violation is reported: {errors:#?} {:#?}",
        browser.events
    );
    Ok(())
}

#[test]
fn proof_export_writes_the_report_beside_the_proof_or_to_stdout() -> anyhow::Result<()> {
    let env = TestEnv::new()?;
    let repo =
        env.repo("repo", &[("lib.sh", LIB_SH), ("test.sh", TEST_SH), ("omk.toml", OMK_TOML)])?;
    let scenario = env.write("fix.scenario", crate::FIX_ADD)?;
    let agent = format!("script:{}", scenario.display());
    let output = env.omk(&repo, &["run", "Fix add", "--agent", &agent])?;
    assert_eq!(output.code, Some(0), "{output}");
    let (report, proof) = only_goal(&repo)?;
    assert!(!report.exists(), "no report until one is asked for");
    assert!(!output.stdout.contains("report "), "{output}");

    let output = env.omk(&repo, &["proof", "export", "--format", "html"])?;
    assert_eq!(output.code, Some(0), "{output}");
    let goal = proof["goal_id"].as_str().unwrap_or_default();
    assert_eq!(output.stdout, format!("wrote .omk/goals/{goal}/report.html\n"));
    let page = fs::read_to_string(&report)?;
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<b>unit</b>"), "{page}");

    let output = env.omk(&repo, &["proof", "export", "--format", "html", "--out", "-"])?;
    assert_eq!(output.stdout, page, "stdout gets the same page");
    let output =
        env.omk(&repo, &["proof", "export", "--format", "html", "--sign-key", "key.pem"])?;
    assert_eq!(output.code, Some(2), "{output}");
    assert!(output.stderr.contains("--sign-key signs in-toto bundles"), "{output}");
    Ok(())
}
