//! `omk proof show|rebuild|verify|export` and `omk key generate`: reading, checking and
//! exporting a goal's proof.

use std::{fmt::Write as _, path::Path};

use omk_attest::{Check, CheckStatus};
use omk_goal::{GoalPaths, RerunOptions, VerifyOptions};
use omk_proof::intoto::ExportOptions;

use crate::{
    args::{
        ExportFormat, KeyGenerateArgs, ProofExportArgs, ProofGoalArgs, ProofShowArgs,
        ProofVerifyArgs, ShowFormat,
    },
    commands::shared::{Context, SCHEMA_VERSION, gate_environment, parallelism},
    error::{CliError, ErrorKind, ExitCodes},
    json::{
        CheckDocument, ExportDocument, KeyDocument, ProofDiffDocument, RebuildDocument,
        VerifyDocument,
    },
    output::{self, paint, style},
    progress::ProgressMode,
};

pub(crate) fn run_proof_show(ctx: &Context, args: &ProofShowArgs) -> Result<u8, CliError> {
    let format = args.format.unwrap_or(if ctx.json { ShowFormat::Json } else { ShowFormat::Text });
    if let Some(since) = &args.since {
        let paths = omk_goal::find_goal(&ctx.dir, args.goal.as_deref())?;
        let (earlier, current) = omk_goal::proof_since(&paths, since)?;
        let diff = omk_proof::diff_proofs(&earlier, &current);
        let text = match format {
            ShowFormat::Json => crate::json::to_string(&ProofDiffDocument::new(
                paths.goal_id.as_str(),
                since,
                &diff,
            )),
            ShowFormat::Text | ShowFormat::Markdown => omk_proof::render_diff(&diff),
        };
        output::print_stdout(&text)?;
        return Ok(ExitCodes::SUCCESS);
    }
    let loaded = omk_goal::load_proof(&ctx.dir, args.goal.as_deref())?;
    let text = match format {
        ShowFormat::Json => crate::json::proof_show_json(&loaded.proof),
        ShowFormat::Markdown => omk_proof::render_markdown(&loaded.proof),
        ShowFormat::Text => format!(
            "{}\nevent log  {}\n",
            omk_proof::render_text(&loaded.proof),
            relative(&loaded.paths, &loaded.paths.events)
        ),
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

pub(crate) fn run_proof_rebuild(ctx: &Context, args: &ProofGoalArgs) -> Result<u8, CliError> {
    let paths = omk_goal::find_goal(&ctx.dir, args.goal.as_deref())?;
    let rebuild = match omk_goal::rebuild_proof(&paths) {
        Ok(rebuild) => rebuild,
        Err(err) if omk_goal::is_tampered_log(&err) => {
            return Err(CliError {
                kind: ErrorKind::NotReady,
                message: omk_events::error_chain(&err),
                hints: vec![
                    "`omk proof verify` checks the log, the artifacts and the proof".to_owned(),
                ],
            });
        }
        Err(err) => return Err(err.into()),
    };
    let text = if ctx.json {
        crate::json::to_string(&RebuildDocument::new(&paths, &rebuild))
    } else {
        let file = relative(&paths, &paths.proof);
        match (&rebuild.difference, rebuild.stored) {
            (_, false) => format!(
                "{file} is missing; the fold of the log is {} bytes (status {})\n",
                rebuild.proof.to_json().len(),
                rebuild.proof.status
            ),
            (None, true) => format!(
                "{file} is the fold of the log, byte for byte ({} bytes, {} events, status {})\n",
                rebuild.proof.to_json().len(),
                rebuild.proof.task.events,
                rebuild.proof.status
            ),
            (Some(difference), true) => format!("{}\n", difference.describe()),
        }
    };
    output::print_stdout(&text)?;
    Ok(if rebuild.identical() { ExitCodes::SUCCESS } else { ExitCodes::NOT_VERIFIED })
}

pub(crate) fn run_proof_verify(ctx: &Context, args: &ProofVerifyArgs) -> Result<u8, CliError> {
    if let (Some(bundle), Some(key)) = (&args.bundle, &args.key) {
        return verify_bundle(ctx, args, bundle, key);
    }
    let paths = omk_goal::find_goal(&ctx.dir, args.goal.as_deref())?;
    let environment = gate_environment();
    let rerun = args.rerun.then(|| RerunOptions {
        gate_environment: &environment,
        max_parallel: parallelism(args.jobs),
        config: &ctx.config_env,
        omk_binary: ctx.process_omk_binary(),
    });
    if rerun.is_some() && ctx.progress != ProgressMode::Off {
        output::progress(&format!(
            "re-running the gates of goal {} on its recorded tree, in a scratch worktree",
            paths.goal_id
        ));
    }
    let trust = omk_goal::load_trust(&paths.repo_root, &ctx.config_env)?;
    let options = VerifyOptions { rerun, trust: Some(&trust) };
    let verification =
        super::shared::runtime()?.block_on(omk_goal::verify_goal(&paths, &options))?;
    let verified = verification.verified();
    let text = if ctx.json {
        crate::json::to_string(&VerifyDocument {
            schema_version: SCHEMA_VERSION,
            goal_id: Some(paths.goal_id.to_string()),
            bundle: None,
            keyid: None,
            verified,
            checks: verification.checks.iter().map(CheckDocument::new).collect(),
        })
    } else {
        render_checks(&format!("goal {}", paths.goal_id), &verification.checks)
    };
    output::print_stdout(&text)?;
    Ok(if verified { ExitCodes::SUCCESS } else { ExitCodes::NOT_VERIFIED })
}

fn verify_bundle(
    ctx: &Context,
    args: &ProofVerifyArgs,
    bundle: &Path,
    key: &Path,
) -> Result<u8, CliError> {
    let bundle = ctx.resolve(bundle);
    let key = omk_attest::load_public_key(&ctx.resolve(key))?;
    let text = omk_attest::read_bundle(&bundle)?;
    let commit = match &args.commit {
        Some(revision) => Some(omk_goal::resolve_commit(&ctx.dir, revision)?),
        None => {
            let loaded = omk_goal::load_proof(&ctx.dir, args.goal.as_deref())?;
            let committed = loaded.proof.git.dirty == Some(false);
            Some(loaded.proof.git.head_commit.filter(|_| committed).ok_or_else(|| {
                CliError::usage(format!(
                    "goal {} recorded no commit to compare the bundle's verdict with; pass --commit REV",
                    loaded.proof.goal_id
                ))
            })?)
        }
    };
    let mut checks = omk_attest::verify_bundle(&text, &key, commit.as_deref(), args.require_passed);
    checks.extend(bundle_log_checks(ctx, args, &text)?);
    let verified = checks.iter().all(|it| it.status != CheckStatus::Failed);
    let out = if ctx.json {
        crate::json::to_string(&VerifyDocument {
            schema_version: SCHEMA_VERSION,
            goal_id: None,
            bundle: Some(bundle.clone()),
            keyid: Some(key.keyid().to_owned()),
            verified,
            checks: checks.iter().map(CheckDocument::new).collect(),
        })
    } else {
        let name = bundle.strip_prefix(&ctx.dir).unwrap_or(&bundle).display().to_string();
        render_checks(&format!("bundle {name}"), &checks)
    };
    output::print_stdout(&out)?;
    Ok(if verified { ExitCodes::SUCCESS } else { ExitCodes::NOT_VERIFIED })
}

/// Returns the checks of the log digest the bundle's verdict binds against the goal's log and
/// its anchors, or the warning that says why they were not made.
fn bundle_log_checks(
    ctx: &Context,
    args: &ProofVerifyArgs,
    text: &str,
) -> Result<Vec<Check>, CliError> {
    let Some(log) = omk_attest::bundle_log(text) else {
        return Ok(vec![Check::new(
            "log",
            CheckStatus::Warning,
            "the bundle's verdict records no log digest (it was exported by an omk before log anchors), so whether the log was cut short since is not checked".to_owned(),
        )]);
    };
    let goal = args.goal.clone().unwrap_or_else(|| log.goal_id.clone());
    let paths = match omk_goal::find_goal(&ctx.dir, Some(&goal)) {
        Ok(paths) if paths.goal_id.as_str() == log.goal_id => paths,
        Ok(paths) => {
            return Ok(vec![Check::new(
                "log",
                CheckStatus::Failed,
                format!("the bundle is about goal {}, not goal {}", log.goal_id, paths.goal_id),
            )]);
        }
        Err(omk_goal::Error::NoSuchGoal { .. } | omk_goal::Error::NoGoals { .. }) => {
            return Ok(vec![Check::new(
                "log",
                CheckStatus::Warning,
                format!(
                    "goal {}'s log is not in this repository, so the bundle's log digest ({} events) is not compared with it",
                    log.goal_id, log.events
                ),
            )]);
        }
        Err(err) => return Err(err.into()),
    };
    Ok(omk_goal::check_bundle_log(&paths, log.events, &log.head)?)
}

pub(crate) fn run_proof_export(ctx: &Context, args: &ProofExportArgs) -> Result<u8, CliError> {
    let loaded = omk_goal::load_proof(&ctx.dir, args.goal.as_deref())?;
    let paths = &loaded.paths;
    let (content, envelopes, keyid, format) = match args.format {
        ExportFormat::InToto => {
            let bundle = in_toto_bundle(
                ctx,
                &loaded.proof,
                args.sign_key.as_deref(),
                args.repo_uri.as_deref(),
            )?;
            (bundle.text, Some(bundle.envelopes), bundle.keyid, "in-toto")
        }
        ExportFormat::Markdown => {
            if args.sign_key.is_some() {
                return Err(CliError::usage(
                    "--sign-key signs in-toto bundles; use it with --format in-toto".to_owned(),
                ));
            }
            (omk_proof::render_markdown(&loaded.proof), None, None, "markdown")
        }
        ExportFormat::Html => {
            if args.sign_key.is_some() {
                return Err(CliError::usage(
                    "--sign-key signs in-toto bundles; use it with --format in-toto".to_owned(),
                ));
            }
            (omk_goal::render_report(paths)?, None, None, "html")
        }
    };
    let out = match (&args.out, args.format) {
        (Some(path), _) if path.as_os_str() == "-" => None,
        (Some(path), _) => Some(ctx.resolve(path)),
        (None, ExportFormat::InToto) => Some(in_toto_path(paths)),
        (None, ExportFormat::Html) => Some(paths.report.clone()),
        (None, ExportFormat::Markdown) => None,
    };
    let Some(out) = out else {
        output::print_stdout(&content)?;
        return Ok(ExitCodes::SUCCESS);
    };
    omk_attest::write_export(&out, content.as_bytes())?;
    let text = if ctx.json {
        crate::json::to_string(&ExportDocument {
            schema_version: SCHEMA_VERSION,
            goal_id: loaded.proof.goal_id.to_string(),
            format,
            out: out.clone(),
            bytes: content.len(),
            envelopes,
            keyid,
        })
    } else {
        let mut text = format!("wrote {}", relative(paths, &out));
        if let Some(envelopes) = envelopes {
            write!(text, ": {envelopes} DSSE envelopes").ok();
            match &keyid {
                Some(keyid) => write!(text, ", signed by key {keyid}").ok(),
                None => write!(text, ", unsigned (sign with --sign-key FILE)").ok(),
            };
        }
        text.push('\n');
        text
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

/// Returns the goal's in-toto bundle, its envelopes signed with `sign_key` when given: what
/// `omk proof export --format in-toto` writes, and `omk push --sign-key` before it pushes.
pub(crate) fn in_toto_bundle(
    ctx: &Context,
    proof: &omk_proof::Proof,
    sign_key: Option<&Path>,
    repo_uri: Option<&str>,
) -> Result<omk_attest::Bundle, CliError> {
    let key = sign_key.map(|it| omk_attest::load_signing_key(&ctx.resolve(it))).transpose()?;
    let options =
        ExportOptions { resource_uri: repo_uri.map(str::to_owned), ..ExportOptions::default() };
    Ok(omk_attest::export_bundle(proof, &options, key.as_ref())?)
}

/// Returns where a goal's in-toto bundle is kept: `proof.intoto.jsonl` beside its proof.
pub(crate) fn in_toto_path(paths: &GoalPaths) -> std::path::PathBuf {
    paths.bundle()
}

pub(crate) fn run_key_generate(ctx: &Context, args: &KeyGenerateArgs) -> Result<u8, CliError> {
    let path = match &args.file {
        Some(file) => ctx.resolve(file),
        None => {
            let root = omk_goal::find_repo_root(&ctx.dir)?;
            omk_goal::Layout::new(&root).default_signing_key()
        }
    };
    let files = omk_attest::generate_key(&path, args.force)?;
    let text = if ctx.json {
        crate::json::to_string(&KeyDocument {
            schema_version: SCHEMA_VERSION,
            private_key: files.private_key,
            public_key: files.public_key,
            keyid: files.keyid,
        })
    } else {
        let show = |it: &Path| it.strip_prefix(&ctx.dir).unwrap_or(it).display().to_string();
        format!(
            "private key  {} (PKCS#8 PEM, mode 0600; keep it secret)\npublic key   {} (SubjectPublicKeyInfo PEM)\nkey id       {}\n",
            show(&files.private_key),
            show(&files.public_key),
            files.keyid
        )
    };
    output::print_stdout(&text)?;
    Ok(ExitCodes::SUCCESS)
}

/// Returns the checks as lines (status, name, message), then the verdict.
fn render_checks(subject: &str, checks: &[Check]) -> String {
    let mut text = String::new();
    for check in checks {
        let (status, style) = match check.status {
            CheckStatus::Passed => ("ok", style::GOOD),
            CheckStatus::Failed => ("FAILED", style::BAD),
            CheckStatus::Skipped => ("skipped", style::DIM),
            CheckStatus::Warning => ("warning", style::WAIT),
        };
        let status = paint(style, &format!("{status:<7}"));
        writeln!(text, "{status} {}: {}", check.name, check.message).ok();
    }
    let failed = checks.iter().filter(|it| it.status == CheckStatus::Failed).count();
    let warned = checks.iter().filter(|it| it.status == CheckStatus::Warning).count();
    if failed == 0 && warned > 0 {
        // Verified, but not as far as the warnings say: the verdict must not claim more.
        let verified = paint(style::WAIT.bold(), "verified with warnings");
        let noun = if warned == 1 { "warning" } else { "warnings" };
        writeln!(text, "{subject}: {verified} ({} checks, {warned} {noun})", checks.len()).ok();
    } else if failed == 0 {
        let verified = paint(style::GOOD.bold(), "verified");
        writeln!(text, "{subject}: {verified} ({} checks)", checks.len()).ok();
    } else {
        let not = paint(style::BAD, "NOT verified");
        writeln!(text, "{subject}: {not} ({failed} of {} checks failed)", checks.len()).ok();
    }
    text
}

fn relative(paths: &GoalPaths, path: &Path) -> String {
    path.strip_prefix(&paths.repo_root).unwrap_or(path).display().to_string()
}
